package dev.jbond.metrics;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one training step measured; written as one JSON object per line by {@code
 * JsonLinesMetricsWriter}. Field names are stable (README, "Metrics"). Values that were not
 * measured are {@code NaN} and are written as JSON {@code null}.
 *
 * @param step the learner's step count after this step (1 after the first step)
 * @param prompts prompts in the step's batch
 * @param policyVersion the served policy version the policy samples came from
 * @param anchorVersion the served anchor version the anchor samples came from (-1 when none)
 * @param staleness how many optimizer steps the policy samples lag behind the weights they train
 * @param rewardMean mean reward of the policy samples
 * @param anchorRewardMean mean reward of the anchor (or reference) samples, NaN when none
 * @param winRate mean over policy samples of the fraction of same-prompt anchor samples they beat
 *     (ties count one half), NaN when there are no anchor samples
 * @param klAnchor estimate of KL(pi || pi_anchor): mean of log pi - log pi_anchor over policy
 *     samples
 * @param klReference estimate of KL(pi || pi_ref): mean of log pi - log pi_ref over policy samples,
 *     NaN when not tracked
 * @param lossForward mean forward-KL term of the loss (the SFT term on Best-of-N samples)
 * @param lossBackward mean backward-KL term of the loss (the policy-gradient term)
 * @param lossRegularizer mean extra KL-regularisation term
 * @param loss the total loss the learner minimised
 * @param entropy estimate of the policy's sequence entropy: mean of -log pi over policy samples
 * @param completionLength mean completion length of the policy samples, in tokens
 * @param gradientNorm the global gradient norm before clipping
 * @param learningRate the learning rate of this step
 * @param timings wall-clock milliseconds per phase (keys: {@code sample}, {@code score}, {@code
 *     logprobs}, {@code learn}, {@code anchor}, {@code publish}, {@code checkpoint}, {@code total})
 * @param extras objective-specific values (for example {@code logQuantileMean} for BOND), and the
 *     loop's {@code samples} (drawn this step, all roles) and {@code tokensGenerated} (their
 *     completion tokens)
 */
public record StepMetrics(
    long step,
    int prompts,
    long policyVersion,
    long anchorVersion,
    long staleness,
    double rewardMean,
    double anchorRewardMean,
    double winRate,
    double klAnchor,
    double klReference,
    double lossForward,
    double lossBackward,
    double lossRegularizer,
    double loss,
    double entropy,
    double completionLength,
    double gradientNorm,
    double learningRate,
    Map<String, Double> timings,
    Map<String, Double> extras) {
  /**
   * Copies the maps into sorted immutable maps.
   *
   * @param step see the record description
   * @param prompts see the record description
   * @param policyVersion see the record description
   * @param anchorVersion see the record description
   * @param staleness see the record description
   * @param rewardMean see the record description
   * @param anchorRewardMean see the record description
   * @param winRate see the record description
   * @param klAnchor see the record description
   * @param klReference see the record description
   * @param lossForward see the record description
   * @param lossBackward see the record description
   * @param lossRegularizer see the record description
   * @param loss see the record description
   * @param entropy see the record description
   * @param completionLength see the record description
   * @param gradientNorm see the record description
   * @param learningRate see the record description
   * @param timings see the record description
   * @param extras see the record description
   */
  public StepMetrics {
    timings = java.util.Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(timings)));
    extras = java.util.Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(extras)));
  }
}
