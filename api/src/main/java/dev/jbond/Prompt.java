package dev.jbond;

import java.util.Objects;

/**
 * A prompt: an identifier that is stable across a run (used for grouping samples and for per-prompt
 * seeds) and its token ids.
 *
 * @param id a non-empty identifier, unique within a data set
 * @param tokens the prompt's token ids
 */
public record Prompt(String id, TokenSequence tokens) {
  /**
   * Validates the components.
   *
   * @param id see the record description
   * @param tokens see the record description
   * @throws IllegalArgumentException when {@code id} is empty
   */
  public Prompt {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    if (id.isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty prompt id, found \"\"");
    }
  }
}
