package dev.jbond;

import dev.jbond.internal.Checks;
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
    Checks.checkReward(reward, generation);
  }
}
