package dev.jbond.tests;

import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonHealthCheck;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only: an embedded Triton-protocol server (in-process transport) serving a decoder as the
 * three roles' jbond-generate models, with a {@link TritonClient} over it. Closing closes all.
 */
final class TritonServing implements AutoCloseable {
  private static final AtomicInteger NAMES = new AtomicInteger();

  final EmbeddedTritonServer server;
  final TritonClient client;
  private final ManagedChannel channel;

  private TritonServing(EmbeddedTritonServer server, ManagedChannel channel, TritonClient client) {
    this.server = server;
    this.channel = channel;
    this.client = client;
  }

  /** Writes {@code weights} as jbond-policy, jbond-anchor and jbond-reference version 1. */
  static void writeRoles(Path repo, DecoderWeights weights, OptionalInt eos, OptionalInt pad)
      throws IOException {
    for (String model : List.of("jbond-policy", "jbond-anchor", "jbond-reference")) {
      TrtLlmModelConfig.write(
          repo,
          TrtLlmModelConfig.config(model, 64, false, TensorProfile.trtLlm()),
          1,
          weights,
          eos,
          pad);
    }
  }

  /** Starts a server over {@code repo} whose models decode at most {@code maxBatchRows} rows. */
  static TritonServing start(Path repo, int maxBatchRows) throws IOException {
    SessionConfig session = SessionConfig.builder().optIntraOpThreads(1).build();
    String name = "jbond-tests-triton-" + NAMES.incrementAndGet();
    EmbeddedTritonServer server =
        EmbeddedTritonServer.builder(repo)
            .optInProcessName(name)
            .optSessionConfig(session)
            .optGenerationModelFactory(
                TrtLlmGenerationModel.factory(
                    new TrtLlmGenerationModel.Settings(
                        TensorProfile.trtLlm(), Duration.ofMillis(1), maxBatchRows, 1, session)))
            .build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    TritonClient client =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optDeadline(Duration.ofSeconds(30))
                    .optHealthCheck(
                        new TritonHealthCheck(
                            Duration.ofHours(1), Duration.ofSeconds(1), 3, List.of()))
                    .build())
            .optChannels(List.of(new TritonChannel("embedded", channel)))
            .optRandom(new SplittableRandom(1))
            .build();
    return new TritonServing(server, channel, client);
  }

  @Override
  public void close() {
    client.close();
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
  }
}
