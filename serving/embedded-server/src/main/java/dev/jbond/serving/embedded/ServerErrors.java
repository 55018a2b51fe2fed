package dev.jbond.serving.embedded;

import dev.jbond.BackendException;
import dev.jbond.onnx.ModelLoadException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The server's failures as gRPC statuses, with Triton's codes (Triton's {@code INVALID_ARG} is
 * gRPC's INVALID_ARGUMENT, {@code UNSUPPORTED} is UNIMPLEMENTED). {@link StatusRuntimeException}s
 * made here stay inside the server: they end as the status of an RPC or as the {@code
 * error_message} of a stream response.
 */
final class ServerErrors {
  private ServerErrors() {}

  static StatusRuntimeException invalidArgument(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException notFound(String message) {
    return Status.NOT_FOUND.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException unavailable(String message) {
    return Status.UNAVAILABLE.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException unimplemented(String message) {
    return Status.UNIMPLEMENTED.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException internal(String message, Throwable cause) {
    return Status.INTERNAL.withDescription(message).withCause(cause).asRuntimeException();
  }

  static StatusRuntimeException deadlineExceeded(String message) {
    return Status.DEADLINE_EXCEEDED.withDescription(message).asRuntimeException();
  }

  /**
   * Maps any failure to a status: statuses pass through; caller mistakes ({@link
   * IllegalArgumentException}, {@link ModelLoadException}) are INVALID_ARGUMENT; a {@link
   * BackendException} keeps its code; anything else is INTERNAL.
   *
   * @param failure the failure
   * @return the status, with the failure as its cause
   */
  static Status toStatus(Throwable failure) {
    if (failure instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null) {
      return toStatus(failure.getCause());
    }
    Status status;
    if (failure instanceof IllegalArgumentException || failure instanceof ModelLoadException) {
      status = Status.INVALID_ARGUMENT;
    } else if (failure instanceof BackendException e) {
      status =
          switch (e.code()) {
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case INTERNAL -> Status.INTERNAL;
            case OUT_OF_SYNC -> Status.FAILED_PRECONDITION;
          };
    } else {
      status = Status.INTERNAL;
    }
    String message = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    return status.withDescription(message).withCause(failure);
  }

  /**
   * Returns the one-line message of a status, as sent in a stream's {@code error_message}.
   *
   * @param status the status
   * @return the description, or the code's name when there is none
   */
  static String message(Status status) {
    return status.getDescription() == null ? status.getCode().name() : status.getDescription();
  }
}
