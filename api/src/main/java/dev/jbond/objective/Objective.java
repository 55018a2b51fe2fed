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

  /**
   * Returns which of one prompt's comparison samples the batch of {@link #weights} will train on
   * (the forward term), knowing only their rewards: the loop runs the policy's forward pass over
   * these and the policy samples once, for the log-probabilities and the step's backward pass
   * ({@link dev.jbond.spi.PolicyLearner#prepareStep}). The default: none.
   *
   * @param rewards the rewards of one prompt's comparison samples, in drawing order
   * @return their indices, ascending, each in {@code [0, rewards.length)}
   */
  default int[] trainedComparisons(double[] rewards) {
    return new int[0];
  }
}
