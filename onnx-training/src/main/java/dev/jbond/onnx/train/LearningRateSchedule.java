package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * The learning rate of each optimizer step: a linear warm-up, then a constant rate or a linear or
 * cosine decay to a floor.
 *
 * <p>For step {@code t = 1, 2, ...} (the step being taken), base rate {@code lr}, warm-up length
 * {@code W}, decay end {@code T} and floor {@code lr_min}:
 *
 * <pre>
 *   t &lt;= W:                 rate = lr * t / W
 *   t &gt; W, CONSTANT:         rate = lr
 *   t &gt; W, LINEAR:           rate = lr_min + (lr - lr_min) * (1 - p)
 *   t &gt; W, COSINE:           rate = lr_min + (lr - lr_min) * (1 + cos(pi * p)) / 2
 *   with progress p = min(1, (t - W) / (T - W))
 * </pre>
 *
 * <p>The warm-up reaches the full rate at step {@code W} (the first step already moves, unlike
 * schedules that start at rate 0); {@code W = 0} disables it. After step {@code T} a decaying
 * schedule stays at {@code lr_min}. The J-BOND runs of the BOND paper use 100 warm-up steps (Sessa
 * et al., arXiv 2407.14622, Gemma experiments), the default of {@link LearnerConfig}.
 *
 * @param kind what follows the warm-up
 * @param warmupSteps {@code W}, the number of warm-up steps, {@code >= 0}
 * @param totalSteps {@code T}, the step at which a decay reaches the floor; {@code > W} for {@link
 *     Kind#LINEAR} and {@link Kind#COSINE}, ignored (0) for {@link Kind#CONSTANT}
 * @param minLearningRate {@code lr_min}, the floor of a decay, {@code >= 0}; ignored for {@link
 *     Kind#CONSTANT}
 */
public record LearningRateSchedule(
    Kind kind, long warmupSteps, long totalSteps, double minLearningRate) {
  /** What follows the warm-up. */
  public enum Kind {
    /** The base rate, unchanged. */
    CONSTANT,
    /** A straight line from the base rate down to the floor at {@code totalSteps}. */
    LINEAR,
    /** A half cosine from the base rate down to the floor at {@code totalSteps}. */
    COSINE
  }

  /**
   * Validates the components.
   *
   * @param kind see the record description
   * @param warmupSteps see the record description
   * @param totalSteps see the record description
   * @param minLearningRate see the record description
   * @throws IllegalArgumentException when a count is negative, a decay ends before its warm-up, or
   *     the floor is negative or not finite
   */
  public LearningRateSchedule {
    Objects.requireNonNull(kind, "kind");
    Checks.checkArgument(warmupSteps >= 0, "Expected warmupSteps >= 0, found %d", warmupSteps);
    Checks.checkNonNegative(minLearningRate, "minLearningRate");
    if (kind != Kind.CONSTANT) {
      Checks.checkArgument(
          totalSteps > warmupSteps,
          "Expected totalSteps > warmupSteps (%d) for a %s decay, found %d",
          warmupSteps,
          kind,
          totalSteps);
    }
  }

  /**
   * Returns a warm-up followed by a constant rate.
   *
   * @param warmupSteps the warm-up length, {@code >= 0}
   * @return the schedule
   */
  public static LearningRateSchedule constant(long warmupSteps) {
    return new LearningRateSchedule(Kind.CONSTANT, warmupSteps, 0, 0);
  }

  /**
   * Returns a warm-up followed by a linear decay to {@code minLearningRate} at {@code totalSteps}.
   *
   * @param warmupSteps the warm-up length, {@code >= 0}
   * @param totalSteps the step at which the floor is reached, {@code > warmupSteps}
   * @param minLearningRate the floor, {@code >= 0}
   * @return the schedule
   */
  public static LearningRateSchedule linear(
      long warmupSteps, long totalSteps, double minLearningRate) {
    return new LearningRateSchedule(Kind.LINEAR, warmupSteps, totalSteps, minLearningRate);
  }

  /**
   * Returns a warm-up followed by a cosine decay to {@code minLearningRate} at {@code totalSteps}.
   *
   * @param warmupSteps the warm-up length, {@code >= 0}
   * @param totalSteps the step at which the floor is reached, {@code > warmupSteps}
   * @param minLearningRate the floor, {@code >= 0}
   * @return the schedule
   */
  public static LearningRateSchedule cosine(
      long warmupSteps, long totalSteps, double minLearningRate) {
    return new LearningRateSchedule(Kind.COSINE, warmupSteps, totalSteps, minLearningRate);
  }

  /**
   * Returns the rate of step {@code step}.
   *
   * @param baseRate the base learning rate {@code lr}, {@code >= 0}
   * @param step the step being taken, {@code >= 1}
   * @return the learning rate
   * @throws IllegalArgumentException when {@code step < 1}
   */
  public double rate(double baseRate, long step) {
    Checks.checkArgument(step >= 1, "Expected a step >= 1, found %d", step);
    if (step <= warmupSteps) {
      return baseRate * step / warmupSteps;
    }
    if (kind == Kind.CONSTANT) {
      return baseRate;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
    double floor = Math.min(minLearningRate, baseRate);
    double shape =
        kind == Kind.LINEAR ? 1.0 - progress : 0.5 * (1.0 + Math.cos(Math.PI * progress));
    return floor + (baseRate - floor) * shape;
  }
}
