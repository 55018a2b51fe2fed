package dev.jbond.onnx;

import java.io.IOException;

/**
 * A model artifact could not be read: a missing or truncated external-data file, a file that is not
 * an ONNX model, or data that does not match the graph. It is checked because the caller can
 * usually recover (pick another file, re-export the model).
 */
public final class ModelLoadException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was read, what was expected and what was found, one line
   */
  public ModelLoadException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what was read, what was expected and what was found, one line
   * @param cause the underlying failure
   */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
