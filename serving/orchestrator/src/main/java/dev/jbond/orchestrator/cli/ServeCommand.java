package dev.jbond.orchestrator.cli;

import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.orchestrator.run.OrtSpinning;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.embedded.ModelState;
import dev.jbond.serving.embedded.ModelStatus;
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bond serve}: serves a Triton-layout model repository over Triton's gRPC protocol with
 * {@link EmbeddedTritonServer} until interrupted (Ctrl-C), printing the models it loaded and the
 * address clients use. Models with {@code backend: "jbond-generate"} serve a jbond model directory
 * with the TensorRT-LLM token-id profile ({@link TrtLlmGenerationModel}).
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Serve a model repository over Triton's gRPC protocol until interrupted.")
public final class ServeCommand implements Callable<Integer> {
  /**
   * The repository served when {@code --models} is not given, relative to the working directory.
   */
  public static final Path DEFAULT_MODELS = Path.of("models", "demo");

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--port",
      description = "gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port = EmbeddedTritonServer.DEFAULT_PORT;

  @Option(
      names = "--models",
      description = "Model repository directory in Triton's layout (default: ${DEFAULT-VALUE}).")
  Path models = DEFAULT_MODELS;

  @Option(
      names = "--max-queue-delay-us",
      description =
          "Dynamic batching: how long a batch that is not full waits for more requests, in"
              + " microseconds, for models whose config sets none (default: ${DEFAULT-VALUE}).")
  long maxQueueDelayMicros = 0;

  @Option(
      names = "--generation-window-us",
      description =
          "Step-level batching of jbond-generate models (TensorRT-LLM profile): how long to wait"
              + " for the next request before decoding the batch, in microseconds (default:"
              + " ${DEFAULT-VALUE}).")
  long generationWindowMicros = 1000;

  @Option(
      names = "--threads",
      description =
          "ONNX Runtime intra-op threads per model; 0 lets ONNX Runtime choose (default:"
              + " ${DEFAULT-VALUE}).")
  int threads = 0;

  @Mixin SpinOption spin;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!Files.isDirectory(models)) {
      throw new IllegalArgumentException(
          "Expected a model repository directory at "
              + models.toAbsolutePath()
              + ", found none (pass --models DIR; the layout is <model>/config.pbtxt and"
              + " <model>/<version>/model.onnx)");
    }
    if (generationWindowMicros < 0) {
      throw new IllegalArgumentException(
          "Expected --generation-window-us >= 0, found " + generationWindowMicros);
    }
    if (maxQueueDelayMicros < 0) {
      throw new IllegalArgumentException(
          "Expected --max-queue-delay-us >= 0, found " + maxQueueDelayMicros);
    }
    if (threads < 0) {
      throw new IllegalArgumentException("Expected --threads >= 0, found " + threads);
    }
    boolean spinning = spin.resolve(threads);
    SessionConfig sessionConfig =
        OrtSpinning.apply(SessionConfig.builder().optIntraOpThreads(threads), spinning).build();
    EmbeddedTritonServer server =
        EmbeddedTritonServer.builder(models)
            .optPort(port)
            .optMaxQueueDelay(Duration.ofNanos(maxQueueDelayMicros * 1000))
            .optSessionConfig(sessionConfig)
            .optGenerationModelFactory(
                TrtLlmGenerationModel.factory(
                    TrtLlmGenerationModel.Settings.defaults()
                        .withBatchWindow(Duration.ofNanos(generationWindowMicros * 1000))
                        .withSessionConfig(sessionConfig)))
            .build();
    Thread hook = new Thread(server::close, "bond-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      server.start();
      out.println("Model repository " + models.toAbsolutePath().normalize());
      for (ModelStatus status : server.models()) {
        String version =
            status.version().isPresent() ? Long.toString(status.version().getAsLong()) : "-";
        out.println(
            "  "
                + status.name()
                + " version "
                + version
                + ": "
                + status.state()
                + (status.state() == ModelState.READY ? "" : " (" + status.reason() + ")"));
      }
      out.println(
          "ONNX Runtime: "
              + (threads == 0 ? "its own choice of" : Integer.toString(threads))
              + " intra-op threads per model, "
              + (spinning ? "spinning" : "not spinning")
              + " between runs");
      out.println("Serving Triton gRPC on " + server.target() + " (Ctrl-C to stop)");
      out.flush();
      server.awaitTermination();
      return 0;
    } finally {
      server.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is already running the hook
      }
    }
  }
}
