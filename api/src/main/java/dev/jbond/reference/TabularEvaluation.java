package dev.jbond.reference;

import dev.jbond.PolicyRole;
import dev.jbond.bon.BestOfN;
import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact evaluation of a tabular policy: its mean reward quantile under the reference, its KL to the
 * reference, and the Best-of-N frontier of the problem (the quantile and KL that Best-of-N of the
 * reference reaches), all averaged over prompts.
 *
 * <p>The reward quantile of a completion y is the mid-quantile {@code (p_<(y) + p_<=(y)) / 2} under
 * the reference, so that the reference itself scores exactly 0.5 and Best-of-N scores {@code N / (N
 * + 1)} when rewards are distinct and single completions improbable.
 */
public final class TabularEvaluation {
  private final TabularProblem problem;
  private final BestOfN[] bon;
  private final List<Point> frontier = new ArrayList<>();

  /**
   * Creates the evaluation of a problem.
   *
   * @param problem the problem
   */
  public TabularEvaluation(TabularProblem problem) {
    this.problem = problem;
    this.bon = new BestOfN[problem.size()];
    for (int i = 0; i < bon.length; i++) {
      bon[i] = problem.referenceBestOfN(i);
    }
  }

  /**
   * A point of the reward/KL plane.
   *
   * @param quantile mean reward quantile under the reference
   * @param kl KL(pi || pi_ref) in nats
   */
  public record Point(double quantile, double kl) {}

  /**
   * Returns the mean quantile and KL to the reference of a role's current policy.
   *
   * @param backend the backend holding the weights
   * @param role the weight set to evaluate
   * @return the point
   */
  public Point evaluate(TabularBackend backend, PolicyRole role) {
    double q = 0;
    double kl = 0;
    for (int i = 0; i < bon.length; i++) {
      double[] pi = backend.probabilities(role, i);
      q += bon[i].meanQuantile(pi);
      kl += BestOfN.kl(pi, problem.referenceProbabilities(i));
    }
    return new Point(q / bon.length, kl / bon.length);
  }

  /**
   * Returns the exact Best-of-N point of the reference: the mean quantile of {@code pi_BoN} and
   * {@code KL(pi_BoN || pi_ref)}, averaged over prompts.
   *
   * @param n N, {@code >= 1}
   * @return the point
   */
  public Point bestOfN(int n) {
    Checks.checkAtLeast(n, 1, "N");
    double q = 0;
    double kl = 0;
    for (BestOfN b : bon) {
      double[] d = b.distribution(n);
      q += b.meanQuantile(d);
      kl += BestOfN.kl(d, b.probabilities());
    }
    return new Point(q / bon.length, kl / bon.length);
  }

  /**
   * Returns the Best-of-N frontier's KL at {@code quantile}: linear interpolation between the
   * Best-of-N points for N = 1..maxN (0 at or below the reference's quantile).
   *
   * @param quantile a mean quantile
   * @param maxN the largest N of the frontier, {@code >= 1}
   * @return the interpolated KL, or infinity beyond Best-of-maxN
   */
  public double frontierKl(double quantile, int maxN) {
    Checks.checkAtLeast(maxN, 1, "largest N of the frontier");
    while (frontier.size() < maxN) {
      frontier.add(bestOfN(frontier.size() + 1));
    }
    Point prev = frontier.get(0);
    if (quantile <= prev.quantile()) {
      return 0;
    }
    for (int n = 2; n <= maxN; n++) {
      Point p = frontier.get(n - 1);
      if (quantile <= p.quantile()) {
        double t = (quantile - prev.quantile()) / (p.quantile() - prev.quantile());
        return prev.kl() + t * (p.kl() - prev.kl());
      }
      prev = p;
    }
    return Double.POSITIVE_INFINITY;
  }
}
