package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelOutput;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An inference request checked against a model's configuration, the way Triton checks it before
 * scheduling: known and complete inputs, datatypes, shapes (with the batch dimension when {@code
 * max_batch_size > 0}), requested outputs and reserved parameters. Every failure is
 * INVALID_ARGUMENT with a one-line message naming the tensor and the model.
 */
final class ValidatedRequest {
  /** Request parameter: the queue timeout in microseconds (int64). */
  static final String TIMEOUT_PARAMETER = "timeout";

  private final ModelInferRequest request;
  private final Map<String, TritonTensor> inputs;
  private final List<String> outputs;
  private final int rows;
  private final String signature;
  private final Optional<Duration> queueTimeout;
  private final boolean emptyFinalResponse;

  private ValidatedRequest(
      ModelInferRequest request,
      Map<String, TritonTensor> inputs,
      List<String> outputs,
      int rows,
      String signature,
      Optional<Duration> queueTimeout,
      boolean emptyFinalResponse) {
    this.request = request;
    this.inputs = inputs;
    this.outputs = outputs;
    this.rows = rows;
    this.signature = signature;
    this.queueTimeout = queueTimeout;
    this.emptyFinalResponse = emptyFinalResponse;
  }

  /**
   * Checks a request.
   *
   * @param request the request
   * @param config the completed configuration of the version that serves it
   * @return the checked request
   * @throws StatusRuntimeException INVALID_ARGUMENT naming the tensor, parameter or model
   */
  static ValidatedRequest of(ModelInferRequest request, ModelConfig config) {
    String model = config.getName();
    Optional<Duration> timeout = Optional.empty();
    boolean emptyFinal = false;
    for (Map.Entry<String, InferParameter> parameter : request.getParametersMap().entrySet()) {
      String key = parameter.getKey();
      InferParameter value = parameter.getValue();
      if (key.equals(TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER)) {
        if (value.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.BOOL_PARAM) {
          throw ServerErrors.invalidArgument(
              "Expected a bool_param for parameter '" + key + "', found " + value);
        }
        emptyFinal = value.getBoolParam();
      } else if (key.startsWith("triton_")) {
        throw ServerErrors.invalidArgument(
            "Parameter '" + key + "' is reserved for Triton usage and cannot be set in a request");
      } else if (key.equals(TIMEOUT_PARAMETER)) {
        if (value.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
            || value.getInt64Param() < 0) {
          throw ServerErrors.invalidArgument(
              "Expected an int64_param >= 0 (microseconds) for parameter 'timeout' of model '"
                  + model
                  + "', found "
                  + oneLine(value));
        }
        if (value.getInt64Param() > 0) {
          timeout = Optional.of(Duration.ofNanos(value.getInt64Param() * 1000));
        }
      } else if (value.getParameterChoiceCase()
          == InferParameter.ParameterChoiceCase.UINT64_PARAM) {
        throw ServerErrors.invalidArgument(
            "Expected an int64, bool, string or double value for custom parameter '"
                + key
                + "', found uint64_param");
      }
    }

    Map<String, TritonTensor> decoded;
    try {
      decoded = TritonTensors.inputs(request);
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      throw ServerErrors.invalidArgument(
          message.contains("model '" + model + "'")
              ? message
              : message + " (model '" + model + "')");
    }
    Map<String, ModelInput> configured = new LinkedHashMap<>();
    for (ModelInput input : config.getInputList()) {
      configured.put(input.getName(), input);
    }
    boolean checkInputs = !configured.isEmpty();
    int batching = config.getMaxBatchSize();
    int rows = batching > 0 ? -1 : 1;
    String batchInput = null;
    Map<String, TritonTensor> ordered = new LinkedHashMap<>();
    StringBuilder signature = new StringBuilder();
    if (checkInputs) {
      for (String name : decoded.keySet()) {
        if (!configured.containsKey(name)) {
          throw ServerErrors.invalidArgument(
              "Unexpected inference input '"
                  + name
                  + "' for model '"
                  + model
                  + "', expected inputs "
                  + List.copyOf(configured.keySet()));
        }
      }
      for (ModelInput input : configured.values()) {
        TritonTensor tensor = decoded.get(input.getName());
        if (tensor == null) {
          if (input.getOptional()) {
            continue;
          }
          throw ServerErrors.invalidArgument(
              "Expected inference input '"
                  + input.getName()
                  + "' for model '"
                  + model
                  + "', found inputs "
                  + List.copyOf(decoded.keySet()));
        }
        TritonDatatype expected = ModelConfigs.wireType(input.getDataType());
        if (tensor.datatype() != expected) {
          throw ServerErrors.invalidArgument(
              "Expected datatype "
                  + expected
                  + " for inference input '"
                  + input.getName()
                  + "' of model '"
                  + model
                  + "', found "
                  + tensor.datatype());
        }
        long[] shape = tensor.shape();
        List<Long> dims = input.getDimsList();
        int offset = batching > 0 ? 1 : 0;
        boolean fits = shape.length == dims.size() + offset;
        for (int i = 0; fits && i < dims.size(); i++) {
          fits = dims.get(i) == -1L || dims.get(i) == shape[i + offset];
        }
        if (!fits) {
          throw ServerErrors.invalidArgument(
              "Expected shape "
                  + ModelConfigs.fullShape(config, dims)
                  + " for inference input '"
                  + input.getName()
                  + "' of model '"
                  + model
                  + "', found "
                  + Arrays.toString(shape));
        }
        if (batching > 0) {
          long batch = shape[0];
          if (batch < 1 || batch > batching) {
            throw ServerErrors.invalidArgument(
                "Expected batch size in [1, "
                    + batching
                    + "] (max_batch_size) for inference input '"
                    + input.getName()
                    + "' of model '"
                    + model
                    + "', found "
                    + batch);
          }
          if (rows >= 0 && batch != rows) {
            throw ServerErrors.invalidArgument(
                "Expected batch size "
                    + rows
                    + " (that of input '"
                    + batchInput
                    + "') for inference input '"
                    + input.getName()
                    + "' of model '"
                    + model
                    + "', found "
                    + batch);
          }
          rows = (int) batch;
          batchInput = input.getName();
        }
        ordered.put(input.getName(), tensor);
        signature
            .append(input.getName())
            .append(':')
            .append(tensor.datatype())
            .append(Arrays.toString(Arrays.copyOfRange(shape, offset, shape.length)))
            .append(';');
      }
    } else {
      ordered.putAll(decoded);
    }
    if (rows < 0) {
      rows = 1;
    }

    List<String> outputs = new ArrayList<>();
    List<String> configuredOutputs = new ArrayList<>();
    for (ModelOutput output : config.getOutputList()) {
      configuredOutputs.add(output.getName());
    }
    Set<String> seen = new HashSet<>();
    for (ModelInferRequest.InferRequestedOutputTensor output : request.getOutputsList()) {
      String name = output.getName();
      if (!configuredOutputs.isEmpty() && !configuredOutputs.contains(name)) {
        throw ServerErrors.invalidArgument(
            "Unexpected inference output '"
                + name
                + "' for model '"
                + model
                + "', expected one of "
                + configuredOutputs);
      }
      if (!seen.add(name)) {
        throw ServerErrors.invalidArgument(
            "Expected distinct requested outputs for model '"
                + model
                + "', found '"
                + name
                + "' twice");
      }
      outputs.add(name);
    }
    if (outputs.isEmpty()) {
      outputs.addAll(configuredOutputs);
    }
    return new ValidatedRequest(
        request,
        Collections.unmodifiableMap(ordered),
        List.copyOf(outputs),
        rows,
        signature.toString(),
        timeout,
        emptyFinal);
  }

  /** The request as received. */
  ModelInferRequest request() {
    return request;
  }

  /** The inputs, in configuration order. */
  Map<String, TritonTensor> inputs() {
    return inputs;
  }

  /** The outputs to return: those requested, or every configured output. */
  List<String> outputs() {
    return outputs;
  }

  /** The batch size (rows along the first dimension), 1 for models that do not batch. */
  int rows() {
    return rows;
  }

  /** Names, datatypes and non-batch dimensions of the inputs: equal signatures can batch. */
  String signature() {
    return signature;
  }

  /** The queue timeout the request asked for with the {@code timeout} parameter. */
  Optional<Duration> queueTimeout() {
    return queueTimeout;
  }

  /** Whether the request set {@code triton_enable_empty_final_response}. */
  boolean emptyFinalResponse() {
    return emptyFinalResponse;
  }

  private static String oneLine(InferParameter value) {
    return value.toString().strip().replaceAll("\\s+", " ");
  }
}
