package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.bon.QuantileEstimator;
import dev.jbond.internal.Checks;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Iterative BOND: the Jeffreys divergence to Best-of-n of a moving anchor, with a hard anchor
 * refresh every M steps (Sessa et al. 2024, section 5, Algorithm 1; specification: {@code
 * bond-algorithm.md}, section 3). After j refreshes the policy approximates Best-of-{@code n^j} of
 * the reference without fixing N in advance.
 *
 * <p>The weights are those of {@link Bond} with the anchor in place of the reference: the
 * comparison samples, the quantiles, the Best-of-n sample of the forward term and the KL term of
 * the return ({@code log pi - log pi_anchor}) are all taken against the anchor, and {@code n - 1}
 * replaces {@code N - 1}. All of {@code distill}'s settings apply with that reading: for example
 * {@code distill.quantileSamples()} anchor samples are drawn per prompt.
 *
 * @param distill the BOND settings of each distillation phase, read against the anchor; the paper
 *     uses n in {2, 4} and beta 0.5
 * @param refreshEvery M, the hard anchor refresh period in steps, {@code >= 1}; the paper uses 1000
 *     (XSum)
 */
public record IterativeBond(Bond distill, int refreshEvery) implements Objective {

  /**
   * Validates the settings.
   *
   * @param distill see the record description
   * @param refreshEvery see the record description
   * @throws IllegalArgumentException when the refresh period is below 1
   */
  public IterativeBond {
    Objects.requireNonNull(distill, "distill");
    Checks.checkAtLeast(refreshEvery, 1, "anchor refresh period");
  }

  /**
   * Returns iterative BOND with the paper's defaults: Best-of-2 of the anchor, beta 0.5, 16 anchor
   * samples per prompt for the quantile, refresh every 1000 steps.
   *
   * @return the objective
   */
  public static IterativeBond defaults() {
    return new IterativeBond(Bond.builder(2).build(), 1000);
  }

  /**
   * Returns n of Best-of-n of the anchor.
   *
   * @return n
   */
  public int n() {
    return distill.n();
  }

  /**
   * Returns the BOND reward of a sample with anchor quantiles {@code p_<} and {@code p_<=}.
   *
   * @param pLess {@code P[r(a) < r(y)]}
   * @param pLessOrEqual {@code P[r(a) <= r(y)]}, {@code > 0}
   * @return {@code r_BOND(y)}
   * @see Bond#bondReward(double, double)
   */
  public double bondReward(double pLess, double pLessOrEqual) {
    return distill.bondReward(pLess, pLessOrEqual);
  }

  @Override
  public SamplePlan plan() {
    return new SamplePlan(
        distill.policySamples(),
        PolicyRole.ANCHOR,
        distill.quantileSamples(),
        Set.of(PolicyRole.POLICY, PolicyRole.ANCHOR),
        true);
  }

  @Override
  public AnchorSchedule anchorSchedule() {
    return new AnchorSchedule.HardRefresh(refreshEvery);
  }

  /**
   * The best of the first distill.n() comparison samples, whose log-likelihood the forward term
   * raises.
   */
  @Override
  public int[] trainedComparisons(double[] rewards) {
    return new int[] {Terms.best(rewards, Math.min(distill.n(), rewards.length))};
  }

  @Override
  public ObjectiveOutput weights(List<PromptGroup> groups) {
    return BondCore.weights(
        groups,
        plan(),
        "iterative BOND",
        distill.n(),
        distill.beta(),
        QuantileEstimator.withFixedFloor(distill.quantileFloor()),
        distill.baseline(),
        distill.collisionCorrection());
  }
}
