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
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonHealthCheck;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
  private final List<EmbeddedTritonServer> servers;
  private final List<ManagedChannel> channels;

  private TritonServing(
      List<EmbeddedTritonServer> servers, List<ManagedChannel> channels, TritonClient client) {
    this.server = servers.get(0);
    this.servers = servers;
    this.channels = channels;
    this.client = client;
  }

  /**
   * Writes {@code weights} as jbond-policy, jbond-anchor and jbond-reference version 1, serving
   * LoRA adapters of {@code dtype} per request from a host cache of {@code cacheBytes}.
   */
  static void writeLoraRoles(
      Path repo, DecoderWeights weights, TritonDatatype dtype, long cacheBytes) throws IOException {
    for (String model : List.of("jbond-policy", "jbond-anchor", "jbond-reference")) {
      TrtLlmModelConfig.write(
          repo,
          TrtLlmModelConfig.withLora(
              TrtLlmModelConfig.config(model, 64, false, TensorProfile.trtLlm()),
              TensorProfile.trtLlm(),
              dtype,
              cacheBytes),
          1,
          weights,
          OptionalInt.empty(),
          OptionalInt.empty());
    }
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
    return startFleet(List.of(repo), maxBatchRows);
  }

  /**
   * Starts one server per repository and a client over all of them (endpoints {@code e0}, {@code
   * e1}, ...), whose models decode at most {@code maxBatchRows} rows.
   */
  static TritonServing startFleet(List<Path> repos, int maxBatchRows) throws IOException {
    return startFleet(repos, maxBatchRows, null);
  }

  /**
   * As {@link #startFleet(List, int)}, the client's calls passing {@code interceptor} (or none).
   */
  static TritonServing startFleet(List<Path> repos, int maxBatchRows, ClientInterceptor interceptor)
      throws IOException {
    SessionConfig session = SessionConfig.builder().optIntraOpThreads(1).build();
    List<EmbeddedTritonServer> servers = new ArrayList<>();
    List<ManagedChannel> channels = new ArrayList<>();
    List<TritonChannel> named = new ArrayList<>();
    for (Path repo : repos) {
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
        servers.forEach(EmbeddedTritonServer::close);
        throw e;
      }
      servers.add(server);
      ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
      channels.add(channel);
      named.add(new TritonChannel(repos.size() == 1 ? "embedded" : "e" + named.size(), channel));
    }
    TritonClient.Builder builder =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optDeadline(Duration.ofSeconds(30))
                    .optHealthCheck(
                        new TritonHealthCheck(
                            Duration.ofHours(1), Duration.ofSeconds(1), 3, List.of()))
                    .build())
            .optChannels(named)
            .optRandom(new SplittableRandom(1));
    if (interceptor != null) {
      builder.optInterceptor(interceptor);
    }
    return new TritonServing(servers, channels, builder.build());
  }

  @Override
  public void close() {
    client.close();
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    servers.forEach(EmbeddedTritonServer::close);
  }
}
