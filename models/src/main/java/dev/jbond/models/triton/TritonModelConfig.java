package dev.jbond.models.triton;

import dev.jbond.internal.Checks;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The subset of Triton's {@code ModelConfig} that jbond writes to {@code config.pbtxt}, accepted by
 * Triton and by jbond's embedded server.
 *
 * @param name the model name, the repository directory's name
 * @param backend {@code "onnxruntime"} for an ONNX graph, or {@code "jbond-generate"} for a policy
 *     served by a generation backend
 * @param maxBatchSize {@code max_batch_size}: 0 for no batch dimension, else the largest batch;
 *     tensor dims then leave out the batch dimension
 * @param inputs the inputs, may be empty (Triton completes them from an ONNX graph)
 * @param outputs the outputs, may be empty
 * @param dynamicBatching whether to write {@code dynamic_batching { }}
 * @param parameters free-form {@code parameters} (string values), sorted by key when written
 */
public record TritonModelConfig(
    String name,
    String backend,
    int maxBatchSize,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    boolean dynamicBatching,
    Map<String, String> parameters) {
  /** The backend name of Triton's ONNX Runtime backend. */
  public static final String ONNX_BACKEND = "onnxruntime";

  /** The backend name of jbond's generation models in the embedded server. */
  public static final String GENERATE_BACKEND = "jbond-generate";

  /**
   * Validates the components and copies the collections.
   *
   * @param name see the record description
   * @param backend see the record description
   * @param maxBatchSize see the record description
   * @param inputs see the record description
   * @param outputs see the record description
   * @param dynamicBatching see the record description
   * @param parameters see the record description
   * @throws IllegalArgumentException when the name or backend is empty or {@code maxBatchSize < 0}
   */
  public TritonModelConfig {
    Checks.checkArgument(
        name != null && !name.isEmpty(), "Expected a non-empty model name, found '%s'", name);
    Checks.checkArgument(
        backend != null && !backend.isEmpty(),
        "Expected a non-empty backend for model '%s', found '%s'",
        name,
        backend);
    Checks.checkAtLeast(maxBatchSize, 0, "max_batch_size");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    parameters = Map.copyOf(parameters);
  }

  /**
   * One input or output.
   *
   * @param name the tensor name
   * @param dataType the Triton data type, for example {@code TYPE_INT64} or {@code TYPE_FP32}
   * @param dims the dims without the batch dimension when {@code max_batch_size > 0}; -1 for a
   *     variable size
   * @param optional whether a request may leave the input out ({@code optional: true})
   */
  public record TensorSpec(String name, String dataType, List<Long> dims, boolean optional) {
    /**
     * Validates the components.
     *
     * @param name see the record description
     * @param dataType see the record description
     * @param dims see the record description
     * @param optional see the record description
     * @throws IllegalArgumentException when the name is empty, the data type does not start with
     *     {@code TYPE_}, or the dims are empty or hold a value below -1
     */
    public TensorSpec {
      Checks.checkArgument(
          name != null && !name.isEmpty(), "Expected a non-empty tensor name, found '%s'", name);
      Checks.checkArgument(
          dataType != null && dataType.startsWith("TYPE_"),
          "Expected a Triton data type like TYPE_FP32 for tensor '%s', found '%s'",
          name,
          dataType);
      dims = List.copyOf(dims);
      Checks.checkArgument(
          !dims.isEmpty() && dims.stream().allMatch(d -> d >= -1),
          "Expected non-empty dims of sizes >= -1 for tensor '%s', found %s",
          name,
          dims);
    }

    /**
     * Creates a spec.
     *
     * @param name the tensor name
     * @param dataType the Triton data type
     * @param dims the dims
     * @return the spec
     */
    public static TensorSpec of(String name, String dataType, long... dims) {
      return new TensorSpec(name, dataType, java.util.Arrays.stream(dims).boxed().toList(), false);
    }

    /**
     * Returns this spec as an optional input.
     *
     * @return the spec with {@code optional: true}
     */
    public TensorSpec asOptional() {
      return new TensorSpec(name, dataType, dims, true);
    }
  }

  /**
   * Returns the configuration in protobuf text format, the content of {@code config.pbtxt}.
   *
   * @return the text, ending with a line break
   */
  public String toPbtxt() {
    StringBuilder s = new StringBuilder();
    s.append("name: ").append(quote(name)).append('\n');
    s.append("backend: ").append(quote(backend)).append('\n');
    s.append("max_batch_size: ").append(maxBatchSize).append('\n');
    tensors(s, "input", inputs);
    tensors(s, "output", outputs);
    if (dynamicBatching) {
      s.append("dynamic_batching { }\n");
    }
    for (Map.Entry<String, String> p : new TreeMap<>(parameters).entrySet()) {
      s.append("parameters {\n  key: ")
          .append(quote(p.getKey()))
          .append("\n  value { string_value: ")
          .append(quote(p.getValue()))
          .append(" }\n}\n");
    }
    return s.toString();
  }

  private static void tensors(StringBuilder s, String field, List<TensorSpec> specs) {
    if (specs.isEmpty()) {
      return;
    }
    s.append(field).append(" [\n");
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec t = specs.get(i);
      s.append("  {\n    name: ")
          .append(quote(t.name()))
          .append("\n    data_type: ")
          .append(t.dataType())
          .append("\n    dims: [ ");
      for (int d = 0; d < t.dims().size(); d++) {
        s.append(d == 0 ? "" : ", ").append(t.dims().get(d));
      }
      s.append(" ]\n");
      if (t.optional()) {
        s.append("    optional: true\n");
      }
      s.append("  }").append(i + 1 < specs.size() ? ",\n" : "\n");
    }
    s.append("]\n");
  }

  private static String quote(String text) {
    Objects.requireNonNull(text, "text");
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
