package dev.jbond.onnx.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import dev.jbond.BackendException;
import java.util.List;

/**
 * The process-wide {@link OrtEnvironment}, created on first use behind a lazy holder and shared by
 * every session. It is never closed: ONNX Runtime allows one environment per process.
 */
public final class OrtEnvironments {
  /** The name the environment is created with; it appears in ONNX Runtime's log lines. */
  public static final String NAME = "jbond";

  private OrtEnvironments() {}

  /**
   * Returns the shared environment, creating it (and loading the native library) on first use.
   *
   * @return the environment
   * @throws BackendException with {@link BackendException.Code#UNAVAILABLE} when ONNX Runtime
   *     cannot be loaded
   */
  public static OrtEnvironment shared() {
    if (Holder.ENVIRONMENT == null) {
      throw new BackendException(
          BackendException.Code.UNAVAILABLE,
          "Failed to load ONNX Runtime: " + Holder.FAILURE,
          Holder.FAILURE);
    }
    return Holder.ENVIRONMENT;
  }

  /**
   * Whether ONNX Runtime loaded.
   *
   * @return true when {@link #shared()} returns an environment
   */
  public static boolean isAvailable() {
    return Holder.ENVIRONMENT != null;
  }

  /**
   * Returns the execution providers of the loaded ONNX Runtime build, e.g. {@code [CPU]} or {@code
   * [CPU, CUDA, TENSOR_RT]}.
   *
   * @return the provider names, sorted
   * @throws BackendException when ONNX Runtime cannot be loaded
   */
  public static List<String> availableProviders() {
    shared();
    return OrtEnvironment.getAvailableProviders().stream().map(OrtProvider::name).sorted().toList();
  }

  /** Loads ONNX Runtime the first time {@link OrtEnvironments} needs it. */
  private static final class Holder {
    static final OrtEnvironment ENVIRONMENT;
    static final Throwable FAILURE;

    static {
      OrtEnvironment environment = null;
      Throwable failure = null;
      try {
        environment =
            OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, NAME);
      } catch (RuntimeException | LinkageError e) {
        failure = e;
      }
      ENVIRONMENT = environment;
      FAILURE = failure;
    }
  }
}
