package dev.jbond.models.demo;

import dev.jbond.internal.Checks;
import java.util.Objects;

/**
 * One training text, split into the prompt a policy is given and the completion it should write.
 *
 * @param prompt the opening words, not empty, for example {@code "The soup was"}
 * @param completion the rest of the text, not empty; in {@link SyntheticCorpus} it starts with a
 *     space and ends with {@code "."} or {@code "!"}
 */
public record Example(String prompt, String completion) {
  /**
   * Validates the components.
   *
   * @param prompt see the record description
   * @param completion see the record description
   * @throws IllegalArgumentException when the prompt or the completion is empty
   */
  public Example {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(completion, "completion");
    Checks.checkArgument(!prompt.isEmpty(), "Expected a non-empty prompt, found \"\"");
    Checks.checkArgument(
        !completion.isEmpty(), "Expected a non-empty completion of '%s', found \"\"", prompt);
  }

  /**
   * Returns the whole text, {@code prompt + completion}.
   *
   * @return the text
   */
  public String text() {
    return prompt + completion;
  }
}
