package dev.jbond.bon;

import dev.jbond.internal.Checks;

/**
 * Closed forms for Best-of-N of a continuous, collision-free reward distribution.
 *
 * <p>When no outcome has positive probability (or, for a finite distribution, every outcome is
 * improbable and rewards are distinct), the correction factor of Theorem 1 (Sessa et al. 2024,
 * arXiv 2407.14622) is exactly {@code N}, and {@code pi_BoN(y) = N pi(y) F(y)^(N-1)} is the density
 * of the maximum of {@code N} draws. The reward quantile {@code u = F(r(y))} of a Best-of-N sample
 * is then {@code Beta(N, 1)} distributed, which gives
 *
 * <pre>{@code
 * KL(pi_BoN || pi) = log N + (N-1) E[log u] = log N - (N-1)/N
 * E[u]             = N / (N+1)
 * E[log u]         = -1/N
 * }</pre>
 *
 * <p>For example {@code KL} is 0.193, 0.636, 1.204 and 1.835 nats for {@code N} = 2, 4, 8, 16. For
 * finite distributions with collisions {@code C_N < N}, and {@code log N - (N-1)/N} is an upper
 * bound on the true KL (Beirami et al., "Theoretical guarantees on the Best-of-n alignment policy",
 * 2024, arXiv 2401.01879), which {@link BestOfN#klFromReference(int, TieBreak)} computes exactly.
 */
public final class ContinuousBestOfN {
  private ContinuousBestOfN() {}

  /**
   * Returns {@code KL(pi_BoN || pi) = log N - (N-1)/N} in nats.
   *
   * @param n the number of draws {@code N}, at least 1
   * @return the divergence; 0 for {@code N = 1}
   * @throws IllegalArgumentException when {@code n < 1}
   */
  public static double kl(int n) {
    Checks.checkAtLeast(n, 1, "N");
    return Math.log(n) - (n - 1.0) / n;
  }

  /**
   * Returns the expected reward quantile of a Best-of-N sample, {@code N/(N+1)}: its win rate
   * against one base draw.
   *
   * @param n the number of draws {@code N}, at least 1
   * @return the mean quantile, in {@code [1/2, 1)}
   * @throws IllegalArgumentException when {@code n < 1}
   */
  public static double meanQuantile(int n) {
    Checks.checkAtLeast(n, 1, "N");
    return n / (n + 1.0);
  }

  /**
   * Returns the expected log reward quantile of a Best-of-N sample, {@code -1/N}.
   *
   * @param n the number of draws {@code N}, at least 1
   * @return the mean log-quantile, in {@code [-1, 0)}
   * @throws IllegalArgumentException when {@code n < 1}
   */
  public static double meanLogQuantile(int n) {
    Checks.checkAtLeast(n, 1, "N");
    return -1.0 / n;
  }
}
