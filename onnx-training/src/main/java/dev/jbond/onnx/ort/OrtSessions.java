package dev.jbond.onnx.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.BackendException;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Opens {@link OrtModelSession}s on the shared environment ({@link OrtEnvironments#shared()}).
 * Every failure of ONNX Runtime surfaces as {@link BackendException}.
 */
public final class OrtSessions {
  private OrtSessions() {}

  /**
   * Opens a session over a graph, serialised with all data inline.
   *
   * @param graph the graph
   * @param config the session settings
   * @return the session; the caller closes it
   * @throws BackendException when ONNX Runtime rejects the model or the execution provider is
   *     unavailable
   */
  public static OrtModelSession open(Graph graph, SessionConfig config) {
    return open(graph.toBytes(), graph.name(), config);
  }

  /**
   * Opens a session over a serialised model. External data, if any, is resolved against the {@code
   * session.model_external_initializers_file_folder_path} config entry.
   *
   * @param model the model bytes
   * @param modelName a name for messages
   * @param config the session settings
   * @return the session; the caller closes it
   * @throws BackendException when ONNX Runtime rejects the model or the execution provider is
   *     unavailable
   */
  public static OrtModelSession open(byte[] model, String modelName, SessionConfig config) {
    OrtEnvironment environment = OrtEnvironments.shared();
    try (OrtSession.SessionOptions options = options(config, modelName)) {
      OrtSession session = environment.createSession(model, options);
      return new OrtModelSession(environment, session, modelName);
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "create a session for model '" + modelName + "'");
    }
  }

  /**
   * Opens a session over a model file; external data is resolved relative to its directory.
   *
   * @param model the {@code .onnx} file
   * @param config the session settings
   * @return the session; the caller closes it
   * @throws ModelLoadException when the file does not exist
   * @throws BackendException when ONNX Runtime rejects the model or the execution provider is
   *     unavailable
   */
  public static OrtModelSession open(Path model, SessionConfig config) throws ModelLoadException {
    Path file = model.toAbsolutePath();
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException("Model file '" + file + "' does not exist");
    }
    String modelName = file.getFileName().toString();
    OrtEnvironment environment = OrtEnvironments.shared();
    try (OrtSession.SessionOptions options = options(config, modelName)) {
      OrtSession session = environment.createSession(file.toString(), options);
      return new OrtModelSession(environment, session, modelName);
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "create a session for model file '" + file + "'");
    }
  }

  private static OrtSession.SessionOptions options(SessionConfig config, String modelName)
      throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(config.intraOpThreads());
      options.setInterOpNumThreads(config.interOpThreads());
      options.setOptimizationLevel(config.optimizationLevel().ort());
      for (Map.Entry<String, String> entry : config.configEntries().entrySet()) {
        options.addConfigEntry(entry.getKey(), entry.getValue());
      }
      if (config.executionProvider() == ExecutionProvider.CUDA) {
        List<String> available = OrtEnvironments.availableProviders();
        if (!available.contains("CUDA")) {
          throw new BackendException(
              BackendException.Code.UNAVAILABLE,
              "Expected the CUDA execution provider for model '"
                  + modelName
                  + "', available: "
                  + available
                  + " (build with the Maven profile 'cuda' for onnxruntime_gpu)",
              null);
        }
        options.addCUDA(config.deviceId());
      }
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }
}
