package dev.jbond.objective;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * A sample as an objective sees it: the generation, its reward, and its sequence log-probabilities
 * under the three weight sets ({@code NaN} where the plan did not ask for them).
 *
 * @param generation the generation
 * @param reward its reward, finite
 * @param logPolicy log pi_t(y | x), or NaN
 * @param logAnchor log pi_anchor_t(y | x), or NaN
 * @param logReference log pi_ref(y | x), or NaN
 * @param logBehaviour log-probability of y under the weights that actually sampled it (the
 *     sampler's own per-token log-probs, summed), when those may differ from the current ones (a
 *     stale sample, staleness 1) and the objective should correct for it by importance weighting;
 *     NaN for an on-policy sample
 */
public record ScoredSample(
    Generation generation,
    double reward,
    double logPolicy,
    double logAnchor,
    double logReference,
    double logBehaviour) {
  /**
   * Creates an on-policy sample (no behaviour log-probability).
   *
   * @param generation the generation
   * @param reward its reward, finite
   * @param logPolicy log pi_t(y | x), or NaN
   * @param logAnchor log pi_anchor_t(y | x), or NaN
   * @param logReference log pi_ref(y | x), or NaN
   */
  public ScoredSample(
      Generation generation,
      double reward,
      double logPolicy,
      double logAnchor,
      double logReference) {
    this(generation, reward, logPolicy, logAnchor, logReference, Double.NaN);
  }

  /**
   * Validates the reward.
   *
   * @param generation see the record description
   * @param reward see the record description
   * @param logPolicy see the record description
   * @param logAnchor see the record description
   * @param logReference see the record description
   * @param logBehaviour see the record description
   * @throws IllegalArgumentException when the reward is NaN or infinite
   */
  public ScoredSample {
    Objects.requireNonNull(generation, "generation");
    Checks.checkReward(reward, generation);
  }

  /**
   * Returns the log-probability under {@code role}.
   *
   * @param role the weight set
   * @return the log-probability, or NaN when it was not computed
   */
  public double logProb(PolicyRole role) {
    return switch (role) {
      case POLICY -> logPolicy;
      case ANCHOR -> logAnchor;
      case REFERENCE -> logReference;
    };
  }

  /**
   * Returns the log-probability under {@code role}, failing when it was not computed.
   *
   * @param role the weight set
   * @return the log-probability
   * @throws IllegalStateException when it is NaN (not computed)
   */
  public double requireLogProb(PolicyRole role) {
    double v = logProb(role);
    if (Double.isNaN(v)) {
      throw new IllegalStateException(
          "Expected the "
              + role.label()
              + " log-probability of a sample of prompt '"
              + generation.prompt().id()
              + "', found none (the sample plan did not request it)");
    }
    return v;
  }
}
