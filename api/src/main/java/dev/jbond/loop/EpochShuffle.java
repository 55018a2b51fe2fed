package dev.jbond.loop;

import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic batches over a data set: epochs of a fresh seeded shuffle, {@code batchSize} items
 * per step, an epoch's last batch completed from the next epoch. The batch of a step depends only
 * on (data, batch size, seed, step), so a resumed run sees the same batches as an uninterrupted
 * one.
 */
public final class EpochShuffle {
  private EpochShuffle() {}

  /**
   * Returns the batch of step {@code step}.
   *
   * @param <T> the item type
   * @param data the data set, not empty
   * @param batchSize items per step, {@code >= 1}
   * @param seed the shuffle seed
   * @param step the step index, {@code >= 0}
   * @return the batch, {@code batchSize} items
   * @throws IllegalArgumentException when the data set is empty, the batch size below 1 or the step
   *     negative
   */
  public static <T> List<T> batch(List<T> data, int batchSize, long seed, long step) {
    Checks.checkNotEmpty(data, "item");
    Checks.checkAtLeast(batchSize, 1, "batch size");
    Checks.checkArgument(step >= 0, "Expected step >= 0, found %d", step);
    int size = data.size();
    List<T> batch = new ArrayList<>(batchSize);
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
