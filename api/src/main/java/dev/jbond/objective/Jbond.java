package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import dev.jbond.spi.WeightedSequence;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * J-BOND: the Jeffreys divergence to Best-of-2 of an EMA anchor (Sessa et al. 2024, Algorithm 2;
 * specification: {@code bond-algorithm.md}, section 4).
 *
 * <p>Per prompt x of a batch of P prompts: one policy sample {@code y ~ pi_t(x)} and two anchor
 * samples {@code a1, a2 ~ pi_anchor_t(x)}, all scored by the reward r.
 *
 * <ul>
 *   <li>Forward term (SFT on the better anchor sample): {@code best = argmax(r(a1), r(a2))} (a1 on
 *       ties), {@code L_fw = -log pi_t(best | x)}: weight {@code -(1 - beta) / P} on {@code best}.
 *   <li>Backward term (policy gradient): {@code r_J(y) = -log 16} if {@code r(y) < min(r(a1),
 *       r(a2))}, else 0; return {@code R = r_J(y) - (log pi_t(y|x) - log pi_anchor_t(y|x))}
 *       (stop-gradient); optional baseline B (the mean return of the other prompts' samples);
 *       {@code L_bw = -(R - B) log pi_t(y|x)}: weight {@code -beta (R - B) / P} on y. The constant
 *       {@code -log 16} makes {@code E[r_J] = log p_<=} at the median ({@code p_<= = 1/2}).
 *   <li>Anchor regulariser: {@code L_reg = sg(log pi_t(y|x) - log pi_anchor_t(y|x)) log pi_t(y|x)},
 *       the score-function gradient of {@code KL(pi_t || pi_anchor_t)}, pulling the policy toward
 *       the anchor: weight {@code gamma (log pi_t - log pi_anchor) / P} on y. (The paper's
 *       pseudo-code prints a minus sign here; it is a typo.)
 *   <li>Loss: mean over prompts of {@code (1 - beta) L_fw + beta L_bw + gamma L_reg}; then the EMA
 *       anchor update {@code theta_anchor <- (1 - eta) theta_anchor + eta theta_{t+1}}.
 * </ul>
 *
 * <p>With {@code k > 1} policy samples per prompt (an extension; the paper uses 1) every policy
 * sample is compared with the same two anchor samples and the backward and regulariser weights are
 * divided by {@code k}.
 *
 * <p><b>Stale samples.</b> When the loop samples step t's samples while step t-1 learns (staleness
 * 1), policy samples come from pi_{t-1} and anchor samples from the previous anchor. Samples that
 * carry their behaviour log-probability ({@link ScoredSample#logBehaviour}) are then importance
 * weighted so that each term's expectation is the on-policy one: a policy sample's backward and
 * regulariser weight by {@code rho_y = pi_t(y) / pi_b(y)}; the forward term, and the backward
 * reward {@code r_J}, which both depend on the pair of anchor samples, by the pair's ratio {@code
 * rho_a = pi_anchor_t(a1) pi_anchor_t(a2) / (pi_anchor_b(a1) pi_anchor_b(a2))} (a Best-of-2
 * sample's probability involves both draws, so weighting the chosen one alone would not undo the
 * staleness). Each ratio is truncated at {@code importanceBound} (truncated importance sampling).
 * Samples without a behaviour log-probability (staleness 0) are used as they are and no ratio is
 * computed.
 *
 * @param beta Jeffreys mixing weight in {@code [0, 1]}: 0 is forward KL only, 1 backward KL only;
 *     default 0.5 (the paper's value everywhere)
 * @param eta EMA rate of the anchor in {@code [0, 1]}; default 0.02 (paper, Fig. 5 and 7)
 * @param gamma extra KL-to-anchor coefficient, {@code >= 0}; default 0 (paper, Fig. 5)
 * @param penalty the magnitude of the backward reward when the policy sample loses to both anchor
 *     samples, {@code > 0}; default {@code log 16} (paper, Eq. 17)
 * @param baseline the policy-gradient baseline; default {@link Baseline#NONE} (the paper calls it
 *     optional)
 * @param policySamples policy samples per prompt, {@code >= 1}; default 1 (paper)
 * @param importanceBound the truncation of importance ratios when samples are stale (see below),
 *     {@code >= 1}; default 2
 */
public record Jbond(
    double beta,
    double eta,
    double gamma,
    double penalty,
    Baseline baseline,
    int policySamples,
    double importanceBound)
    implements Objective {
  /** The default truncation of importance ratios. */
  public static final double DEFAULT_IMPORTANCE_BOUND = 2.0;

  /** The default backward penalty, {@code log 16}. */
  public static final double LOG_16 = Math.log(16);

  /**
   * Validates the hyperparameters.
   *
   * @param beta see the record description
   * @param eta see the record description
   * @param gamma see the record description
   * @param penalty see the record description
   * @param baseline see the record description
   * @param policySamples see the record description
   * @param importanceBound see the record description
   * @throws IllegalArgumentException when a value is out of range
   */
  public Jbond {
    Checks.checkInRange(beta, 0, 1, "beta");
    Checks.checkInRange(eta, 0, 1, "eta");
    Checks.checkNonNegative(gamma, "gamma");
    Checks.checkArgument(
        penalty > 0 && Double.isFinite(penalty),
        "Expected a finite penalty > 0, found %s",
        penalty);
    Objects.requireNonNull(baseline, "baseline");
    Checks.checkAtLeast(policySamples, 1, "policy samples per prompt");
    Checks.checkArgument(
        importanceBound >= 1 && !Double.isNaN(importanceBound),
        "Expected an importance-ratio bound >= 1, found %s",
        importanceBound);
  }

  /**
   * Returns J-BOND with the paper's defaults: beta 0.5, eta 0.02, gamma 0, penalty log 16, no
   * baseline, one policy sample.
   *
   * @return the objective
   */
  public static Jbond defaults() {
    return builder().build();
  }

  /**
   * Returns a builder preset to {@link #defaults()}.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The backward reward {@code r_J(y)}: {@code -penalty} when {@code r(y) < min(r(a1), r(a2))},
   * else 0.
   *
   * @param reward r(y)
   * @param anchorReward1 r(a1)
   * @param anchorReward2 r(a2)
   * @return the reward
   */
  public double jbondReward(double reward, double anchorReward1, double anchorReward2) {
    return reward < Math.min(anchorReward1, anchorReward2) ? -penalty : 0.0;
  }

  /**
   * The expected backward reward of a sample whose reward quantile under the anchor is {@code
   * pLessOrEqual}: {@code -penalty (1 - p_<=)^2} (both anchor samples strictly better).
   *
   * @param pLessOrEqual {@code P[r(a) <= r(y)]} for {@code a ~ pi_anchor}
   * @return the expectation
   */
  public double expectedJbondReward(double pLessOrEqual) {
    double worse = 1 - pLessOrEqual;
    return -penalty * worse * worse;
  }

  @Override
  public SamplePlan plan() {
    return new SamplePlan(
        policySamples, PolicyRole.ANCHOR, 2, Set.of(PolicyRole.POLICY, PolicyRole.ANCHOR), true);
  }

  @Override
  public AnchorSchedule anchorSchedule() {
    return new AnchorSchedule.Ema(eta);
  }

  /** The best of the first two comparison samples, whose log-likelihood the forward term raises. */
  @Override
  public int[] trainedComparisons(double[] rewards) {
    return new int[] {Terms.best(rewards, Math.min(2, rewards.length))};
  }

  @Override
  public ObjectiveOutput weights(List<PromptGroup> groups) {
    SamplePlan plan = plan();
    Terms.checkShape(groups, plan, "J-BOND");
    int prompts = groups.size();
    int n = prompts * policySamples;
    double[] returns = new double[n];
    double[] logPi = new double[n];
    double[] logRatio = new double[n];
    double[] policyWeight = new double[n];
    double[] pairWeight = new double[prompts];
    boolean corrected = false;
    double ratioSum = 0;
    double pairRatioSum = 0;
    int truncated = 0;
    int losses = 0;
    int i = 0;
    int p = 0;
    for (PromptGroup g : groups) {
      ScoredSample a1 = g.comparisonSamples().get(0);
      ScoredSample a2 = g.comparisonSamples().get(1);
      double rhoPair = 1;
      if (!Double.isNaN(a1.logBehaviour()) || !Double.isNaN(a2.logBehaviour())) {
        corrected = true;
        rhoPair =
            Math.exp(
                a1.requireLogProb(PolicyRole.ANCHOR)
                    - behaviour(a1)
                    + a2.requireLogProb(PolicyRole.ANCHOR)
                    - behaviour(a2));
        pairRatioSum += rhoPair;
        truncated += rhoPair > importanceBound ? 1 : 0;
      }
      pairWeight[p] = Math.min(rhoPair, importanceBound);
      for (ScoredSample y : g.policySamples()) {
        logPi[i] = y.requireLogProb(PolicyRole.POLICY);
        logRatio[i] = logPi[i] - y.requireLogProb(PolicyRole.ANCHOR);
        double rho = 1;
        if (!Double.isNaN(y.logBehaviour())) {
          corrected = true;
          rho = Math.exp(logPi[i] - y.logBehaviour());
          ratioSum += rho;
          truncated += rho > importanceBound ? 1 : 0;
        }
        policyWeight[i] = Math.min(rho, importanceBound);
        double rj = jbondReward(y.reward(), a1.reward(), a2.reward());
        if (rj < 0) {
          losses++;
        }
        returns[i] = rj * pairWeight[p] - logRatio[i];
        i++;
      }
      p++;
    }
    double[] b = Terms.baselines(returns, baseline);
    List<WeightedSequence> batch = new ArrayList<>(prompts * (policySamples + 1));
    double fwSum = 0;
    int fwCount = 0;
    double bwSum = 0;
    double regSum = 0;
    double returnSum = 0;
    i = 0;
    p = 0;
    for (PromptGroup g : groups) {
      ScoredSample best = g.comparisonSamples().get(Terms.best(g.comparisonSamples(), 2));
      batch.add(new WeightedSequence(best.generation(), -(1 - beta) * pairWeight[p] / prompts));
      if (!Double.isNaN(best.logPolicy())) {
        fwSum += -best.logPolicy();
        fwCount++;
      }
      for (ScoredSample y : g.policySamples()) {
        double advantage = returns[i] - b[i];
        double w = policyWeight[i] * (-beta * advantage + gamma * logRatio[i]) / n;
        batch.add(new WeightedSequence(y.generation(), w));
        bwSum += -advantage * logPi[i];
        regSum += logRatio[i] * logPi[i];
        returnSum += returns[i];
        i++;
      }
      p++;
    }
    double lossFw = fwCount == prompts ? fwSum / prompts : Double.NaN;
    double lossBw = bwSum / n;
    double lossReg = regSum / n;
    double loss = (1 - beta) * lossFw + beta * lossBw + gamma * lossReg;
    Map<String, Double> extras = new LinkedHashMap<>();
    extras.put("returnMean", returnSum / n);
    extras.put("lossRate", (double) losses / n);
    if (corrected) {
      extras.put("importanceRatioMean", ratioSum / n);
      extras.put("anchorImportanceRatioMean", pairRatioSum / prompts);
      extras.put("importanceTruncated", (double) truncated / (n + prompts));
    }
    return new ObjectiveOutput(batch, lossFw, lossBw, lossReg, loss, extras);
  }

  /** The behaviour log-probability of a stale anchor sample; on-policy when absent. */
  private static double behaviour(ScoredSample a) {
    return Double.isNaN(a.logBehaviour()) ? a.requireLogProb(PolicyRole.ANCHOR) : a.logBehaviour();
  }

  /** Builds a {@link Jbond}; every setting starts at the paper's default. */
  public static final class Builder {
    private double beta = 0.5;
    private double eta = 0.02;
    private double gamma = 0.0;
    private double penalty = LOG_16;
    private Baseline baseline = Baseline.NONE;
    private int policySamples = 1;
    private double importanceBound = DEFAULT_IMPORTANCE_BOUND;

    private Builder() {}

    /**
     * Sets the truncation of importance ratios of stale samples.
     *
     * @param bound {@code >= 1}; default {@value Jbond#DEFAULT_IMPORTANCE_BOUND}
     * @return this builder
     */
    public Builder optImportanceBound(double bound) {
      this.importanceBound = bound;
      return this;
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
     * Sets the EMA rate of the anchor.
     *
     * @param eta in {@code [0, 1]}; default 0.02
     * @return this builder
     */
    public Builder optEta(double eta) {
      this.eta = eta;
      return this;
    }

    /**
     * Sets the extra KL-to-anchor coefficient.
     *
     * @param gamma {@code >= 0}; default 0
     * @return this builder
     */
    public Builder optGamma(double gamma) {
      this.gamma = gamma;
      return this;
    }

    /**
     * Sets the backward penalty magnitude.
     *
     * @param penalty {@code > 0}; default {@code log 16}
     * @return this builder
     */
    public Builder optPenalty(double penalty) {
      this.penalty = penalty;
      return this;
    }

    /**
     * Sets the policy-gradient baseline.
     *
     * @param baseline the baseline; default {@link Baseline#NONE}
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
     * Validates the settings and returns the objective.
     *
     * @return the objective
     * @throws IllegalArgumentException when a value is out of range
     */
    public Jbond build() {
      return new Jbond(beta, eta, gamma, penalty, baseline, policySamples, importanceBound);
    }
  }
}
