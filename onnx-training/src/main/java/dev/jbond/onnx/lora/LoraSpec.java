package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What to adapt and how: the rank {@code r} of every adapter, {@code alpha} (the branch is scaled
 * by {@code alpha / r}, as PEFT and TensorRT-LLM's converter do), the TensorRT-LLM target modules,
 * and the seed of the adapters' initial {@code A} (uniform in {@code +-1/sqrt(in)}, PEFT's
 * Kaiming-uniform default; {@code B} starts at 0, so a fresh adapter leaves the model unchanged).
 *
 * @param rank the rank {@code r}, {@code >= 1}
 * @param alpha the scale numerator, {@code > 0}
 * @param modules the target modules, at least one; kept in their TensorRT-LLM id order
 * @param seed the seed of the initial {@code A}
 */
public record LoraSpec(int rank, double alpha, Set<LoraModule> modules, long seed) {
  /**
   * Validates the components.
   *
   * @param rank see the record description
   * @param alpha see the record description
   * @param modules see the record description
   * @param seed see the record description
   * @throws IllegalArgumentException when a value is out of range
   */
  public LoraSpec {
    Checks.checkAtLeast(rank, 1, "LoRA rank");
    Checks.checkArgument(
        alpha > 0 && Double.isFinite(alpha), "Expected LoRA alpha > 0, found %s", alpha);
    Objects.requireNonNull(modules, "modules");
    Checks.checkArgument(
        !modules.isEmpty(), "Expected at least one LoRA target module, found none");
    // in the modules' id order (Set.copyOf's order changes from JVM to JVM)
    modules = Collections.unmodifiableSet(EnumSet.copyOf(modules));
  }

  /**
   * Returns a specification with modules given by their TensorRT-LLM names.
   *
   * @param rank the rank
   * @param alpha the scale numerator
   * @param modules names such as {@code attn_q} or {@code mlp_4h_to_h}
   * @param seed the seed of the initial {@code A}
   * @return the specification
   * @throws IllegalArgumentException naming the known modules when a name is unknown
   */
  public static LoraSpec of(int rank, double alpha, Collection<String> modules, long seed) {
    List<LoraModule> parsed = new ArrayList<>();
    for (String m : modules) {
      parsed.add(LoraModule.ofTrtName(m));
    }
    Checks.checkArgument(!parsed.isEmpty(), "Expected at least one LoRA target module, found none");
    return new LoraSpec(rank, alpha, EnumSet.copyOf(parsed), seed);
  }

  /**
   * Returns the branch scale {@code alpha / rank}.
   *
   * @return the scale
   */
  public double scale() {
    return alpha / rank;
  }
}
