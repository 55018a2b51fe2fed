package dev.jbond;

/**
 * Thrown when one of jbond's own invariants does not hold (a bug in jbond, not a caller mistake),
 * following Guava's {@code Verify}.
 */
public final class VerificationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was found, one line
   */
  public VerificationException(String message) {
    super(message);
  }
}
