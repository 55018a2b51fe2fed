package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import dev.jbond.serving.triton.proto.DataType;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelConfigResponse;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.ModelRepositoryParameter;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import dev.jbond.serving.triton.proto.ModelTransactionPolicy;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Wire compatibility of our protos with Triton's: each golden byte string is derived by hand from
 * the field tables in triton-protocol.md (field numbers, wire types, varints, length prefixes), and
 * our generated classes must serialize to exactly those bytes and parse them back. Messages with
 * maps are serialized deterministically (map entries sorted by key), so the golden bytes list the
 * entries in key order.
 */
class TritonProtoWireTest {

  private static byte[] deterministic(Message message) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    message.writeTo(out);
    out.flush();
    return bytes.toByteArray();
  }

  @Test
  void wire_handEncoder_matchesKnownVarints() {
    // 300 = 0b10_0101100 -> ac 02; -1 as int64 is ten bytes; tag of field 19, wire type 2 is 154
    assertArrayEquals(
        new byte[] {0x08, (byte) 0xac, 0x02}, Wire.message().varint(1, 300).toBytes());
    assertArrayEquals(
        new byte[] {
          0x10,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          0x01
        },
        Wire.message().varint(2, -1).toBytes());
    assertArrayEquals(new byte[] {(byte) 0x9a, 0x01, 0x00}, Wire.message().bytes(19).toBytes());
  }

  @Test
  void modelReadyRequest_literalBytes_roundTrip() throws Exception {
    // name (1, LEN) "policy"; version (2, LEN) "3"
    byte[] golden = {0x0a, 0x06, 'p', 'o', 'l', 'i', 'c', 'y', 0x12, 0x01, '3'};
    ModelReadyRequest message =
        ModelReadyRequest.newBuilder().setName("policy").setVersion("3").build();

    assertArrayEquals(golden, message.toByteArray());
    assertEquals(message, ModelReadyRequest.parseFrom(golden));
  }

  @Test
  void modelStreamInferResponse_errorWithId_literalBytes_roundTrip() throws Exception {
    // error_message (1, LEN) "boom"; infer_response (2, LEN) { id (3, LEN) "req-9" }
    byte[] golden = {
      0x0a, 0x04, 'b', 'o', 'o', 'm', 0x12, 0x07, 0x1a, 0x05, 'r', 'e', 'q', '-', '9'
    };
    ModelStreamInferResponse message =
        ModelStreamInferResponse.newBuilder()
            .setErrorMessage("boom")
            .setInferResponse(ModelInferResponse.newBuilder().setId("req-9"))
            .build();

    assertArrayEquals(golden, message.toByteArray());
    assertEquals(message, ModelStreamInferResponse.parseFrom(golden));
  }

  @Test
  void modelInferRequest_rawInputsAndParameters_goldenBytes_roundTrip() throws Exception {
    byte[] inputIdsRaw = {1, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    byte[] seedRaw = {42, 0, 0, 0, 0, 0, 0, 0};
    byte[] golden =
        Wire.message()
            .string(1, "policy") // model_name
            .string(2, "3") // model_version
            .string(3, "req-7") // id
            // parameters (4): map entries { key (1), value (2): InferParameter }, sorted by key
            .message(
                4,
                Wire.message()
                    .string(1, "alpha")
                    .message(
                        2,
                        Wire.message()
                            .fixed64(4, Double.doubleToLongBits(0.5)))) // double_param (4, I64)
            .message(
                4,
                Wire.message()
                    .string(1, "flag")
                    .message(2, Wire.message().varint(1, 1))) // bool_param (1, VARINT)
            .message(
                4,
                Wire.message()
                    .string(1, "offset")
                    .message(2, Wire.message().varint(2, -1))) // int64_param (2, VARINT), ten bytes
            .message(
                4,
                Wire.message()
                    .string(1, "tag")
                    .message(2, Wire.message().string(3, "x"))) // string_param (3, LEN)
            // inputs (5): InferInputTensor { name (1), datatype (2), shape (3, packed) }
            .message(5, Wire.message().string(1, "input_ids").string(2, "INT32").packed(3, 1, 2))
            .message(5, Wire.message().string(1, "seed").string(2, "UINT64").packed(3, 1, 1))
            // outputs (6): InferRequestedOutputTensor { name (1) }
            .message(6, Wire.message().string(1, "output_ids"))
            // raw_input_contents (7): one entry per input, in input order
            .bytes(7, inputIdsRaw)
            .bytes(7, seedRaw)
            .toBytes();

    ModelInferRequest.Builder builder =
        ModelInferRequest.newBuilder()
            .setModelName("policy")
            .setModelVersion("3")
            .setId("req-7")
            .putParameters("tag", TritonTensors.stringParameter("x"))
            .putParameters("offset", TritonTensors.int64Parameter(-1))
            .putParameters("flag", TritonTensors.boolParameter(true))
            .putParameters("alpha", TritonTensors.doubleParameter(0.5));
    TritonTensors.setInputs(
        builder,
        List.of(
            TritonTensor.ofInt32("input_ids", new long[] {1, 2}, 1, -1),
            TritonTensor.ofUint64("seed", new long[] {1, 1}, 42)));
    TritonTensors.setRequestedOutputs(builder, List.of("output_ids"));
    ModelInferRequest message = builder.build();

    assertArrayEquals(golden, deterministic(message));
    ModelInferRequest parsed = ModelInferRequest.parseFrom(golden);
    assertEquals(message, parsed);
    assertEquals(-1, parsed.getParametersOrThrow("offset").getInt64Param());
    assertEquals(0.5, parsed.getParametersOrThrow("alpha").getDoubleParam());
    assertArrayEquals(new int[] {1, -1}, TritonTensors.inputs(parsed).get("input_ids").toInts());
  }

  @Test
  void modelInferResponse_rawOutputsAndFinalFlag_goldenBytes_roundTrip() throws Exception {
    byte[] outputIdsRaw = {7, 0, 0, 0, 9, 0, 0, 0};
    byte[] cumLogProbRaw = {0, 0, (byte) 0x80, (byte) 0xbf}; // -1.0f
    byte[] golden =
        Wire.message()
            .string(1, "policy")
            .string(2, "3")
            .string(3, "req-7")
            .message(
                4,
                Wire.message()
                    .string(1, "triton_final_response")
                    .message(2, Wire.message().varint(1, 1)))
            // outputs (5): InferOutputTensor { name (1), datatype (2), shape (3, packed) }
            .message(
                5, Wire.message().string(1, "output_ids").string(2, "INT32").packed(3, 1, 1, 2))
            .message(5, Wire.message().string(1, "cum_log_probs").string(2, "FP32").packed(3, 1, 1))
            // raw_output_contents (6): index i belongs to outputs[i]
            .bytes(6, outputIdsRaw)
            .bytes(6, cumLogProbRaw)
            .toBytes();

    ModelInferResponse.Builder builder =
        ModelInferResponse.newBuilder()
            .setModelName("policy")
            .setModelVersion("3")
            .setId("req-7")
            .putParameters(
                TritonTensors.FINAL_RESPONSE_PARAMETER, TritonTensors.boolParameter(true));
    TritonTensors.setOutputs(
        builder,
        List.of(
            TritonTensor.ofInt32("output_ids", new long[] {1, 1, 2}, 7, 9),
            TritonTensor.ofFp32("cum_log_probs", new long[] {1, 1}, -1.0f)));
    ModelInferResponse message = builder.build();

    assertArrayEquals(golden, deterministic(message));
    ModelInferResponse parsed = ModelInferResponse.parseFrom(golden);
    assertEquals(message, parsed);
    assertTrue(TritonTensors.isFinalResponse(parsed));
    assertArrayEquals(
        new float[] {-1.0f}, TritonTensors.output(parsed, "cum_log_probs").toFloats());
    assertArrayEquals(new int[] {7, 9}, TritonTensors.output(parsed, "output_ids").toInts());
  }

  @Test
  void repositoryModelLoadRequest_configAndFileParameters_goldenBytes_roundTrip() throws Exception {
    String config = "{\"name\":\"policy\",\"max_batch_size\":0}";
    byte[] file = {0x08, 0x07, 0x00, (byte) 0xff};
    byte[] golden =
        Wire.message()
            // repository_name (1) is empty and therefore absent
            .string(2, "policy") // model_name
            // parameters (3): { key (1), value (2): ModelRepositoryParameter }, sorted by key
            .message(
                3,
                Wire.message()
                    .string(1, "config")
                    .message(2, Wire.message().string(3, config))) // string_param (3, LEN)
            .message(
                3,
                Wire.message()
                    .string(1, "file:1/model.onnx")
                    .message(2, Wire.message().bytes(4, file))) // bytes_param (4, LEN)
            .toBytes();

    RepositoryModelLoadRequest message =
        RepositoryModelLoadRequest.newBuilder()
            .setModelName("policy")
            .putParameters(
                "file:1/model.onnx",
                ModelRepositoryParameter.newBuilder()
                    .setBytesParam(ByteString.copyFrom(file))
                    .build())
            .putParameters(
                "config", ModelRepositoryParameter.newBuilder().setStringParam(config).build())
            .build();

    assertArrayEquals(golden, deterministic(message));
    RepositoryModelLoadRequest parsed = RepositoryModelLoadRequest.parseFrom(golden);
    assertEquals(message, parsed);
    assertEquals(config, parsed.getParametersOrThrow("config").getStringParam());
  }

  @Test
  void modelConfigResponse_enumsNegativeDimsAndHighField_goldenBytes_keepUnknownFields()
      throws Exception {
    byte[] unknownMetrics = Wire.message().message(1, Wire.message()).toBytes();
    byte[] golden =
        Wire.message()
            .message(
                1,
                Wire.message() // config (1): inference.ModelConfig
                    .string(1, "policy") // name
                    .varint(4, 8) // max_batch_size
                    // input (5): ModelInput { name (1), data_type (2): TYPE_INT32 = 8, dims (4) }
                    .message(5, Wire.message().string(1, "input_ids").varint(2, 8).packed(4, -1))
                    // model_transaction_policy (19): { decoupled (1) } -- tag 154 = 9a 01
                    .message(19, Wire.message().varint(1, 1))
                    // model_metrics (26) is not declared by our subset: kept as an unknown field
                    .bytes(26, unknownMetrics))
            .toBytes();

    ModelConfigResponse parsed = ModelConfigResponse.parseFrom(golden);
    ModelConfig config = parsed.getConfig();
    assertEquals("policy", config.getName());
    assertEquals(8, config.getMaxBatchSize());
    assertEquals(
        ModelInput.newBuilder()
            .setName("input_ids")
            .setDataType(DataType.TYPE_INT32)
            .addDims(-1)
            .build(),
        config.getInput(0));
    assertEquals(
        ModelTransactionPolicy.newBuilder().setDecoupled(true).build(),
        config.getModelTransactionPolicy());
    assertEquals(1, config.getUnknownFields().asMap().size());
    assertArrayEquals(golden, parsed.toByteArray());
  }

  @Test
  void serviceDescriptor_methodNames_matchTritonPaths() {
    ServiceDescriptor service = GRPCInferenceServiceGrpc.getServiceDescriptor();
    Map<String, MethodDescriptor.MethodType> methods = new TreeMap<>();
    for (MethodDescriptor<?, ?> method : service.getMethods()) {
      methods.put(method.getFullMethodName(), method.getType());
    }

    assertEquals("inference.GRPCInferenceService", service.getName());
    Map<String, MethodDescriptor.MethodType> expected = new TreeMap<>();
    for (String rpc :
        List.of(
            "ServerLive",
            "ServerReady",
            "ModelReady",
            "ServerMetadata",
            "ModelMetadata",
            "ModelInfer",
            "ModelConfig",
            "RepositoryIndex",
            "RepositoryModelLoad",
            "RepositoryModelUnload")) {
      expected.put("inference.GRPCInferenceService/" + rpc, MethodDescriptor.MethodType.UNARY);
    }
    expected.put(
        "inference.GRPCInferenceService/ModelStreamInfer",
        MethodDescriptor.MethodType.BIDI_STREAMING);
    assertEquals(expected, methods);
    assertEquals(
        "inference.GRPCInferenceService/ModelInfer",
        GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName());
    assertEquals("inference.ModelInferRequest", ModelInferRequest.getDescriptor().getFullName());
    assertEquals("inference.ModelConfig", ModelConfig.getDescriptor().getFullName());
  }
}
