package dev.jbond.objective;

import dev.jbond.internal.Checks;

/**
 * What the training loop does with the anchor after each optimizer step.
 *
 * <p>{@link Ema}: {@code theta_anchor <- (1 - eta) theta_anchor + eta theta} every step (J-BOND,
 * Eq. 18). {@link HardRefresh}: {@code theta_anchor <- theta} every {@code everySteps} steps
 * (iterative BOND, Algorithm 1). {@link Frozen}: the anchor stays at the reference (BOND,
 * REINFORCE).
 */
public sealed interface AnchorSchedule
    permits AnchorSchedule.Ema, AnchorSchedule.HardRefresh, AnchorSchedule.Frozen {

  /**
   * Returns the EMA rate to apply after optimizer step {@code step}; 0 means leave the anchor.
   *
   * @param step the learner's step count after the step, {@code >= 1}
   * @return eta in {@code [0, 1]}
   */
  double etaAfterStep(long step);

  /**
   * Exponential moving average of the policy's weights.
   *
   * @param eta the EMA rate in {@code [0, 1]}
   */
  record Ema(double eta) implements AnchorSchedule {
    /**
     * Validates eta.
     *
     * @param eta see the record description
     * @throws IllegalArgumentException when eta is outside {@code [0, 1]}
     */
    public Ema {
      Checks.checkInRange(eta, 0, 1, "eta");
    }

    @Override
    public double etaAfterStep(long step) {
      return eta;
    }
  }

  /**
   * Copy the policy into the anchor every {@code everySteps} steps.
   *
   * @param everySteps the refresh period, {@code >= 1}
   */
  record HardRefresh(int everySteps) implements AnchorSchedule {
    /**
     * Validates the period.
     *
     * @param everySteps see the record description
     * @throws IllegalArgumentException when {@code everySteps < 1}
     */
    public HardRefresh {
      Checks.checkAtLeast(everySteps, 1, "anchor refresh period");
    }

    @Override
    public double etaAfterStep(long step) {
      return step % everySteps == 0 ? 1.0 : 0.0;
    }
  }

  /** The anchor never moves. */
  record Frozen() implements AnchorSchedule {
    @Override
    public double etaAfterStep(long step) {
      return 0.0;
    }
  }
}
