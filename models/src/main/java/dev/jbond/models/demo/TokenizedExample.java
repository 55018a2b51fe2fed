package dev.jbond.models.demo;

import dev.jbond.TokenSequence;
import java.util.Objects;

/**
 * One training example as token ids, as {@link CorpusFiles#readExamples} reads it.
 *
 * @param prompt the prompt's ids
 * @param completion the completion's ids, ending with the tokenizer's EOS id when written by {@link
 *     CorpusFiles}
 */
public record TokenizedExample(TokenSequence prompt, TokenSequence completion) {
  /**
   * Validates the components.
   *
   * @param prompt see the record description
   * @param completion see the record description
   */
  public TokenizedExample {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(completion, "completion");
  }
}
