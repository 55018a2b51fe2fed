package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import dev.jbond.spi.WeightedSequence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * REINFORCE on KL-regularised reward, the baseline the paper compares J-BOND against (Sessa et al.
 * 2024, section 6, following Ahmadian et al. 2024; specification: {@code bond-algorithm.md},
 * section 5).
 *
 * <p>Per prompt, k policy samples {@code y_i ~ pi_t(x)} (default 2); return {@code R_i = r(y_i) - c
 * (log pi_t(y_i|x) - log pi_ref(y_i|x))} (stop-gradient), leave-one-out baseline {@code B_i} = mean
 * return of the other samples of the same prompt; loss {@code -(R_i - B_i) log pi_t(y_i|x)}
 * averaged over all samples: weight {@code -(R_i - B_i) / (P k)}. This is an unbiased gradient of
 * {@code E_pi[r] - c KL(pi || pi_ref)}, whose maximiser is {@code pi_ref exp(r / c) / Z}. The
 * anchor is not used.
 *
 * @param klCoefficient c, the KL coefficient, {@code > 0}; the paper sweeps 0.001, 0.01, 0.1, 1
 * @param samplesPerPrompt k, {@code >= 1}; default 2 (paper)
 * @param baseline the baseline; default {@link Baseline#LEAVE_ONE_OUT} (paper)
 */
public record Reinforce(double klCoefficient, int samplesPerPrompt, Baseline baseline)
    implements Objective {

  /**
   * Validates the hyperparameters.
   *
   * @param klCoefficient see the record description
   * @param samplesPerPrompt see the record description
   * @param baseline see the record description
   * @throws IllegalArgumentException when a value is out of range
   */
  public Reinforce {
    Checks.checkArgument(
        klCoefficient > 0 && Double.isFinite(klCoefficient),
        "Expected a finite KL coefficient > 0, found %s",
        klCoefficient);
    Checks.checkAtLeast(samplesPerPrompt, 1, "samples per prompt");
    Objects.requireNonNull(baseline, "baseline");
  }

  /**
   * Returns REINFORCE with the paper's setup (2 samples, leave-one-out) and KL coefficient {@code
   * c}.
   *
   * @param klCoefficient c, {@code > 0}
   * @return the objective
   */
  public static Reinforce withKlCoefficient(double klCoefficient) {
    return new Reinforce(klCoefficient, 2, Baseline.LEAVE_ONE_OUT);
  }

  /**
   * The return of one sample: {@code r - c (log pi - log pi_ref)}.
   *
   * @param reward r(y)
   * @param logRatio {@code log pi(y) - log pi_ref(y)}
   * @return the return
   */
  public double sampleReturn(double reward, double logRatio) {
    return reward - klCoefficient * logRatio;
  }

  @Override
  public SamplePlan plan() {
    return new SamplePlan(
        samplesPerPrompt,
        PolicyRole.REFERENCE,
        0,
        Set.of(PolicyRole.POLICY, PolicyRole.REFERENCE),
        false);
  }

  @Override
  public AnchorSchedule anchorSchedule() {
    return new AnchorSchedule.Frozen();
  }

  @Override
  public ObjectiveOutput weights(List<PromptGroup> groups) {
    Terms.checkShape(groups, plan(), "REINFORCE");
    int n = groups.size() * samplesPerPrompt;
    List<WeightedSequence> batch = new ArrayList<>(n);
    double lossSum = 0;
    double returnSum = 0;
    double[] returns = new double[samplesPerPrompt];
    for (PromptGroup g : groups) {
      List<ScoredSample> samples = g.policySamples();
      for (int i = 0; i < samplesPerPrompt; i++) {
        ScoredSample s = samples.get(i);
        double logRatio =
            s.requireLogProb(PolicyRole.POLICY) - s.requireLogProb(PolicyRole.REFERENCE);
        returns[i] = sampleReturn(s.reward(), logRatio);
      }
      double[] b = Terms.baselines(returns, baseline);
      for (int i = 0; i < samplesPerPrompt; i++) {
        ScoredSample s = samples.get(i);
        double advantage = returns[i] - b[i];
        batch.add(new WeightedSequence(s.generation(), -advantage / n));
        lossSum += -advantage * s.logPolicy();
        returnSum += returns[i];
      }
    }
    double loss = lossSum / n;
    return new ObjectiveOutput(batch, 0.0, loss, 0.0, loss, Map.of("returnMean", returnSum / n));
  }
}
