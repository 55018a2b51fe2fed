package dev.jbond.reference;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.bon.BestOfN;
import dev.jbond.objective.Bond;
import dev.jbond.objective.IterativeBond;
import dev.jbond.objective.Jbond;
import dev.jbond.objective.Objective;
import dev.jbond.objective.ObjectiveOutput;
import dev.jbond.objective.PromptGroup;
import dev.jbond.objective.Reinforce;
import dev.jbond.objective.ScoredSample;
import dev.jbond.spi.WeightedSequence;
import java.util.ArrayList;
import java.util.List;

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

  /**
   * Returns the expected gradient of J-BOND's sampled estimator ({@link Jbond#weights}, the code
   * the loop runs) when its samples are drawn from other weights than the current ones: policy
   * samples from {@code behaviourPolicy}, anchor pairs from {@code behaviourAnchor} (probabilities
   * per prompt, as {@link TabularBackend#probabilities} returns them), as with staleness 1. Every
   * (policy sample, anchor sample, anchor sample) triple of every prompt is enumerated with its
   * probability and passed to {@link Jbond#weights} as a one-prompt group; the expected weight on
   * each completion gives the gradient as in {@link #of}. With {@code corrected}, samples carry
   * their behaviour log-probability (so the objective importance weights them); without, they are
   * used as if the current weights had drawn them.
   *
   * <p>With behaviour equal to the current weights this equals {@link #of} for J-BOND without a
   * baseline.
   *
   * @param objective J-BOND (no baseline: a leave-one-out baseline needs other prompts)
   * @param backend the current policy and anchor
   * @param behaviourPolicy per prompt, the probabilities that drew the policy samples
   * @param behaviourAnchor per prompt, the probabilities that drew the anchor samples
   * @param corrected whether samples carry their behaviour log-probabilities
   * @return one entry per parameter
   */
  public static double[] ofStaleEstimator(
      Jbond objective,
      TabularBackend backend,
      double[][] behaviourPolicy,
      double[][] behaviourAnchor,
      boolean corrected) {
    TabularProblem problem = backend.problem();
    double[] grad = new double[problem.parameterCount()];
    int prompts = problem.size();
    ModelVersion model = new ModelVersion("exact", 0);
    for (int i = 0; i < prompts; i++) {
      Prompt prompt = problem.prompts().get(i);
      double[] pi = backend.probabilities(PolicyRole.POLICY, i);
      double[] logPi = backend.logProbabilities(PolicyRole.POLICY, i);
      double[] logAnchor = backend.logProbabilities(PolicyRole.ANCHOR, i);
      double[] rewards = problem.rewards(i);
      int len = pi.length;
      double[] c = new double[len];
      for (int y = 0; y < len; y++) {
        for (int a1 = 0; a1 < len; a1++) {
          for (int a2 = 0; a2 < len; a2++) {
            double probability =
                behaviourPolicy[i][y] * behaviourAnchor[i][a1] * behaviourAnchor[i][a2];
            if (probability == 0) {
              continue;
            }
            ScoredSample policy =
                new ScoredSample(
                    generation(prompt, y, model),
                    rewards[y],
                    logPi[y],
                    logAnchor[y],
                    Double.NaN,
                    corrected ? Math.log(behaviourPolicy[i][y]) : Double.NaN);
            List<ScoredSample> pair = new ArrayList<>(2);
            for (int a : new int[] {a1, a2}) {
              pair.add(
                  new ScoredSample(
                      generation(prompt, a, model),
                      rewards[a],
                      logPi[a],
                      logAnchor[a],
                      Double.NaN,
                      corrected ? Math.log(behaviourAnchor[i][a]) : Double.NaN));
            }
            ObjectiveOutput out =
                objective.weights(List.of(new PromptGroup(prompt, List.of(policy), pair)));
            for (WeightedSequence w : out.batch()) {
              c[w.generation().completion().get(0)] += probability * w.weight();
            }
          }
        }
      }
      double sum = 0;
      for (double v : c) {
        sum += v;
      }
      int off = problem.offset(i);
      for (int k = 0; k < len; k++) {
        // the objective already divides by its one prompt; the loss averages over all prompts
        grad[off + k] = (c[k] - sum * pi[k]) / prompts;
      }
    }
    return grad;
  }

  private static Generation generation(Prompt prompt, int completion, ModelVersion model) {
    return Generation.of(prompt, TokenSequence.of(completion), model);
  }
}
