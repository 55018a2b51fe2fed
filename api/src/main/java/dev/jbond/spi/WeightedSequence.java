package dev.jbond.spi;

import dev.jbond.Generation;
import java.util.Objects;

/**
 * One term of the learner's loss {@code sum_s weight_s * log pi(s)}: a generation and its weight,
 * computed outside autodiff (a stop-gradient constant).
 *
 * @param generation the sequence whose completion log-likelihood enters the loss
 * @param weight its weight, finite
 */
public record WeightedSequence(Generation generation, double weight) {
  /**
   * Validates the components.
   *
   * @param generation see the record description
   * @param weight see the record description
   * @throws IllegalArgumentException when the weight is NaN or infinite
   */
  public WeightedSequence {
    Objects.requireNonNull(generation, "generation");
    if (!Double.isFinite(weight)) {
      throw new IllegalArgumentException(
          "Expected a finite sequence weight, found "
              + weight
              + " for prompt '"
              + generation.prompt().id()
              + "'");
    }
  }
}
