package dev.jbond.objective;

import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import java.util.List;
import java.util.Objects;

/**
 * All samples of one prompt in a step: the policy's and the comparison samples (anchor or
 * reference), in the order they were drawn.
 *
 * @param prompt the prompt
 * @param policySamples the policy's samples, not empty
 * @param comparisonSamples the comparison samples, possibly empty
 */
public record PromptGroup(
    Prompt prompt, List<ScoredSample> policySamples, List<ScoredSample> comparisonSamples) {
  /**
   * Validates and copies the lists.
   *
   * @param prompt see the record description
   * @param policySamples see the record description
   * @param comparisonSamples see the record description
   * @throws IllegalArgumentException when there is no policy sample or a sample belongs to another
   *     prompt
   */
  public PromptGroup {
    Objects.requireNonNull(prompt, "prompt");
    policySamples = List.copyOf(policySamples);
    comparisonSamples = List.copyOf(comparisonSamples);
    Checks.checkNotEmpty(policySamples, "policy sample for prompt '" + prompt.id() + "'");
    for (List<ScoredSample> list : List.of(policySamples, comparisonSamples)) {
      for (ScoredSample s : list) {
        Checks.checkArgument(
            s.generation().prompt().id().equals(prompt.id()),
            "Expected samples of prompt '%s' in its group, found one of prompt '%s'",
            prompt.id(),
            s.generation().prompt().id());
      }
    }
  }
}
