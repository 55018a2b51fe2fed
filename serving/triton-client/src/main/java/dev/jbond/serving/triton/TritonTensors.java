package dev.jbond.serving.triton;

import com.google.protobuf.ByteString;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.InferTensorContents;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferRequestOrBuilder;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelInferResponseOrBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts {@link TritonTensor}s into inference messages and reads them back, following Triton's data
 * rules:
 *
 * <ul>
 *   <li>Requests are written in raw form: one {@code raw_input_contents} entry per input, in the
 *       order of {@code inputs}, and no typed {@code contents} on any input.
 *   <li>Responses are read by output <em>name</em>: {@code raw_output_contents[i]} belongs to
 *       {@code outputs[i]}, whatever order the outputs come in. A response whose outputs carry
 *       typed {@code contents} instead (Triton itself never sends those) is read from them.
 *   <li>Raw data is little-endian; {@code BYTES} elements carry 4-byte little-endian length
 *       prefixes in raw form and none in typed form.
 * </ul>
 *
 * <p>Malformed data throws {@link IllegalArgumentException} naming the tensor: the embedded server
 * answers it with INVALID_ARGUMENT, and a client reading a malformed response wraps it in a {@link
 * dev.jbond.BackendException}.
 */
public final class TritonTensors {
  /** Response parameter that Triton sets to true on the last response for a request on a stream. */
  public static final String FINAL_RESPONSE_PARAMETER = "triton_final_response";

  /**
   * Request parameter asking a decoupled model to end each request with an empty response flagged
   * {@link #FINAL_RESPONSE_PARAMETER}; set it on every streamed request to a decoupled model.
   */
  public static final String ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER =
      "triton_enable_empty_final_response";

  private TritonTensors() {}

  /**
   * Replaces the inputs of {@code request} with {@code inputs} in raw form.
   *
   * @param request the request being built; its {@code inputs} and {@code raw_input_contents} are
   *     cleared first
   * @param inputs the input tensors, in the order they are sent, with distinct names
   * @return {@code request}
   * @throws IllegalArgumentException when two inputs share a name
   */
  public static ModelInferRequest.Builder setInputs(
      ModelInferRequest.Builder request, List<TritonTensor> inputs) {
    checkDistinct(inputs, "input");
    request.clearInputs().clearRawInputContents();
    for (TritonTensor input : inputs) {
      request.addInputs(
          ModelInferRequest.InferInputTensor.newBuilder()
              .setName(input.name())
              .setDatatype(input.datatype().wireName())
              .addAllShape(asList(input.shape())));
      request.addRawInputContents(input.raw());
    }
    return request;
  }

  /**
   * Replaces the requested outputs of {@code request} with {@code names} (an empty list asks for
   * every output of the model).
   *
   * @param request the request being built
   * @param names the output names
   * @return {@code request}
   */
  public static ModelInferRequest.Builder setRequestedOutputs(
      ModelInferRequest.Builder request, List<String> names) {
    request.clearOutputs();
    for (String name : names) {
      request.addOutputs(
          ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(name).build());
    }
    return request;
  }

  /**
   * Reads the inputs of a request, raw or typed (the server side of {@link #setInputs}).
   *
   * @param request the request
   * @return the inputs by name, in request order
   * @throws IllegalArgumentException when the request mixes raw and typed contents, has the wrong
   *     number of raw entries, lacks data for an input, or has data that does not match a shape or
   *     datatype
   */
  public static Map<String, TritonTensor> inputs(ModelInferRequestOrBuilder request) {
    int count = request.getInputsCount();
    int rawCount = request.getRawInputContentsCount();
    boolean raw = rawCount > 0;
    if (raw && rawCount != count) {
      throw new IllegalArgumentException(
          "Expected "
              + count
              + " raw_input_contents entries (one per input) in the request for model '"
              + request.getModelName()
              + "', found "
              + rawCount);
    }
    Map<String, TritonTensor> result = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      String name = input.getName();
      TritonDatatype type = TritonDatatype.fromWireName(input.getDatatype(), name);
      long[] shape = toArray(input.getShapeList());
      TritonTensor tensor;
      if (raw) {
        if (input.hasContents()) {
          throw new IllegalArgumentException(
              "Expected no typed contents for input '"
                  + name
                  + "' because the request uses raw_input_contents");
        }
        tensor = TritonTensor.ofRaw(name, type, shape, request.getRawInputContents(i));
      } else if (input.hasContents()) {
        tensor = fromContents(name, type, shape, input.getContents());
      } else {
        throw new IllegalArgumentException("Expected data for input tensor '" + name + "'");
      }
      if (result.put(name, tensor) != null) {
        throw new IllegalArgumentException(
            "Expected distinct input names, found '" + name + "' twice");
      }
    }
    return Collections.unmodifiableMap(result);
  }

  /**
   * Replaces the outputs of {@code response} with {@code outputs} in raw form, the way Triton
   * answers (the server side of {@link #outputs}).
   *
   * @param response the response being built
   * @param outputs the output tensors, with distinct names
   * @return {@code response}
   * @throws IllegalArgumentException when two outputs share a name
   */
  public static ModelInferResponse.Builder setOutputs(
      ModelInferResponse.Builder response, List<TritonTensor> outputs) {
    checkDistinct(outputs, "output");
    response.clearOutputs().clearRawOutputContents();
    for (TritonTensor output : outputs) {
      response.addOutputs(
          ModelInferResponse.InferOutputTensor.newBuilder()
              .setName(output.name())
              .setDatatype(output.datatype().wireName())
              .addAllShape(asList(output.shape())));
      response.addRawOutputContents(output.raw());
    }
    return response;
  }

  /**
   * Reads every output of a response, pairing {@code raw_output_contents[i]} with {@code
   * outputs[i]}.
   *
   * @param response the response
   * @return the outputs by name, in response order
   * @throws IllegalArgumentException when the number of raw entries differs from the number of
   *     outputs, an output has no data, or data does not match a shape or datatype
   */
  public static Map<String, TritonTensor> outputs(ModelInferResponseOrBuilder response) {
    checkRawOutputCount(response);
    Map<String, TritonTensor> result = new LinkedHashMap<>();
    for (int i = 0; i < response.getOutputsCount(); i++) {
      TritonTensor tensor = decodeOutput(response, i);
      if (result.put(tensor.name(), tensor) != null) {
        throw new IllegalArgumentException(
            "Expected distinct output names, found '" + tensor.name() + "' twice");
      }
    }
    return Collections.unmodifiableMap(result);
  }

  /**
   * Reads one output of a response by name, decoding only that output.
   *
   * @param response the response
   * @param name the output name
   * @return the output
   * @throws IllegalArgumentException when the response has no output of that name (the message
   *     lists the ones it has), or its data is malformed
   */
  public static TritonTensor output(ModelInferResponseOrBuilder response, String name) {
    checkRawOutputCount(response);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < response.getOutputsCount(); i++) {
      if (response.getOutputs(i).getName().equals(name)) {
        return decodeOutput(response, i);
      }
      names.add(response.getOutputs(i).getName());
    }
    throw new IllegalArgumentException(
        "Expected output '"
            + name
            + "' in the response of model '"
            + response.getModelName()
            + "', found "
            + names);
  }

  private static void checkRawOutputCount(ModelInferResponseOrBuilder response) {
    int count = response.getOutputsCount();
    int rawCount = response.getRawOutputContentsCount();
    if (rawCount > 0 && rawCount != count) {
      throw new IllegalArgumentException(
          "Expected "
              + count
              + " raw_output_contents entries (one per output) in the response of model '"
              + response.getModelName()
              + "', found "
              + rawCount);
    }
  }

  /** Decodes {@code outputs[i]}; the raw entry count has been checked. */
  private static TritonTensor decodeOutput(ModelInferResponseOrBuilder response, int i) {
    ModelInferResponse.InferOutputTensor output = response.getOutputs(i);
    String name = output.getName();
    TritonDatatype type = TritonDatatype.fromWireName(output.getDatatype(), name);
    long[] shape = toArray(output.getShapeList());
    if (response.getRawOutputContentsCount() > 0) {
      return TritonTensor.ofRaw(name, type, shape, response.getRawOutputContents(i));
    }
    if (output.hasContents()) {
      return fromContents(name, type, shape, output.getContents());
    }
    if (TritonTensor.elementCount(name, shape) == 0) {
      return TritonTensor.ofRaw(name, type, shape, ByteString.EMPTY);
    }
    throw new IllegalArgumentException(
        "Expected data for output tensor '"
            + name
            + "' in the response of model '"
            + response.getModelName()
            + "'");
  }

  /**
   * Returns whether a streamed response is the last one for its request: its {@link
   * #FINAL_RESPONSE_PARAMETER} parameter, or true when the server sent no such parameter (a server
   * without decoupled support answers each request once).
   *
   * @param response a response from ModelStreamInfer
   * @return whether no more responses follow for its request id
   */
  public static boolean isFinalResponse(ModelInferResponseOrBuilder response) {
    InferParameter flag = response.getParametersMap().get(FINAL_RESPONSE_PARAMETER);
    return flag == null || flag.getBoolParam();
  }

  /**
   * Returns a bool parameter.
   *
   * @param value the value
   * @return the parameter
   */
  public static InferParameter boolParameter(boolean value) {
    return InferParameter.newBuilder().setBoolParam(value).build();
  }

  /**
   * Returns an int64 parameter.
   *
   * @param value the value
   * @return the parameter
   */
  public static InferParameter int64Parameter(long value) {
    return InferParameter.newBuilder().setInt64Param(value).build();
  }

  /**
   * Returns a string parameter.
   *
   * @param value the value
   * @return the parameter
   */
  public static InferParameter stringParameter(String value) {
    return InferParameter.newBuilder().setStringParam(value).build();
  }

  /**
   * Returns a double parameter.
   *
   * @param value the value
   * @return the parameter
   */
  public static InferParameter doubleParameter(double value) {
    return InferParameter.newBuilder().setDoubleParam(value).build();
  }

  // ---- typed contents ----

  private static TritonTensor fromContents(
      String name, TritonDatatype type, long[] shape, InferTensorContents contents) {
    int n = TritonTensor.elementCount(name, shape);
    return switch (type) {
      case BOOL -> {
        checkTyped(name, shape, n, contents.getBoolContentsCount());
        boolean[] values = new boolean[n];
        for (int i = 0; i < n; i++) {
          values[i] = contents.getBoolContents(i);
        }
        yield TritonTensor.ofBools(name, shape, values);
      }
      case INT8, INT16, INT32 -> {
        checkTyped(name, shape, n, contents.getIntContentsCount());
        yield narrow(name, type, shape, n, contents.getIntContentsList());
      }
      case UINT8, UINT16, UINT32 -> {
        checkTyped(name, shape, n, contents.getUintContentsCount());
        yield narrow(name, type, shape, n, contents.getUintContentsList());
      }
      case INT64 -> {
        checkTyped(name, shape, n, contents.getInt64ContentsCount());
        yield TritonTensor.ofInt64(name, shape, toArray(contents.getInt64ContentsList()));
      }
      case UINT64 -> {
        checkTyped(name, shape, n, contents.getUint64ContentsCount());
        yield TritonTensor.ofUint64(name, shape, toArray(contents.getUint64ContentsList()));
      }
      case FP32 -> {
        checkTyped(name, shape, n, contents.getFp32ContentsCount());
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
          values[i] = contents.getFp32Contents(i);
        }
        yield TritonTensor.ofFp32(name, shape, values);
      }
      case FP64 -> {
        checkTyped(name, shape, n, contents.getFp64ContentsCount());
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
          values[i] = contents.getFp64Contents(i);
        }
        yield TritonTensor.ofFp64(name, shape, values);
      }
      case BYTES -> {
        checkTyped(name, shape, n, contents.getBytesContentsCount());
        List<byte[]> values = new ArrayList<>(n);
        for (ByteString value : contents.getBytesContentsList()) {
          values.add(value.toByteArray());
        }
        yield TritonTensor.ofBytes(name, shape, values);
      }
      case FP16, BF16 ->
          throw new IllegalArgumentException(
              "Expected raw contents for " + type + " tensor '" + name + "', found typed contents");
    };
  }

  private static TritonTensor narrow(
      String name, TritonDatatype type, long[] shape, int n, List<Integer> values) {
    int size = type.elementSize();
    ByteBuffer buffer = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
    for (int value : values) {
      switch (size) {
        case 1 -> buffer.put((byte) value);
        case 2 -> buffer.putShort((short) value);
        default -> buffer.putInt(value);
      }
    }
    return TritonTensor.ofRaw(name, type, shape, ByteString.copyFrom(buffer.array()));
  }

  private static void checkTyped(String name, long[] shape, int expected, int found) {
    if (expected != found) {
      throw TritonTensor.countMismatch(name, shape, expected, found);
    }
  }

  private static void checkDistinct(List<TritonTensor> tensors, String what) {
    Set<String> seen = new HashSet<>();
    for (TritonTensor tensor : tensors) {
      if (!seen.add(tensor.name())) {
        throw new IllegalArgumentException(
            "Expected distinct " + what + " names, found '" + tensor.name() + "' twice");
      }
    }
  }

  private static List<Long> asList(long[] values) {
    List<Long> list = new ArrayList<>(values.length);
    for (long value : values) {
      list.add(value);
    }
    return list;
  }

  private static long[] toArray(List<Long> values) {
    long[] array = new long[values.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = values.get(i);
    }
    return array;
  }
}
