package dev.jbond.objective;

/** How a policy-gradient term centres its returns to reduce variance. */
public enum Baseline {
  /** No baseline: {@code B = 0}. */
  NONE,
  /**
   * Leave-one-out: {@code B} for a sample is the mean return of the other policy samples of the
   * batch (for J-BOND and BOND, the other prompts' samples; for REINFORCE, the other samples of the
   * same prompt). With a single sample there are no others and {@code B = 0}.
   */
  LEAVE_ONE_OUT
}
