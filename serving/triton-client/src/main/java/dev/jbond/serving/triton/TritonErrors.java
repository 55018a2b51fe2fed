package dev.jbond.serving.triton;

import dev.jbond.BackendException;
import io.grpc.Status;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns gRPC failures into {@link BackendException}s at the module boundary, so that {@code
 * StatusRuntimeException} never reaches callers. Messages are one line: what was attempted (RPC and
 * model), the endpoint, the attempts, and the gRPC status.
 */
final class TritonErrors {
  /** grpc-java's deframer message, on either side: "gRPC message exceeds maximum size L: N". */
  private static final Pattern GRPC_JAVA_LIMIT = Pattern.compile("exceeds maximum size (\\d+)");

  private TritonErrors() {}

  /**
   * Maps a gRPC status code to the kind of backend failure.
   *
   * <ul>
   *   <li>UNAVAILABLE, CANCELLED (server shutting down), ABORTED: {@code UNAVAILABLE}, worth
   *       retrying later;
   *   <li>DEADLINE_EXCEEDED: {@code DEADLINE_EXCEEDED};
   *   <li>NOT_FOUND (for example an unknown or not yet loaded model): {@code NOT_FOUND};
   *   <li>RESOURCE_EXHAUSTED (a message over a size limit): {@code RESOURCE_EXHAUSTED};
   *   <li>INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS, UNIMPLEMENTED (for
   *       example ModelInfer on a decoupled model), UNAUTHENTICATED, PERMISSION_DENIED: {@code
   *       INVALID_ARGUMENT}, the request or the client's configuration must change;
   *   <li>everything else (INTERNAL, UNKNOWN, DATA_LOSS): {@code INTERNAL}.
   * </ul>
   *
   * @param code the gRPC code
   * @return the backend code
   */
  static BackendException.Code code(Status.Code code) {
    return switch (code) {
      case UNAVAILABLE, CANCELLED, ABORTED -> BackendException.Code.UNAVAILABLE;
      case DEADLINE_EXCEEDED -> BackendException.Code.DEADLINE_EXCEEDED;
      case NOT_FOUND -> BackendException.Code.NOT_FOUND;
      case RESOURCE_EXHAUSTED -> BackendException.Code.RESOURCE_EXHAUSTED;
      case INVALID_ARGUMENT,
          FAILED_PRECONDITION,
          OUT_OF_RANGE,
          ALREADY_EXISTS,
          UNIMPLEMENTED,
          UNAUTHENTICATED,
          PERMISSION_DENIED ->
          BackendException.Code.INVALID_ARGUMENT;
      default -> BackendException.Code.INTERNAL;
    };
  }

  /**
   * Wraps a failed gRPC call.
   *
   * @param attempted what was attempted, for example {@code "ModelInfer of model 'policy'"}
   * @param endpoint the endpoint of the last attempt
   * @param failure the gRPC failure (its status is read with {@link Status#fromThrowable})
   * @param attempts how many attempts were made
   * @param maxInboundMessageBytes the client's limit, named when a response was too large
   * @return the exception, with {@code failure} as its cause
   */
  static BackendException fromFailure(
      String attempted,
      String endpoint,
      Throwable failure,
      int attempts,
      int maxInboundMessageBytes) {
    Status status = Status.fromThrowable(failure);
    StringBuilder message =
        new StringBuilder(attempted).append(" failed on endpoint '").append(endpoint).append('\'');
    if (attempts > 1) {
      message.append(" after ").append(attempts).append(" attempts");
    }
    message.append(": ").append(describe(status));
    String description = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
      Matcher limit = GRPC_JAVA_LIMIT.matcher(description);
      if (limit.find() && !limit.group(1).equals(Integer.toString(maxInboundMessageBytes))) {
        // grpc-java's deframer on a grpc-java server (the embedded server): its limit, not ours
        message
            .append(" (the request exceeds the server's maximum message size ")
            .append(limit.group(1))
            .append(')');
      } else if (description.contains("exceeds maximum size")) {
        // grpc-java's deframer on this side: the response was too large for us
        message
            .append(" (the response exceeds maxInboundMessageBytes = ")
            .append(maxInboundMessageBytes)
            .append("; raise it in TritonClientConfig)");
      } else if (description.contains("larger than max")) {
        // gRPC core on the server: our request was too large for it
        message.append(" (the request exceeds the server's maximum message size)");
      }
    }
    return new BackendException(code(status.getCode()), message.toString(), failure);
  }

  /**
   * Describes a status in one line: its code and description.
   *
   * @param status the status
   * @return for example {@code "UNAVAILABLE: io exception"}
   */
  static String describe(Status status) {
    String description = status.getDescription();
    if (description == null && status.getCause() != null) {
      description = status.getCause().toString();
    }
    return description == null
        ? status.getCode().name()
        : status.getCode() + ": " + oneLine(description);
  }

  /**
   * Collapses line breaks so that a remote message fits a one-line exception message.
   *
   * @param text the text
   * @return the text on one line
   */
  static String oneLine(String text) {
    return text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }
}
