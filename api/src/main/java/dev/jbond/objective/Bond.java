package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.bon.QuantileEstimator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * BOND for a fixed N: the Jeffreys divergence {@code J_beta(pi || pi_BoN)} to Best-of-N of the
 * reference policy, with Monte-Carlo quantiles (Sessa et al. 2024, sections 3-4; specification:
 * {@code bond-algorithm.md}, section 2).
 *
 * <p>Per prompt x of a batch of P prompts: policy samples {@code y ~ pi(x)} and k reference samples
 * {@code y_1..y_k ~ pi_ref(x)}, all scored.
 *
 * <ul>
 *   <li>Forward term {@code KL(pi_BoN || pi)}: SFT on a real Best-of-N sample, the best of the
 *       first N reference samples (the earliest on ties): weight {@code -(1 - beta) / P}.
 *   <li>Backward term {@code KL(pi || pi_BoN)}, whose gradient is {@code -E_pi[grad log pi(y)
 *       R(y)]} with {@code R(y) = (N - 1) r_BOND(y) - (log pi(y) - log pi_ref(y))} and {@code
 *       r_BOND(y) = log p_<=(y)}; the quantile is the Monte-Carlo estimate {@code p_hat_<=(y) =
 *       (1/k) sum_i 1{r(y_i) <= r(y)}}, floored (the paper does not say how it handles {@code log
 *       0}). Weight {@code -beta (R - B) / (P m)} for m policy samples per prompt.
 *   <li>Optionally the collision correction: {@code r_BOND += log C_N(p_<, p_<=) / (N - 1)}, which
 *       makes the backward fixed point exactly Theorem 1's {@code pi_BoN}; the paper drops it
 *       ("made no significant difference").
 * </ul>
 *
 * <p>The anchor is not used: quantiles and KL are measured against the frozen reference.
 *
 * @param n N of Best-of-N, {@code >= 1}
 * @param beta Jeffreys weight in {@code [0, 1]}; default 0.5 (paper)
 * @param quantileSamples k, reference samples per prompt, {@code >= N}; default 16 (paper, XSum)
 * @param quantileFloor lower bound on {@code p_hat_<=} before the log, in {@code (0, 1]}; default
 *     {@code 1/(2k)}
 * @param baseline the policy-gradient baseline; default {@link Baseline#LEAVE_ONE_OUT} (the paper
 *     uses the mean return of the other generations of the batch)
 * @param policySamples policy samples per prompt, {@code >= 1}; default 1
 * @param collisionCorrection whether to add the {@code log C_N / (N - 1)} term; default false
 *     (paper)
 */
public record Bond(
    int n,
    double beta,
    int quantileSamples,
    double quantileFloor,
    Baseline baseline,
    int policySamples,
    boolean collisionCorrection)
    implements Objective {

  /**
   * Validates the hyperparameters.
   *
   * @param n see the record description
   * @param beta see the record description
   * @param quantileSamples see the record description
   * @param quantileFloor see the record description
   * @param baseline see the record description
   * @param policySamples see the record description
   * @param collisionCorrection see the record description
   * @throws IllegalArgumentException when a value is out of range
   */
  public Bond {
    BondCore.check(n, beta, quantileSamples, quantileFloor, policySamples);
    Objects.requireNonNull(baseline, "baseline");
  }

  /**
   * Returns a builder for Best-of-{@code n} with the paper's defaults.
   *
   * @param n N, {@code >= 1}
   * @return the builder
   */
  public static Builder builder(int n) {
    return new Builder(n);
  }

  /**
   * The BOND reward of a sample with quantiles {@code p_<} and {@code p_<=} (already floored):
   * {@code log p_<=}, plus {@code log C_N / (N - 1)} with the collision correction.
   *
   * @param pLess {@code P[r(y') < r(y)]}
   * @param pLessOrEqual {@code P[r(y') <= r(y)]}, {@code > 0}
   * @return {@code r_BOND(y)}
   */
  public double bondReward(double pLess, double pLessOrEqual) {
    return BondCore.bondReward(n, pLess, pLessOrEqual, collisionCorrection);
  }

  @Override
  public SamplePlan plan() {
    return new SamplePlan(
        policySamples,
        PolicyRole.REFERENCE,
        quantileSamples,
        Set.of(PolicyRole.POLICY, PolicyRole.REFERENCE),
        true);
  }

  @Override
  public AnchorSchedule anchorSchedule() {
    return new AnchorSchedule.Frozen();
  }

  /** The best of the first n comparison samples, whose log-likelihood the forward term raises. */
  @Override
  public int[] trainedComparisons(double[] rewards) {
    return new int[] {Terms.best(rewards, Math.min(n, rewards.length))};
  }

  @Override
  public ObjectiveOutput weights(List<PromptGroup> groups) {
    return BondCore.weights(
        groups,
        plan(),
        "BOND",
        n,
        beta,
        QuantileEstimator.withFixedFloor(quantileFloor),
        baseline,
        collisionCorrection);
  }

  /** Builds a {@link Bond}; settings start at the paper's defaults. */
  public static final class Builder {
    private final int n;
    private double beta = 0.5;
    private int quantileSamples = -1;
    private double quantileFloor = Double.NaN;
    private Baseline baseline = Baseline.LEAVE_ONE_OUT;
    private int policySamples = 1;
    private boolean collisionCorrection = false;

    private Builder(int n) {
      this.n = n;
    }

    /**
     * Sets the Jeffreys weight.
     *
     * @param beta in {@code [0, 1]}; default 0.5
     * @return this builder
     */
    public Builder optBeta(double beta) {
      this.beta = beta;
      return this;
    }

    /**
     * Sets the number of reference samples per prompt for the quantile estimate.
     *
     * @param quantileSamples {@code >= N}; default {@code max(16, N)}
     * @return this builder
     */
    public Builder optQuantileSamples(int quantileSamples) {
      this.quantileSamples = quantileSamples;
      return this;
    }

    /**
     * Sets the floor of the estimated quantile.
     *
     * @param quantileFloor in {@code (0, 1]}; default {@code 1/(2k)}
     * @return this builder
     */
    public Builder optQuantileFloor(double quantileFloor) {
      this.quantileFloor = quantileFloor;
      return this;
    }

    /**
     * Sets the baseline.
     *
     * @param baseline the baseline; default {@link Baseline#LEAVE_ONE_OUT}
     * @return this builder
     */
    public Builder optBaseline(Baseline baseline) {
      this.baseline = baseline;
      return this;
    }

    /**
     * Sets the number of policy samples per prompt.
     *
     * @param policySamples {@code >= 1}; default 1
     * @return this builder
     */
    public Builder optPolicySamples(int policySamples) {
      this.policySamples = policySamples;
      return this;
    }

    /**
     * Sets whether the collision correction is added to the BOND reward.
     *
     * @param collisionCorrection default false
     * @return this builder
     */
    public Builder optCollisionCorrection(boolean collisionCorrection) {
      this.collisionCorrection = collisionCorrection;
      return this;
    }

    /**
     * Validates the settings and returns the objective.
     *
     * @return the objective
     * @throws IllegalArgumentException when a value is out of range
     */
    public Bond build() {
      int k = quantileSamples > 0 ? quantileSamples : Math.max(16, n);
      double floor = Double.isNaN(quantileFloor) ? 1.0 / (2 * k) : quantileFloor;
      return new Bond(n, beta, k, floor, baseline, policySamples, collisionCorrection);
    }
  }
}
