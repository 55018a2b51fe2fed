package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * One place a graph is adapted: a {@code MatMul} or {@code Gemm} whose weight is a FLOAT matrix
 * initializer, and the block of its output columns a module writes.
 *
 * <p>The node computes {@code y = x W} ({@code W [in, width]}), or {@code y = x W^T} for a {@code
 * Gemm} with {@code transB = 1} ({@code W [width, in]}). The module adapts output columns {@code
 * [offset, offset + out)}: all of them for a plain projection, one third of a fused query-key-value
 * projection for {@code attn_q}, {@code attn_k} or {@code attn_v}.
 *
 * @param module the TensorRT-LLM module
 * @param layer the transformer layer, {@code >= 0}
 * @param node the node's name (may be empty for unnamed nodes; {@code weight} identifies it)
 * @param weight the name of the weight initializer
 * @param transposed whether the weight is stored {@code [width, in]} ({@code Gemm} with {@code
 *     transB = 1})
 * @param in the input width
 * @param out the adapted output width
 * @param offset the first adapted output column
 * @param width the node's output width
 * @param path the module's path in the Hugging Face model (for PEFT keys), e.g. {@code
 *     model.layers.0.self_attn.q_proj}
 */
public record LoraTarget(
    LoraModule module,
    int layer,
    String node,
    String weight,
    boolean transposed,
    int in,
    int out,
    int offset,
    int width,
    String path) {
  /** The prefix of the names of adapters' {@code A} and {@code B} in adapted graphs. */
  public static final String INPUT_PREFIX = "lora.";

  /**
   * Validates the components.
   *
   * @param module see the record description
   * @param layer see the record description
   * @param node see the record description
   * @param weight see the record description
   * @param transposed see the record description
   * @param in see the record description
   * @param out see the record description
   * @param offset see the record description
   * @param width see the record description
   * @param path see the record description
   * @throws IllegalArgumentException when the column block does not fit the output
   */
  public LoraTarget {
    Objects.requireNonNull(module, "module");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(weight, "weight");
    Objects.requireNonNull(path, "path");
    Checks.checkAtLeast(layer, 0, "layer");
    Checks.checkAtLeast(in, 1, "in");
    Checks.checkAtLeast(out, 1, "out");
    Checks.checkArgument(
        offset >= 0 && offset + out <= width,
        "Expected columns [%d, %d) of %s in layer %d within the output width %d",
        offset,
        offset + out,
        module.trtName(),
        layer,
        width);
  }

  /**
   * Returns the adapter's key, {@code <module>.<layer>}, e.g. {@code attn_q.0}.
   *
   * @return the key
   */
  public String key() {
    return module.trtName() + "." + layer;
  }

  /**
   * Returns the name of the adapter's {@code A} ({@code [r, in]}) in adapted graphs.
   *
   * @return {@code lora.<key>.A}
   */
  public String aName() {
    return INPUT_PREFIX + key() + ".A";
  }

  /**
   * Returns the name of the adapter's {@code B} ({@code [out, r]}) in adapted graphs.
   *
   * @return {@code lora.<key>.B}
   */
  public String bName() {
    return INPUT_PREFIX + key() + ".B";
  }
}
