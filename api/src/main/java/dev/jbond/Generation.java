package dev.jbond;

import java.util.Objects;
import java.util.Optional;

/**
 * One sampled completion of a prompt.
 *
 * <p>The completion mask is implied: every token of {@link #completion()} is a generated token,
 * every prompt token is not; padding never appears here (engines strip it). {@link
 * #completionMask()} returns the explicit 0/1 mask over {@code prompt ++ completion} for engines
 * that need it.
 *
 * @param prompt the prompt that was completed
 * @param completion the generated token ids, without the prompt; may be empty
 * @param engineLogProbs the sampling engine's per-token log-probabilities of {@code completion},
 *     when it reports them; same length as {@code completion}
 * @param model the model and version that produced this sample
 */
public record Generation(
    Prompt prompt,
    TokenSequence completion,
    Optional<LogProbs> engineLogProbs,
    ModelVersion model) {
  /**
   * Validates the components.
   *
   * @param prompt see the record description
   * @param completion see the record description
   * @param engineLogProbs see the record description
   * @param model see the record description
   * @throws IllegalArgumentException when the engine log-probs do not match the completion length
   */
  public Generation {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(completion, "completion");
    Objects.requireNonNull(engineLogProbs, "engineLogProbs");
    Objects.requireNonNull(model, "model");
    engineLogProbs.ifPresent(
        lp -> {
          if (lp.length() != completion.length()) {
            throw new IllegalArgumentException(
                "Expected "
                    + completion.length()
                    + " engine log-probs (one per completion token), found "
                    + lp.length()
                    + " for prompt '"
                    + prompt.id()
                    + "'");
          }
        });
  }

  /**
   * Creates a generation without engine log-probs.
   *
   * @param prompt the prompt
   * @param completion the generated tokens
   * @param model the producing model
   * @return the generation
   */
  public static Generation of(Prompt prompt, TokenSequence completion, ModelVersion model) {
    return new Generation(prompt, completion, Optional.empty(), model);
  }

  /**
   * Returns {@code prompt ++ completion}.
   *
   * @return the full token sequence
   */
  public TokenSequence fullSequence() {
    return prompt.tokens().concat(completion);
  }

  /**
   * Returns the completion mask over {@link #fullSequence()}: 0 for prompt tokens, 1 for generated
   * tokens.
   *
   * @return a new array of length {@code prompt.length + completion.length}
   */
  public int[] completionMask() {
    int p = prompt.tokens().length();
    int[] mask = new int[p + completion.length()];
    java.util.Arrays.fill(mask, p, mask.length, 1);
    return mask;
  }
}
