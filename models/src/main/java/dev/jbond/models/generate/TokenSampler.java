package dev.jbond.models.generate;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Draws one token from one row of logits by {@link SamplingConfig}'s rule, in double precision, and
 * reports the token's log-probability under the sampling and the model distribution. One instance
 * serves one thread; it reuses its scratch arrays.
 *
 * <p>The draw is by inversion: with {@code u} from {@link RandomGenerator#nextDouble()} and the
 * kept tokens in a fixed order (token id order without top-k and top-p, else descending logit with
 * ties to the smaller id), the token is the first whose cumulative weight exceeds {@code u} times
 * the total weight. Weights are {@code exp((l_v - max l) / T)}, so no exponent overflows.
 */
final class TokenSampler {
  private final SamplingConfig config;
  private final int vocab;
  private final boolean filtering;
  private final float[] logits;
  private final double[] weights;
  private final long[] order;

  /** The token of the last successful {@link #draw}. */
  int token;

  /** Its log-probability under the sampling distribution. */
  double samplingLogProb;

  /** Its log-probability under the model's distribution. */
  double modelLogProb;

  TokenSampler(SamplingConfig config, int vocab) {
    this.config = config;
    this.vocab = vocab;
    this.filtering =
        !config.isGreedy() && ((config.topK() > 0 && config.topK() < vocab) || config.topP() < 1);
    this.logits = new float[vocab];
    this.weights = new double[vocab];
    this.order = filtering ? new long[vocab] : new long[0];
  }

  /**
   * Draws a token from {@code source[offset .. offset + V)}.
   *
   * @return false when the logits are not all finite (nothing is drawn)
   */
  boolean draw(FloatBuffer source, int offset, RandomGenerator random) {
    source.get(offset, logits);
    int argmax = 0;
    double max = logits[0];
    for (int v = 1; v < vocab; v++) {
      if (logits[v] > max) {
        max = logits[v];
        argmax = v;
      }
    }
    double sum = 0;
    for (int v = 0; v < vocab; v++) {
      sum += Math.exp(logits[v] - max);
    }
    double logNormaliser = max + Math.log(sum);
    if (!Double.isFinite(logNormaliser)) {
      return false;
    }
    if (config.isGreedy()) {
      token = argmax;
      samplingLogProb = 0;
    } else if (filtering) {
      drawFiltered(max, random.nextDouble());
    } else {
      drawFull(max, random.nextDouble());
    }
    modelLogProb = Math.min(0, logits[token] - logNormaliser);
    return true;
  }

  private void drawFull(double max, double u) {
    double inverseTemperature = 1 / config.temperature();
    double total = 0;
    for (int v = 0; v < vocab; v++) {
      weights[v] = Math.exp((logits[v] - max) * inverseTemperature);
      total += weights[v];
    }
    double target = u * total;
    double cumulative = 0;
    int chosen = -1;
    int lastPositive = 0;
    for (int v = 0; v < vocab && chosen < 0; v++) {
      if (weights[v] > 0) {
        lastPositive = v;
        cumulative += weights[v];
        if (cumulative > target) {
          chosen = v;
        }
      }
    }
    token = chosen >= 0 ? chosen : lastPositive;
    samplingLogProb = Math.min(0, (logits[token] - max) * inverseTemperature - Math.log(total));
  }

  private void drawFiltered(double max, double u) {
    int kept = config.topK() > 0 ? Math.min(config.topK(), vocab) : vocab;
    if (kept < vocab) {
      selectSmallest(kept);
      Arrays.sort(order, 0, kept);
    } else {
      for (int v = 0; v < vocab; v++) {
        order[v] = key(v);
      }
      Arrays.sort(order);
    }
    double inverseTemperature = 1 / config.temperature();
    double total = 0;
    for (int i = 0; i < kept; i++) {
      weights[i] = Math.exp((logits[id(i)] - max) * inverseTemperature);
      total += weights[i];
    }
    if (config.topP() < 1) {
      double threshold = config.topP() * total;
      double cumulative = 0;
      int nucleus = 0;
      while (nucleus < kept) {
        cumulative += weights[nucleus++];
        if (cumulative >= threshold) {
          break;
        }
      }
      kept = nucleus;
      total = cumulative;
    }
    double target = u * total;
    double cumulative = 0;
    int chosen = -1;
    int lastPositive = 0;
    for (int i = 0; i < kept && chosen < 0; i++) {
      if (weights[i] > 0) {
        lastPositive = i;
        cumulative += weights[i];
        if (cumulative > target) {
          chosen = i;
        }
      }
    }
    token = id(chosen >= 0 ? chosen : lastPositive);
    samplingLogProb = Math.min(0, (logits[token] - max) * inverseTemperature - Math.log(total));
  }

  /**
   * Leaves the {@code k} smallest keys (the {@code k} largest logits) in {@code order[0, k)}, in
   * heap order: a bounded max-heap, {@code O(V log k)} instead of sorting all {@code V}.
   */
  private void selectSmallest(int k) {
    for (int v = 0; v < k; v++) {
      order[v] = key(v);
      int child = v;
      while (child > 0 && order[(child - 1) / 2] < order[child]) {
        swap((child - 1) / 2, child);
        child = (child - 1) / 2;
      }
    }
    for (int v = k; v < vocab; v++) {
      long key = key(v);
      if (key < order[0]) {
        order[0] = key;
        int parent = 0;
        while (true) {
          int largest = parent;
          int left = 2 * parent + 1;
          int right = left + 1;
          if (left < k && order[left] > order[largest]) {
            largest = left;
          }
          if (right < k && order[right] > order[largest]) {
            largest = right;
          }
          if (largest == parent) {
            break;
          }
          swap(parent, largest);
          parent = largest;
        }
      }
    }
  }

  private void swap(int i, int j) {
    long t = order[i];
    order[i] = order[j];
    order[j] = t;
  }

  /** Sorts ascending as (logit descending, id ascending). */
  private long key(int v) {
    return ((long) descending(logits[v]) << 32) | v;
  }

  private int id(int rank) {
    return (int) order[rank];
  }

  /** An int whose signed order is the reverse of the floats' order. */
  private static int descending(float value) {
    int bits = Float.floatToIntBits(value);
    return ~(bits ^ ((bits >> 31) & 0x7FFFFFFF));
  }
}
