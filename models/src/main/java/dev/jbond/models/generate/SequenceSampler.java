package dev.jbond.models.generate;

import dev.jbond.Prompt;
import dev.jbond.models.decoder.DecoderConfig;
import java.util.List;

/**
 * Draws completions from one decoder in batches of prompts x samples.
 *
 * <p>A request of {@code P} prompts and {@code n} samples each has {@code P n} rows, run together
 * in batches of at most a configured number of rows. Row {@code (i, j)} draws from its own {@link
 * SequenceSeeds#random(long, String, int) SplittableRandom(seed(requestSeed, prompt id, j))}, one
 * {@code nextDouble()} per token (none when greedy), so its tokens do not depend on the other rows
 * of its batch (up to floating-point rounding of the logits in a different batch shape, which can
 * move a draw only when it falls within about {@code 1e-6} of a boundary of the cumulative
 * distribution).
 *
 * <p>Implementations are thread-safe: several requests may run at once.
 */
public interface SequenceSampler {
  /**
   * Draws {@code samplesPerPrompt} completions of each prompt.
   *
   * @param prompts the prompts, not empty; each non-empty, with token ids below the vocabulary size
   *     and {@code length + config.maxNewTokens() <= contextLength} (so that every {@code prompt ++
   *     completion} fits the full-sequence graph that the learner scores it with)
   * @param samplesPerPrompt completions per prompt, {@code >= 1}
   * @param config how to sample and when to stop
   * @param seed the request seed
   * @return prompt-major list: entries {@code [i * samplesPerPrompt, (i + 1) * samplesPerPrompt)}
   *     belong to {@code prompts.get(i)}, in sample order
   * @throws IllegalArgumentException when {@code prompts} is empty, {@code samplesPerPrompt < 1}, a
   *     prompt is empty, too long for the context or holds a token outside the vocabulary, or an
   *     EOS or pad id of {@code config} is outside the vocabulary
   * @throws IllegalStateException when the session is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails or the model returns non-finite
   *     logits
   */
  List<SampledSequence> sample(
      List<Prompt> prompts, int samplesPerPrompt, SamplingConfig config, long seed);

  /**
   * Returns the configuration of the decoder this sampler runs.
   *
   * @return the decoder configuration
   */
  DecoderConfig decoderConfig();
}
