package dev.jbond.loop;

import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import java.util.List;

/**
 * Supplies the prompts of each training step. Implementations must be deterministic in the step
 * index, so that a resumed run sees the same batches as an uninterrupted one.
 */
@FunctionalInterface
public interface PromptSource {
  /**
   * Returns the prompts of step {@code step}.
   *
   * @param step the step index, {@code >= 0} (0 is the first step)
   * @return the prompts, not empty
   */
  List<Prompt> batch(long step);

  /**
   * Returns a source that goes through {@code prompts} in epochs of a fresh seeded shuffle, {@code
   * batchSize} prompts per step (an epoch's last batch is completed from the next epoch).
   *
   * @param prompts the data set, not empty, ids unique
   * @param batchSize prompts per step, {@code >= 1}
   * @param seed the shuffle seed
   * @return the source
   * @throws IllegalArgumentException when the data set is empty or the batch size below 1
   */
  static PromptSource shuffled(List<Prompt> prompts, int batchSize, long seed) {
    List<Prompt> data = List.copyOf(Checks.checkNotEmpty(prompts, "prompt"));
    Checks.checkAtLeast(batchSize, 1, "batch size");
    return step -> EpochShuffle.batch(data, batchSize, seed, step);
  }
}
