package dev.jbond.spi;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import java.util.List;

/**
 * Draws completions from a served policy. Implementations: the Triton sampler (a remote fleet), the
 * embedded Triton-protocol server (the same gRPC path), the direct in-process ONNX Runtime sampler,
 * and the tabular reference backend.
 *
 * <p>Samples come from whatever version of the role's model is currently served (see {@link
 * WeightPublisher}); each {@link Generation} records that version. Calls may run concurrently with
 * {@link PolicyLearner#step}: implementations must be thread-safe with respect to publishing.
 */
public interface PolicySampler extends AutoCloseable {
  /**
   * Draws {@code samplesPerPrompt} completions for each prompt.
   *
   * <p>Sampling is deterministic given {@code seed}: sample {@code j} of prompt {@code i} uses a
   * seed derived from {@code (seed, prompt id, j)}, so the same request gives the same samples and
   * different {@code j} give independent ones.
   *
   * @param prompts the prompts, not empty
   * @param samplesPerPrompt completions per prompt, {@code >= 1}
   * @param role which served model to sample from
   * @param seed the request seed
   * @return prompt-major list: entries {@code [i * samplesPerPrompt, (i + 1) * samplesPerPrompt)}
   *     belong to {@code prompts.get(i)}
   * @throws IllegalArgumentException when {@code prompts} is empty or {@code samplesPerPrompt < 1}
   * @throws dev.jbond.BackendException when the backend fails
   */
  List<Generation> sample(List<Prompt> prompts, int samplesPerPrompt, PolicyRole role, long seed);

  /** Releases the sampler's resources; idempotent. The default does nothing. */
  @Override
  default void close() {}
}
