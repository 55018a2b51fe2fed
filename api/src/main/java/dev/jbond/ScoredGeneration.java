package dev.jbond;

import java.util.Objects;

/**
 * A generation with its reward.
 *
 * @param generation the generation
 * @param reward its reward r(x, y), finite
 */
public record ScoredGeneration(Generation generation, double reward) {
  /**
   * Validates the components.
   *
   * @param generation see the record description
   * @param reward see the record description
   * @throws IllegalArgumentException when the reward is NaN or infinite
   */
  public ScoredGeneration {
    Objects.requireNonNull(generation, "generation");
    if (!Double.isFinite(reward)) {
      throw new IllegalArgumentException(
          "Expected a finite reward, found "
              + reward
              + " for prompt '"
              + generation.prompt().id()
              + "' from "
              + generation.model());
    }
  }
}
