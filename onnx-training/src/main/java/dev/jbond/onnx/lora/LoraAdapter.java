package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * One low-rank adapter of one module in one layer: {@code W x + (alpha / r) B A x}, with A of shape
 * {@code [rank, in]} and B of shape {@code [out, rank]}, both row-major, as PEFT stores {@code
 * lora_A.weight} and {@code lora_B.weight}.
 *
 * @param module the target module
 * @param layer the layer index, {@code >= 0}
 * @param rank r, {@code >= 1}
 * @param in the input size of the adapted projection
 * @param out the output size of the adapted projection
 * @param a A, {@code rank * in} values
 * @param b B, {@code out * rank} values (without the {@code alpha / r} scale)
 */
public record LoraAdapter(
    LoraModule module, int layer, int rank, int in, int out, float[] a, float[] b) {
  /**
   * Validates the components.
   *
   * @param module see the record description
   * @param layer see the record description
   * @param rank see the record description
   * @param in see the record description
   * @param out see the record description
   * @param a see the record description
   * @param b see the record description
   * @throws IllegalArgumentException when a size is out of range or a matrix has another length
   */
  public LoraAdapter {
    Objects.requireNonNull(module, "module");
    Checks.checkAtLeast(layer, 0, "layer");
    Checks.checkAtLeast(rank, 1, "rank");
    Checks.checkAtLeast(in, 1, "in");
    Checks.checkAtLeast(out, 1, "out");
    Checks.checkArgument(
        a.length == (long) rank * in,
        "Expected A of %s in layer %d with %d x %d = %d values, found %d",
        module.trtName(),
        layer,
        rank,
        in,
        (long) rank * in,
        a.length);
    Checks.checkArgument(
        b.length == (long) out * rank,
        "Expected B of %s in layer %d with %d x %d = %d values, found %d",
        module.trtName(),
        layer,
        out,
        rank,
        (long) out * rank,
        b.length);
  }

  /**
   * Returns the number of values this adapter's row of {@code lora_weights} needs: {@code rank *
   * (in + out)}.
   *
   * @return the row length before padding
   */
  public long rowLength() {
    return (long) rank * (in + out);
  }
}
