package dev.jbond.spi;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Holds the three weight sets of a run (policy, anchor, frozen reference) and the optimizer state,
 * and trains the policy on weighted sequence log-likelihoods.
 *
 * <p>Every objective reduces to {@code loss = sum_s w_s * log pi(s | x_s)} with weights computed
 * outside autodiff, so the learner only needs log-probabilities and one optimizer step on that
 * loss. A new objective never touches the learner.
 *
 * <p>Call order within a training step: {@link #logProbs} (any roles, any number of times) and at
 * most one {@link #prepareStep}, then {@link #step}, then {@link #updateAnchor}. {@link #snapshot}
 * and {@link #restore} happen between steps. Implementations need not be thread-safe.
 */
public interface PolicyLearner extends AutoCloseable {
  /**
   * Returns the log-probability of each generation's completion under the role's weights: the sum
   * over completion tokens of {@code log pi(token | prefix)}; prompt tokens are not counted.
   *
   * @param role whose weights to use
   * @param generations the sequences, not empty
   * @return one sequence log-probability per generation, in order
   */
  double[] logProbs(PolicyRole role, List<Generation> generations);

  /**
   * Returns the policy's log-probabilities of the sequences the next {@link #step} will train on,
   * as {@code logProbs(PolicyRole.POLICY, generations)} would, and lets that step reuse this
   * forward pass: when every sequence of the step's batch is one of {@code generations} (the same
   * objects; sequences missing from the batch count with weight 0), a learner that keeps what the
   * backward pass needs runs only the backward pass. {@link #step}, {@link #restore} and the next
   * call of this method end the offer. The default computes the log-probabilities only.
   *
   * @param generations the sequences, not empty
   * @return one sequence log-probability per generation, in order
   */
  default double[] prepareStep(List<Generation> generations) {
    return logProbs(PolicyRole.POLICY, generations);
  }

  /**
   * Takes one optimizer step on {@code sum_s w_s * log pi_policy(s)}.
   *
   * @param batch the weighted sequences, not empty
   * @return what the step did
   * @throws dev.jbond.TrainingDivergedException when the loss or the gradient is NaN or infinite
   */
  StepOutcome step(List<WeightedSequence> batch);

  /**
   * Moves the anchor toward the policy in weight space: {@code theta_anchor <- (1 - eta) *
   * theta_anchor + eta * theta_policy}. {@code eta = 1} is a hard refresh, {@code eta = 0} a no-op.
   *
   * @param eta the EMA rate in {@code [0, 1]}
   * @throws IllegalArgumentException when {@code eta} is outside {@code [0, 1]}
   */
  void updateAnchor(double eta);

  /**
   * Returns the number of optimizer steps taken so far.
   *
   * @return the step count
   */
  long stepCount();

  /**
   * Writes the weights of all three roles, the optimizer state and the step count, so that {@link
   * #restore} reproduces the learner bit for bit.
   *
   * @param out where to write; not closed
   * @throws IOException when writing fails
   */
  void snapshot(OutputStream out) throws IOException;

  /**
   * Replaces the whole learner state with one written by {@link #snapshot}.
   *
   * @param in where to read; not closed
   * @throws IOException when reading fails or the data does not match this learner's model
   */
  void restore(InputStream in) throws IOException;

  /**
   * Exports one role's weights as a standalone model at {@code target}.
   *
   * @param role which weights
   * @param target a file or directory, per the implementation's format
   * @throws IOException when writing fails
   */
  void export(PolicyRole role, Path target) throws IOException;

  /** Releases the learner's resources; idempotent. The default does nothing. */
  @Override
  default void close() {}
}
