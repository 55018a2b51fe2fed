package dev.jbond.bon;

import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * Monte-Carlo estimates of a reward's quantile from {@code k} reference rewards of the same prompt,
 * as BOND uses them (Sessa et al. 2024, arXiv 2407.14622, section 4.2; the paper takes {@code k =
 * 16} in training and 32 in evaluation):
 *
 * <pre>{@code
 * p_hat_<=(r) = (1/k) sum_{i=1..k} 1{ r_i <= r }
 * p_hat_<(r)  = (1/k) sum_{i=1..k} 1{ r_i <  r }
 * log p_hat_<=(r) is taken as log(max(p_hat_<=(r), floor))
 * }</pre>
 *
 * <p>The floor keeps BOND's reward {@code log p_<=} finite when {@code r} loses to all {@code k}
 * references. The paper does not say how it handles {@code log 0}; the default floor {@code 1/(2k)}
 * follows a third-party reimplementation (gurusha01/passk-frontier, {@code train_bon.py}), and a
 * fixed floor is available through {@link Floor#fixed(double)}.
 *
 * @param floor the floor policy for {@link #logPLessOrEqual(double, double[])}
 */
public record QuantileEstimator(Floor floor) {
  /**
   * Validates the components.
   *
   * @param floor see the record description
   * @throws NullPointerException when {@code floor} is null
   */
  public QuantileEstimator {
    Objects.requireNonNull(floor, "floor");
  }

  /**
   * Returns an estimator with the default floor {@code 1/(2k)} ({@link
   * Floor#halfOverSampleCount()}).
   *
   * @return the estimator
   */
  public static QuantileEstimator withDefaultFloor() {
    return new QuantileEstimator(Floor.halfOverSampleCount());
  }

  /**
   * Returns an estimator whose log-quantile floor is {@code value} whatever {@code k} is.
   *
   * @param value the floor, in {@code (0, 1]}
   * @return the estimator
   * @throws IllegalArgumentException when {@code value} is not in {@code (0, 1]}
   */
  public static QuantileEstimator withFixedFloor(double value) {
    return new QuantileEstimator(Floor.fixed(value));
  }

  /**
   * Returns {@code p_hat_<=(reward)}, the fraction of reference rewards that are {@code <= reward}.
   *
   * @param reward the reward to place, finite
   * @param referenceRewards the {@code k >= 1} reference rewards of the same prompt, each finite
   * @return the estimate, a multiple of {@code 1/k} in {@code [0, 1]}
   * @throws NullPointerException when {@code referenceRewards} is null
   * @throws IllegalArgumentException when {@code k < 1} or a reward is NaN or infinite
   */
  public double pLessOrEqual(double reward, double[] referenceRewards) {
    check(reward, referenceRewards);
    int count = 0;
    for (double r : referenceRewards) {
      if (r <= reward) {
        count++;
      }
    }
    return (double) count / referenceRewards.length;
  }

  /**
   * Returns {@code p_hat_<(reward)}, the fraction of reference rewards that are {@code < reward}.
   *
   * @param reward the reward to place, finite
   * @param referenceRewards the {@code k >= 1} reference rewards of the same prompt, each finite
   * @return the estimate, a multiple of {@code 1/k} in {@code [0, 1]}
   * @throws NullPointerException when {@code referenceRewards} is null
   * @throws IllegalArgumentException when {@code k < 1} or a reward is NaN or infinite
   */
  public double pLess(double reward, double[] referenceRewards) {
    check(reward, referenceRewards);
    int count = 0;
    for (double r : referenceRewards) {
      if (r < reward) {
        count++;
      }
    }
    return (double) count / referenceRewards.length;
  }

  /**
   * Returns {@code log(max(p_hat_<=(reward), floor))}, BOND's reward {@code r_BOND}; never {@code
   * -Infinity}.
   *
   * @param reward the reward to place, finite
   * @param referenceRewards the {@code k >= 1} reference rewards of the same prompt, each finite
   * @return the floored log-quantile, in {@code [log floor, 0]}
   * @throws NullPointerException when {@code referenceRewards} is null
   * @throws IllegalArgumentException when {@code k < 1} or a reward is NaN or infinite
   */
  public double logPLessOrEqual(double reward, double[] referenceRewards) {
    double p = pLessOrEqual(reward, referenceRewards);
    return Math.log(Math.max(p, floor.value(referenceRewards.length)));
  }

  private static void check(double reward, double[] referenceRewards) {
    Objects.requireNonNull(referenceRewards, "referenceRewards");
    Checks.checkArgument(Double.isFinite(reward), "Expected a finite reward, found %s", reward);
    Checks.checkAtLeast(referenceRewards.length, 1, "k (reference rewards)");
    for (int i = 0; i < referenceRewards.length; i++) {
      Checks.checkArgument(
          Double.isFinite(referenceRewards[i]),
          "Expected referenceRewards[%d] finite, found %s",
          i,
          referenceRewards[i]);
    }
  }

  /** How the smallest quantile used in the logarithm is chosen. */
  public sealed interface Floor permits Floor.HalfOverSampleCount, Floor.Fixed {
    /**
     * Returns the floor for {@code k} reference rewards.
     *
     * @param sampleCount {@code k}, at least 1
     * @return the floor, in {@code (0, 1]}
     * @throws IllegalArgumentException when {@code sampleCount < 1}
     */
    double value(int sampleCount);

    /**
     * Returns the rule {@code floor = 1/(2k)}, the default.
     *
     * @return the rule
     */
    static Floor halfOverSampleCount() {
      return new HalfOverSampleCount();
    }

    /**
     * Returns a fixed floor.
     *
     * @param value the floor, in {@code (0, 1]}
     * @return the rule
     * @throws IllegalArgumentException when {@code value} is not in {@code (0, 1]}
     */
    static Floor fixed(double value) {
      return new Fixed(value);
    }

    /**
     * The floor {@code 1/(2k)}: half of the smallest non-zero estimate. The paper does not specify
     * a floor; this one follows a third-party reimplementation (gurusha01/passk-frontier).
     */
    record HalfOverSampleCount() implements Floor {
      @Override
      public double value(int sampleCount) {
        Checks.checkAtLeast(sampleCount, 1, "k (reference rewards)");
        return 0.5 / sampleCount;
      }
    }

    /**
     * A floor that does not depend on {@code k}.
     *
     * @param value the floor, in {@code (0, 1]}
     */
    record Fixed(double value) implements Floor {
      /**
       * Validates the components.
       *
       * @param value see the record description
       * @throws IllegalArgumentException when {@code value} is not in {@code (0, 1]}
       */
      public Fixed {
        Checks.checkArgument(
            value > 0 && value <= 1, "Expected a floor in (0, 1], found %s", value);
      }

      @Override
      public double value(int sampleCount) {
        Checks.checkAtLeast(sampleCount, 1, "k (reference rewards)");
        return value;
      }
    }
  }
}
