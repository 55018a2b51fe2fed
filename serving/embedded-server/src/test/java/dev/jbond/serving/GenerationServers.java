package dev.jbond.serving;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.ort.SessionConfig;
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
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only: a small decoder written as a jbond-generate model into a repository, embedded servers
 * that serve it, and clients over them.
 */
final class GenerationServers {
  static final int VOCAB = 64;
  static final int EOS = 1;
  static final int PAD = 0;
  static final String POLICY = "jbond-policy";
  static final String POLICY_STREAM = "jbond-policy-stream";
  static final SessionConfig SESSION = SessionConfig.builder().optIntraOpThreads(1).build();
  static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger();

  private GenerationServers() {}

  /** V=64, C=48, 2 layers, d=32, 4 heads, init std 0.3 (peaked, position-dependent). */
  static DecoderConfig decoder(long seed) {
    return DecoderConfig.builder()
        .setVocabSize(VOCAB)
        .setContextLength(48)
        .setLayers(2)
        .setWidth(32)
        .setHeads(4)
        .setSeed(seed)
        .optInitStd(0.3)
        .build();
  }

  static SamplingConfig sampling(int maxNewTokens) {
    return SamplingConfig.builder()
        .setMaxNewTokens(maxNewTokens)
        .optEosTokenIds(EOS)
        .optPadTokenId(PAD)
        .build();
  }

  /** Writes {@code model} version {@code version} with the decoder seeded {@code seed}. */
  static void write(Path repo, String model, long version, long seed, boolean decoupled)
      throws IOException {
    TrtLlmModelConfig.write(
        repo,
        TrtLlmModelConfig.config(model, 64, decoupled, TensorProfile.trtLlm()),
        version,
        DecoderWeights.initialize(decoder(seed)),
        OptionalInt.of(EOS),
        OptionalInt.of(PAD));
  }

  static TrtLlmGenerationModel.Settings settings() {
    return TrtLlmGenerationModel.Settings.defaults().withSessionConfig(SESSION);
  }

  /** Starts an in-process server over {@code repo}; returns it with its in-process name. */
  static EmbeddedTritonServer startInProcess(Path repo, String name) throws IOException {
    EmbeddedTritonServer server =
        EmbeddedTritonServer.builder(repo)
            .optInProcessName(name)
            .optSessionConfig(SESSION)
            .optWorkerThreads(4)
            .optGenerationModelFactory(TrtLlmGenerationModel.factory(settings()))
            .build();
    try {
      return server.start();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  static String uniqueName() {
    return "jbond-generation-test-" + NAMES.incrementAndGet();
  }

  static ManagedChannel inProcessChannel(String name) {
    return InProcessChannelBuilder.forName(name).build();
  }

  /** A client over the given channels (not owned), probing every {@code probe}. */
  static TritonClient client(List<TritonChannel> channels, Duration probe, long seed) {
    return TritonClient.builder(
            TritonClientConfig.builder()
                .optDeadline(WAIT)
                .optHealthCheck(new TritonHealthCheck(probe, Duration.ofSeconds(1), 1, List.of()))
                .build())
        .optChannels(channels)
        .optRandom(new SplittableRandom(seed))
        .build();
  }

  static void shutdown(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code count} prompts of lengths 1..8 with random tokens in [2, V). */
  static List<Prompt> prompts(int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Prompt> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] tokens = new int[1 + random.nextInt(8)];
      for (int k = 0; k < tokens.length; k++) {
        tokens[k] = 2 + random.nextInt(VOCAB - 2);
      }
      out.add(new Prompt("p" + i, TokenSequence.of(tokens)));
    }
    return out;
  }
}
