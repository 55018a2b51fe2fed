package dev.jbond.loop;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * State of a run beyond the learner's that {@link JbondLoop} saves in each checkpoint and hands
 * back on resume: for example the orchestrator's record of the run's seed, the reference's identity
 * and the served weight versions. The block is written after the learner's snapshot,
 * length-prefixed, so a checkpoint stays readable as a whole.
 *
 * <p>Call order: {@link #write} on the loop's thread at every checkpoint; {@link #read} once, from
 * {@link JbondLoop#resume()}, for the checkpoint being restored (before the weights are published
 * again). Throwing {@link IOException} from {@link #read} marks that checkpoint unusable, and the
 * loop tries the one before.
 */
public interface CheckpointExtension {
  /**
   * Writes the extension's state for the checkpoint of {@code step}.
   *
   * @param step the learner's step count the checkpoint belongs to
   * @param out where to write
   * @throws IOException when writing fails
   */
  void write(long step, DataOutputStream out) throws IOException;

  /**
   * Reads back what {@link #write} wrote for the checkpoint of {@code step}.
   *
   * @param step the learner's step count of the checkpoint
   * @param in the extension's block; reading past it fails
   * @throws IOException when the block is not this extension's or does not fit the run
   */
  void read(long step, DataInputStream in) throws IOException;
}
