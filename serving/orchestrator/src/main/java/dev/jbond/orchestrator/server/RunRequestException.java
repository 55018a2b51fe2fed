package dev.jbond.orchestrator.server;

/**
 * A request about a run that cannot be served: the HTTP status and a one-line message that says
 * what was expected and what was found.
 */
public final class RunRequestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  /**
   * Creates the exception.
   *
   * @param status the HTTP status, for example 404 or 409
   * @param message the one-line message
   */
  public RunRequestException(int status, String message) {
    super(message);
    this.status = status;
  }

  /**
   * Returns the HTTP status.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }

  static RunRequestException notFound(String id) {
    return new RunRequestException(404, "Expected the id of a run, found no run '" + id + "'");
  }
}
