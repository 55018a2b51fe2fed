package dev.jbond;

/** Thrown when training produces a NaN or infinite loss, or a runaway divergence estimate. */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long step;

  /**
   * Creates the exception.
   *
   * @param step the training step at which divergence was detected
   * @param message what diverged and its value, one line
   */
  public TrainingDivergedException(long step, String message) {
    super("Training diverged at step " + step + ": " + message);
    this.step = step;
  }

  /**
   * Returns the step at which divergence was detected.
   *
   * @return the step
   */
  public long step() {
    return step;
  }
}
