package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jbond.serving.triton.proto.InferTensorContents;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TritonTensorsTest {

  @Test
  void setInputs_oneRawEntryPerInputInOrder_noTypedContents() {
    ModelInferRequest request =
        TritonTensors.setInputs(
                ModelInferRequest.newBuilder().setModelName("policy"),
                List.of(
                    TritonTensor.ofInt32("input_ids", new long[] {1, 3}, 5, 6, 7),
                    TritonTensor.ofFp32("temperature", new long[] {1, 1}, 0.7f),
                    TritonTensor.ofBools("return_log_probs", new long[] {1, 1}, true)))
            .build();

    assertEquals(3, request.getRawInputContentsCount());
    assertEquals("input_ids", request.getInputs(0).getName());
    assertEquals("FP32", request.getInputs(1).getDatatype());
    assertEquals(List.of(1L, 3L), request.getInputs(0).getShapeList());
    assertTrue(
        request.getInputsList().stream()
            .noneMatch(ModelInferRequest.InferInputTensor::hasContents));
    assertEquals(ByteString.copyFrom(new byte[] {1}), request.getRawInputContents(2));
    Map<String, TritonTensor> back = TritonTensors.inputs(request);
    assertEquals(
        List.of("input_ids", "temperature", "return_log_probs"), List.copyOf(back.keySet()));
    assertArrayEquals(new int[] {5, 6, 7}, back.get("input_ids").toInts());
  }

  @Test
  void setInputs_duplicateNames_rejected() {
    TritonTensor a = TritonTensor.ofInt32("a", new long[] {1}, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TritonTensors.setInputs(ModelInferRequest.newBuilder(), List.of(a, a)));
    assertEquals("Expected distinct input names, found 'a' twice", e.getMessage());
  }

  @Test
  void outputs_matchedByNameNotOrder() {
    ModelInferResponse response =
        TritonTensors.setOutputs(
                ModelInferResponse.newBuilder().setModelName("policy"),
                List.of(
                    TritonTensor.ofFp32("cum_log_probs", new long[] {1, 1}, -3.5f),
                    TritonTensor.ofInt32("output_ids", new long[] {1, 1, 2}, 11, 12)))
            .build();

    assertArrayEquals(new int[] {11, 12}, TritonTensors.output(response, "output_ids").toInts());
    assertArrayEquals(
        new float[] {-3.5f}, TritonTensors.output(response, "cum_log_probs").toFloats());
    assertArrayEquals(
        new long[] {1, 1, 2}, TritonTensors.outputs(response).get("output_ids").shape());
  }

  @Test
  void output_missing_listsAvailableOutputs() {
    ModelInferResponse response =
        TritonTensors.setOutputs(
                ModelInferResponse.newBuilder().setModelName("policy"),
                List.of(TritonTensor.ofInt32("output_ids", new long[] {1}, 1)))
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TritonTensors.output(response, "output_log_probs"));
    assertEquals(
        "Expected output 'output_log_probs' in the response of model 'policy', found [output_ids]",
        e.getMessage());
  }

  @Test
  void outputs_rawCountMismatch_rejected() {
    ModelInferResponse response =
        ModelInferResponse.newBuilder()
            .setModelName("policy")
            .addOutputs(
                ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName("a")
                    .setDatatype("INT32")
                    .addShape(1))
            .addOutputs(
                ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName("b")
                    .setDatatype("INT32")
                    .addShape(1))
            .addRawOutputContents(ByteString.copyFrom(new byte[4]))
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.outputs(response));
    assertEquals(
        "Expected 2 raw_output_contents entries (one per output) in the response of model"
            + " 'policy', found 1",
        e.getMessage());
  }

  @Test
  void outputs_typedContents_read() {
    ModelInferResponse response =
        ModelInferResponse.newBuilder()
            .addOutputs(
                ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName("text_output")
                    .setDatatype("BYTES")
                    .addShape(2)
                    .setContents(
                        InferTensorContents.newBuilder()
                            .addBytesContents(ByteString.copyFromUtf8("hi"))
                            .addBytesContents(ByteString.copyFromUtf8("yo"))))
            .addOutputs(
                ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName("small")
                    .setDatatype("INT8")
                    .addShape(2)
                    .setContents(
                        InferTensorContents.newBuilder().addIntContents(-1).addIntContents(5)))
            .build();
    assertEquals(List.of("hi", "yo"), TritonTensors.output(response, "text_output").toStrings());
    TritonTensor small = TritonTensors.output(response, "small");
    assertArrayEquals(new byte[] {(byte) 0xff, 5}, small.raw().toByteArray());
    assertArrayEquals(new int[] {-1, 5}, small.toInts());
  }

  @Test
  void inputs_typedContentsWithRaw_rejected() {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("x")
                    .setDatatype("INT32")
                    .addShape(1)
                    .setContents(InferTensorContents.newBuilder().addIntContents(1)))
            .addRawInputContents(ByteString.copyFrom(new byte[4]))
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.inputs(request));
    assertEquals(
        "Expected no typed contents for input 'x' because the request uses raw_input_contents",
        e.getMessage());
  }

  @Test
  void inputs_missingDataOrTypedCountMismatch_namesTensor() {
    ModelInferRequest noData =
        ModelInferRequest.newBuilder()
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("x")
                    .setDatatype("INT32")
                    .addShape(1))
            .build();
    assertEquals(
        "Expected data for input tensor 'x'",
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.inputs(noData))
            .getMessage());
    ModelInferRequest shortTyped =
        ModelInferRequest.newBuilder()
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("ids")
                    .setDatatype("INT64")
                    .addShape(3)
                    .setContents(InferTensorContents.newBuilder().addInt64Contents(1)))
            .build();
    assertEquals(
        "Expected 3 elements for shape [3] of tensor 'ids', found 1",
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.inputs(shortTyped))
            .getMessage());
    ModelInferRequest fp16Typed =
        ModelInferRequest.newBuilder()
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("h")
                    .setDatatype("FP16")
                    .addShape(1)
                    .setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
            .build();
    assertEquals(
        "Expected raw contents for FP16 tensor 'h', found typed contents",
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.inputs(fp16Typed))
            .getMessage());
  }

  @Test
  void inputs_rawCountMismatch_rejected() {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("policy")
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("a")
                    .setDatatype("INT32")
                    .addShape(1))
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("b")
                    .setDatatype("INT32")
                    .addShape(1))
            .addRawInputContents(ByteString.copyFrom(new byte[4]))
            .build();
    assertEquals(
        "Expected 2 raw_input_contents entries (one per input) in the request for model 'policy',"
            + " found 1",
        assertThrows(IllegalArgumentException.class, () -> TritonTensors.inputs(request))
            .getMessage());
  }

  @Test
  void isFinalResponse_flagOrAbsence() {
    assertTrue(TritonTensors.isFinalResponse(ModelInferResponse.getDefaultInstance()));
    assertFalse(
        TritonTensors.isFinalResponse(
            ModelInferResponse.newBuilder()
                .putParameters(
                    TritonTensors.FINAL_RESPONSE_PARAMETER, TritonTensors.boolParameter(false))
                .build()));
  }
}
