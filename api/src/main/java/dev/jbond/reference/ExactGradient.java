package dev.jbond.reference;

import dev.jbond.PolicyRole;
import dev.jbond.bon.BestOfN;
import dev.jbond.objective.Bond;
import dev.jbond.objective.IterativeBond;
import dev.jbond.objective.Jbond;
import dev.jbond.objective.Objective;
import dev.jbond.objective.Reinforce;

/**
 * The exact (expected) gradient of an objective's loss on a tabular problem: what the sampled
 * weights of {@link Objective#weights} estimate, computed by enumerating every completion with its
 * exact probability and exact quantiles instead of sampling.
 *
 * <p>Each objective's loss has the form {@code E[sum_s w_s log pi(s)]}; its gradient with respect
 * to prompt i's logits is {@code c - (sum_y c_y) pi_i} with per-completion coefficients {@code c_y}
 * = (probability that y enters the loss) x (its expected weight). Per objective (P prompts):
 *
 * <ul>
 *   <li>{@link Jbond}: {@code c_y = [-(1 - beta) Bo2_anchor(y) + pi(y) (-beta (E[r_J(y)] - l(y)) +
 *       gamma l(y))] / P} with {@code l = log pi - log pi_anchor} and {@code E[r_J(y)] = -penalty
 *       (1 - p_<=(y))^2} (quantile under the anchor).
 *   <li>{@link Bond} and {@link IterativeBond}: {@code c_y = [-(1 - beta) BoN_q(y) - beta pi(y) ((N
 *       - 1) r_BOND(y) - l(y))] / P}, with q the reference (BOND) or the anchor (iterative), exact
 *       quantiles under q, and {@code l = log pi - log q}.
 *   <li>{@link Reinforce}: {@code c_y = -pi(y) (r(y) - c l(y)) / P}, {@code l = log pi - log
 *       pi_ref}.
 * </ul>
 *
 * <p>Baselines do not change the expectation and are omitted. The coefficients use the objectives'
 * own term functions ({@link Jbond#expectedJbondReward}, {@link Bond#bondReward}, {@link
 * Reinforce#sampleReturn}).
 */
public final class ExactGradient {
  private ExactGradient() {}

  /**
   * Returns the exact gradient of {@code objective}'s loss with respect to the policy logits.
   *
   * @param objective the objective
   * @param backend the tabular state (policy, anchor, reference)
   * @return one entry per parameter
   */
  public static double[] of(Objective objective, TabularBackend backend) {
    TabularProblem problem = backend.problem();
    double[] grad = new double[problem.parameterCount()];
    int prompts = problem.size();
    for (int i = 0; i < prompts; i++) {
      double[] pi = backend.probabilities(PolicyRole.POLICY, i);
      double[] logPi = backend.logProbabilities(PolicyRole.POLICY, i);
      double[] c = coefficients(objective, backend, i, pi, logPi);
      double sum = 0;
      for (double v : c) {
        sum += v;
      }
      int off = problem.offset(i);
      for (int k = 0; k < c.length; k++) {
        grad[off + k] = (c[k] - sum * pi[k]) / prompts;
      }
    }
    return grad;
  }

  private static double[] coefficients(
      Objective objective, TabularBackend backend, int i, double[] pi, double[] logPi) {
    double[] rewards = backend.problem().rewards(i);
    int len = pi.length;
    double[] c = new double[len];
    if (objective instanceof Jbond j) {
      double[] anchor = backend.probabilities(PolicyRole.ANCHOR, i);
      double[] logAnchor = backend.logProbabilities(PolicyRole.ANCHOR, i);
      BestOfN bon = BestOfN.of(anchor, rewards);
      double[] bo2 = bon.distribution(2);
      double[] pLe = bon.pLessOrEqual();
      for (int k = 0; k < len; k++) {
        double l = logPi[k] - logAnchor[k];
        double back = -j.beta() * (j.expectedJbondReward(pLe[k]) - l) + j.gamma() * l;
        c[k] = -(1 - j.beta()) * bo2[k] + pi[k] * back;
      }
    } else if (objective instanceof Bond b) {
      bond(c, b.n(), b.beta(), PolicyRole.REFERENCE, backend, i, pi, logPi, b::bondReward);
    } else if (objective instanceof IterativeBond b) {
      bond(c, b.n(), b.distill().beta(), PolicyRole.ANCHOR, backend, i, pi, logPi, b::bondReward);
    } else if (objective instanceof Reinforce r) {
      double[] logRef = backend.logProbabilities(PolicyRole.REFERENCE, i);
      for (int k = 0; k < len; k++) {
        c[k] = -pi[k] * r.sampleReturn(rewards[k], logPi[k] - logRef[k]);
      }
    } else {
      throw new IllegalArgumentException("Unknown objective " + objective);
    }
    return c;
  }

  @FunctionalInterface
  private interface BondReward {
    double of(double pLess, double pLessOrEqual);
  }

  private static void bond(
      double[] c,
      int n,
      double beta,
      PolicyRole comparison,
      TabularBackend backend,
      int i,
      double[] pi,
      double[] logPi,
      BondReward reward) {
    double[] q = backend.probabilities(comparison, i);
    double[] logQ = backend.logProbabilities(comparison, i);
    BestOfN bon = BestOfN.of(q, backend.problem().rewards(i));
    double[] target = bon.distribution(n);
    double[] pLt = bon.pLess();
    double[] pLe = bon.pLessOrEqual();
    for (int k = 0; k < c.length; k++) {
      double ret = (n - 1) * reward.of(pLt[k], pLe[k]) - (logPi[k] - logQ[k]);
      c[k] = -(1 - beta) * target[k] - beta * pi[k] * ret;
    }
  }
}
