package dev.jbond.models.generate;

import dev.jbond.Generation;
import dev.jbond.LogProbs;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import java.util.Objects;
import java.util.Optional;

/**
 * One completion drawn by a {@link SequenceSampler}, with the log-probabilities of its tokens.
 *
 * <p>For completion token {@code t_k} drawn after prefix {@code x} (prompt and earlier completion
 * tokens), {@code samplingLogProbs[k] = log pi(t_k | x)} under the sampling distribution of the
 * {@link SamplingConfig} (after temperature, top-k and top-p; 0 for greedy decoding), and {@code
 * modelLogProbs[k] = log softmax(l(x))[t_k]} under the model's untempered, unfiltered distribution.
 * The two agree when the temperature is 1 and top-k and top-p are off.
 *
 * @param prompt the prompt
 * @param sample the sample index {@code j} within the prompt, {@code >= 0}
 * @param completion the generated tokens, without the prompt and without padding; ends with the EOS
 *     token when {@code stopReason} is {@link StopReason#EOS}
 * @param samplingLogProbs per-token log-probabilities under the sampling distribution
 * @param modelLogProbs per-token log-probabilities under the model's distribution
 * @param stopReason why the completion ended
 */
public record SampledSequence(
    Prompt prompt,
    int sample,
    TokenSequence completion,
    LogProbs samplingLogProbs,
    LogProbs modelLogProbs,
    StopReason stopReason) {
  /**
   * Validates the components.
   *
   * @param prompt see the record description
   * @param sample see the record description
   * @param completion see the record description
   * @param samplingLogProbs see the record description
   * @param modelLogProbs see the record description
   * @param stopReason see the record description
   * @throws IllegalArgumentException when the sample index is negative or a log-prob sequence has
   *     another length than the completion
   */
  public SampledSequence {
    Objects.requireNonNull(prompt, "prompt");
    Checks.checkArgument(sample >= 0, "Expected a sample index >= 0, found %d", sample);
    Objects.requireNonNull(completion, "completion");
    Objects.requireNonNull(samplingLogProbs, "samplingLogProbs");
    Objects.requireNonNull(modelLogProbs, "modelLogProbs");
    Objects.requireNonNull(stopReason, "stopReason");
    Checks.checkSameLength(
        completion.length(), samplingLogProbs.length(), "sampling log-probs (one per token)");
    Checks.checkSameLength(
        completion.length(), modelLogProbs.length(), "model log-probs (one per token)");
  }

  /**
   * Returns this sample as a {@link Generation} whose engine log-probs are {@link
   * #samplingLogProbs()}.
   *
   * @param model the model and version that produced it
   * @return the generation
   */
  public Generation toGeneration(ModelVersion model) {
    return new Generation(prompt, completion, Optional.of(samplingLogProbs), model);
  }
}
