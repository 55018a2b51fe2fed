package dev.jbond;

/**
 * A failure of a native or remote backend (ONNX Runtime, gRPC), wrapped at the module boundary so
 * that backend exception types never leak into callers.
 */
public final class BackendException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of backend failure happened. */
  public enum Code {
    /** The backend is not installed or cannot start (e.g. CUDA requested but absent). */
    UNAVAILABLE,
    /** The backend rejected the request as malformed. */
    INVALID_ARGUMENT,
    /** A named model, tensor or resource does not exist. */
    NOT_FOUND,
    /** The call ran past its deadline. */
    DEADLINE_EXCEEDED,
    /** A size limit or quota was hit (e.g. a message larger than the configured maximum). */
    RESOURCE_EXHAUSTED,
    /** The backend failed while running the request. */
    INTERNAL,
    /**
     * The served weights are not the ones being trained: the sampler's log-probabilities of its
     * samples disagree with the learner's.
     */
    OUT_OF_SYNC
  }

  private final Code code;

  /**
   * Creates the exception.
   *
   * @param code the kind of failure
   * @param message what was attempted and what happened, one line
   * @param cause the backend's own exception, or null
   */
  public BackendException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /**
   * Returns the kind of failure.
   *
   * @return the code
   */
  public Code code() {
    return code;
  }
}
