package dev.jbond.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * Atomic, versioned storage of run state. A checkpoint is either completely written or absent:
 * writers never leave a partial checkpoint visible, and a crash during {@link #save} keeps the
 * previous checkpoints intact.
 */
public interface CheckpointStore {
  /** Writes a checkpoint's content. */
  @FunctionalInterface
  interface Writer {
    /**
     * Writes the content.
     *
     * @param out the stream to write to; the store closes it
     * @throws IOException when writing fails
     */
    void write(OutputStream out) throws IOException;
  }

  /**
   * Saves a checkpoint for {@code step}, replacing any existing one for the same step, then drops
   * old checkpoints beyond the store's retention.
   *
   * @param step the training step the state belongs to, {@code >= 0}
   * @param writer writes the content
   * @throws IOException when writing fails; no partial checkpoint is left visible
   */
  void save(long step, Writer writer) throws IOException;

  /**
   * Returns the steps that have a complete checkpoint, oldest first.
   *
   * @return the steps
   * @throws IOException when listing fails
   */
  List<Long> steps() throws IOException;

  /**
   * Returns the newest complete checkpoint's step.
   *
   * @return the step, or empty when there is none
   * @throws IOException when listing fails
   */
  default Optional<Long> latest() throws IOException {
    List<Long> steps = steps();
    return steps.isEmpty() ? Optional.empty() : Optional.of(steps.get(steps.size() - 1));
  }

  /**
   * Opens a checkpoint for reading.
   *
   * @param step a step listed by {@link #steps()}
   * @return the content; the caller closes it
   * @throws IOException when the checkpoint is missing or unreadable
   */
  InputStream open(long step) throws IOException;
}
