package dev.jbond.orchestrator.run;

/**
 * A run that could not go on: a step kept failing past its retries (for example every Triton
 * endpoint down), or training diverged. The message is one line and says where the run's last
 * checkpoint is and how to resume.
 */
public final class RunFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message one line
   * @param cause the failure
   */
  public RunFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
