package dev.jbond.onnx.ort;

import ai.onnxruntime.OrtException;
import dev.jbond.BackendException;
import dev.jbond.internal.Internal;

/**
 * Wraps {@code OrtException} in {@link BackendException} at the module boundary. Public only so
 * that engine packages of this module that call ONNX Runtime directly (the learner) wrap failures
 * the same way.
 */
@Internal
public final class OrtFailures {
  private OrtFailures() {}

  /**
   * Returns the wrapped failure.
   *
   * @param e ONNX Runtime's exception
   * @param attempted what was attempted, e.g. {@code "run model 'policy'"}
   * @return the exception to throw
   */
  public static BackendException wrap(OrtException e, String attempted) {
    String message = e.getMessage() == null ? "" : e.getMessage().strip();
    // OrtException(code, message) prefixes "Error code - ORT_X - message: "; the code is in ours
    message = message.replaceFirst("^Error code - \\S+ - message: ", "");
    int newline = message.indexOf('\n');
    if (newline >= 0) {
      message = message.substring(0, newline).strip();
    }
    return new BackendException(
        code(e.getCode()), "Failed to " + attempted + " on ONNX Runtime: " + message, e);
  }

  private static BackendException.Code code(OrtException.OrtErrorCode code) {
    if (code == null) {
      return BackendException.Code.INTERNAL;
    }
    return switch (code) {
      case ORT_INVALID_ARGUMENT,
          ORT_INVALID_PROTOBUF,
          ORT_INVALID_GRAPH,
          ORT_NOT_IMPLEMENTED,
          ORT_MODEL_REQUIRES_COMPILATION ->
          BackendException.Code.INVALID_ARGUMENT;
      case ORT_NO_SUCHFILE, ORT_NO_MODEL, ORT_NOT_FOUND -> BackendException.Code.NOT_FOUND;
      case ORT_EP_FAIL -> BackendException.Code.UNAVAILABLE;
      default -> BackendException.Code.INTERNAL;
    };
  }
}
