package dev.jbond.loop;

import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

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
    int size = data.size();
    return step -> {
      List<Prompt> batch = new ArrayList<>(batchSize);
      long start = step * batchSize;
      int[] order = null;
      long orderEpoch = -1;
      for (long pos = start; pos < start + batchSize; pos++) {
        long epoch = pos / size;
        if (epoch != orderEpoch) {
          order = permutation(size, new SplittableRandom(seed ^ (epoch * 0x9E3779B97F4A7C15L)));
          orderEpoch = epoch;
        }
        batch.add(data.get(order[(int) (pos % size)]));
      }
      return batch;
    };
  }

  private static int[] permutation(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
