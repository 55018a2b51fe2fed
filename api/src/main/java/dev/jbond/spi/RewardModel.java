package dev.jbond.spi;

import dev.jbond.Generation;
import java.util.List;

/** Scores (prompt, completion) pairs: one scalar reward r(x, y) per generation. */
public interface RewardModel extends AutoCloseable {
  /**
   * Scores a batch of generations.
   *
   * @param generations the generations to score, not empty
   * @return one reward per generation, in order; implementations may return non-finite values,
   *     which callers reject with a message naming the generation
   * @throws IllegalArgumentException when {@code generations} is empty
   * @throws dev.jbond.BackendException when the backend fails
   */
  double[] score(List<Generation> generations);

  /** Releases the model's resources; idempotent. The default does nothing. */
  @Override
  default void close() {}
}
