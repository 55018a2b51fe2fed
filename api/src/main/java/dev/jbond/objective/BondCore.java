package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.bon.BestOfN;
import dev.jbond.bon.QuantileEstimator;
import dev.jbond.internal.Checks;
import dev.jbond.spi.WeightedSequence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The BOND weights shared by {@link Bond} (comparison = reference) and {@link IterativeBond}
 * (comparison = anchor): the Jeffreys divergence to Best-of-n of the comparison policy, with
 * Monte-Carlo quantiles from the comparison samples.
 */
final class BondCore {
  private BondCore() {}

  static void check(int n, double beta, int quantileSamples, double floor, int policySamples) {
    Checks.checkAtLeast(n, 1, "N");
    Checks.checkInRange(beta, 0, 1, "beta");
    Checks.checkAtLeast(quantileSamples, n, "quantile samples per prompt (at least N)");
    Checks.checkArgument(
        floor > 0 && floor <= 1, "Expected a quantile floor in (0, 1], found %s", floor);
    Checks.checkAtLeast(policySamples, 1, "policy samples per prompt");
  }

  /**
   * The BOND reward {@code r_BOND = log p_<= (+ log C_n / (n - 1) with the collision correction)}.
   */
  static double bondReward(int n, double pLess, double pLessOrEqual, boolean collisionCorrection) {
    double r = Math.log(pLessOrEqual);
    if (collisionCorrection && n > 1) {
      r += Math.log(BestOfN.correctionFactor(pLess, pLessOrEqual, n)) / (n - 1);
    }
    return r;
  }

  static ObjectiveOutput weights(
      List<PromptGroup> groups,
      SamplePlan plan,
      String name,
      int n,
      double beta,
      QuantileEstimator estimator,
      Baseline baseline,
      boolean collisionCorrection) {
    Terms.checkShape(groups, plan, name);
    PolicyRole cmp = plan.comparisonRole();
    int prompts = groups.size();
    int k = plan.policySamples();
    int total = prompts * k;
    double[] returns = new double[total];
    double[] logPi = new double[total];
    double logQuantileSum = 0;
    double quantileSum = 0;
    int i = 0;
    for (PromptGroup g : groups) {
      double[] cmpRewards = new double[g.comparisonSamples().size()];
      for (int j = 0; j < cmpRewards.length; j++) {
        cmpRewards[j] = g.comparisonSamples().get(j).reward();
      }
      for (ScoredSample y : g.policySamples()) {
        logPi[i] = y.requireLogProb(PolicyRole.POLICY);
        double logRatio = logPi[i] - y.requireLogProb(cmp);
        double pLe = estimator.pLessOrEqual(y.reward(), cmpRewards);
        double pLt = estimator.pLess(y.reward(), cmpRewards);
        double flooredLe = Math.max(pLe, estimator.floor().value(cmpRewards.length));
        double flooredLt = Math.min(pLt, flooredLe);
        double r = bondReward(n, flooredLt, flooredLe, collisionCorrection);
        returns[i] = (n - 1) * r - logRatio;
        logQuantileSum += Math.log(flooredLe);
        quantileSum += pLe;
        i++;
      }
    }
    double[] b = Terms.baselines(returns, baseline);
    List<WeightedSequence> batch = new ArrayList<>(prompts * (k + 1));
    double fwSum = 0;
    int fwCount = 0;
    double bwSum = 0;
    i = 0;
    for (PromptGroup g : groups) {
      ScoredSample best = g.comparisonSamples().get(Terms.best(g.comparisonSamples(), n));
      batch.add(new WeightedSequence(best.generation(), -(1 - beta) / prompts));
      if (!Double.isNaN(best.logPolicy())) {
        fwSum += -best.logPolicy();
        fwCount++;
      }
      for (ScoredSample y : g.policySamples()) {
        double advantage = returns[i] - b[i];
        batch.add(new WeightedSequence(y.generation(), -beta * advantage / total));
        bwSum += -advantage * logPi[i];
        i++;
      }
    }
    double lossFw = fwCount == prompts ? fwSum / prompts : Double.NaN;
    double lossBw = bwSum / total;
    return new ObjectiveOutput(
        batch,
        lossFw,
        lossBw,
        0.0,
        (1 - beta) * lossFw + beta * lossBw,
        Map.of("logQuantileMean", logQuantileSum / total, "quantileMean", quantileSum / total));
  }
}
