package dev.jbond.onnx.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Internal;
import dev.jbond.onnx.graph.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open ONNX Runtime session over one model. Created by {@link OrtSessions}; the creator closes
 * it. {@link #run} may be called from several threads at once.
 */
public final class OrtModelSession extends OrtResource {
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final String modelName;
  private final List<String> inputNames;
  private final List<String> outputNames;

  OrtModelSession(OrtEnvironment environment, OrtSession session, String modelName) {
    this.environment = environment;
    this.session = session;
    this.modelName = modelName;
    this.inputNames = List.copyOf(session.getInputNames());
    this.outputNames = List.copyOf(session.getOutputNames());
  }

  /**
   * Returns the name used for this model in messages (the graph name or file name).
   *
   * @return the model name
   */
  public String modelName() {
    return modelName;
  }

  /**
   * Returns the model's input names, in the model's order.
   *
   * @return the input names
   */
  public List<String> inputNames() {
    return inputNames;
  }

  /**
   * Returns the model's output names, in the model's order.
   *
   * @return the output names
   */
  public List<String> outputNames() {
    return outputNames;
  }

  /**
   * Runs the model and returns copies of all outputs.
   *
   * @param inputs a tensor for every model input
   * @return output name to tensor, in the model's order
   * @throws IllegalArgumentException when an input is unknown or missing
   * @throws IllegalStateException when the session is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(inputs, outputNames);
  }

  /**
   * Runs the model and returns copies of the requested outputs.
   *
   * @param inputs a tensor for every model input
   * @param outputs the outputs to compute, at least one
   * @return output name to tensor, in the requested order
   * @throws IllegalArgumentException when an input is unknown or missing, or an output unknown
   * @throws IllegalStateException when the session is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> outputs) {
    checkOpen();
    for (String name : inputs.keySet()) {
      Checks.checkArgument(
          inputNames.contains(name),
          "Unknown input '%s' for model '%s', expected %s",
          name,
          modelName,
          inputNames);
    }
    for (String name : inputNames) {
      Checks.checkArgument(
          inputs.containsKey(name),
          "Missing input '%s' for model '%s', given %s",
          name,
          modelName,
          inputs.keySet());
    }
    Checks.checkArgument(
        !outputs.isEmpty(), "Expected at least one output for model '%s'", modelName);
    for (String name : outputs) {
      Checks.checkArgument(
          outputNames.contains(name),
          "Unknown output '%s' of model '%s', expected one of %s",
          name,
          modelName,
          outputNames);
    }
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> input : inputs.entrySet()) {
        feed.put(input.getKey(), OrtTensors.toOnnx(environment, input.getValue()));
      }
      Set<String> requested = new LinkedHashSet<>(outputs);
      try (OrtSession.Result result = session.run(feed, requested)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : requested) {
          OnnxValue value =
              result
                  .get(name)
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "Expected output '"
                                  + name
                                  + "' from model '"
                                  + modelName
                                  + "', found none"));
          out.put(name, OrtTensors.fromOnnx(value, name));
        }
        return out;
      }
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "run model '" + modelName + "'");
    } finally {
      List<OnnxTensor> created = new ArrayList<>(feed.values());
      created.forEach(OnnxTensor::close);
    }
  }

  /**
   * Returns ONNX Runtime's session, for engine code in this module that feeds direct buffers and
   * pinned outputs. Callers must not close it and must wrap {@code OrtException}s themselves.
   *
   * @return the session
   * @throws IllegalStateException when the session is closed
   */
  @Internal
  public OrtSession unwrap() {
    checkOpen();
    return session;
  }

  @Override
  protected void release() throws OrtException {
    session.close();
  }

  /** Returns the model name and its input and output names. */
  @Override
  public String toString() {
    return "OrtModelSession '" + modelName + "' " + inputNames + " -> " + outputNames;
  }
}
