package dev.jbond.models.generate;

import dev.jbond.BackendException;
import dev.jbond.LogProbs;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One sequence being decoded, as {@link DecodeLoop} and {@link InflightDecoder} keep it: its seeded
 * random source, the tokens drawn so far with their log-probabilities under the sampling and the
 * model distribution, and why it stopped. Not thread-safe.
 */
final class SequenceDraws {
  final Prompt prompt;
  final int sample;
  final SamplingConfig config;
  private final SplittableRandom random;
  private final int[] tokens;
  private final double[] samplingLogProbs;
  private final double[] modelLogProbs;
  private int count;
  private StopReason reason;

  SequenceDraws(Prompt prompt, int sample, SamplingConfig config, SplittableRandom random) {
    this.prompt = prompt;
    this.sample = sample;
    this.config = config;
    this.random = random;
    int max = config.maxNewTokens();
    this.tokens = new int[max];
    this.samplingLogProbs = new double[max];
    this.modelLogProbs = new double[max];
  }

  /** Whether the sequence has not stopped. */
  boolean active() {
    return reason == null;
  }

  /** Tokens drawn so far. */
  int count() {
    return count;
  }

  /** The last token drawn. */
  int last() {
    return tokens[count - 1];
  }

  /**
   * Draws the next token from {@code logits[offset .. offset + V)} with {@code sampler} (built for
   * this sequence's settings) and stops the sequence after its EOS token or its last allowed token.
   *
   * @throws BackendException when the logits are not all finite
   */
  void draw(TokenSampler sampler, FloatBuffer logits, int offset, String modelName) {
    if (!sampler.draw(logits, offset, random)) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Expected finite logits from model '"
              + modelName
              + "', found NaN or infinity at completion position "
              + count
              + " of prompt '"
              + prompt.id()
              + "' sample "
              + sample,
          null);
    }
    int k = count++;
    tokens[k] = sampler.token;
    samplingLogProbs[k] = sampler.samplingLogProb;
    modelLogProbs[k] = sampler.modelLogProb;
    if (config.isEos(sampler.token)) {
      reason = StopReason.EOS;
    } else if (count == config.maxNewTokens()) {
      reason = StopReason.LENGTH;
    }
  }

  /** The completion drawn so far. */
  SampledSequence toSequence() {
    return new SampledSequence(
        prompt,
        sample,
        TokenSequence.of(Arrays.copyOf(tokens, count)),
        LogProbs.of(Arrays.copyOf(samplingLogProbs, count)),
        LogProbs.of(Arrays.copyOf(modelLogProbs, count)),
        reason);
  }
}
