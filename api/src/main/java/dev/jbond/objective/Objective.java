package dev.jbond.objective;

import java.util.List;

/**
 * A training objective expressed as sequence weights (see the package description).
 *
 * <p>Call order, per step: the loop reads {@link #plan()}, samples and scores accordingly, computes
 * the requested log-probabilities, calls {@link #weights(List)}, trains on the result, then applies
 * {@link #anchorSchedule()}. Objectives are immutable and thread-safe.
 */
public sealed interface Objective permits Jbond, Bond, IterativeBond, Reinforce {
  /**
   * Returns what the loop must sample and evaluate per prompt.
   *
   * @return the plan
   */
  SamplePlan plan();

  /**
   * Returns what happens to the anchor after each step.
   *
   * @return the schedule
   */
  AnchorSchedule anchorSchedule();

  /**
   * Computes the sequence weights of one step. The loss is the mean over prompts.
   *
   * @param groups one group per prompt of the batch, not empty, each shaped by {@link #plan()}
   * @return the weights and loss terms
   * @throws IllegalArgumentException when {@code groups} is empty or a group does not match the
   *     plan
   */
  ObjectiveOutput weights(List<PromptGroup> groups);
}
