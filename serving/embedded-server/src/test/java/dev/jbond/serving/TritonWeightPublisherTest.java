package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.spi.PolicyLearner;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Triton weight publisher against the embedded server: file overrides and the shared repository
 * both serve the new weights (samples equal the direct sampler's over them and record the new
 * version), unload-before-load, the size limit, and a hot swap mid-traffic that loses no request.
 */
class TritonWeightPublisherTest {
  private static final long SEED = 20261128L;
  private static final int NEW_TOKENS = 10;

  @TempDir Path repo;
  @TempDir Path scratch;
  private EmbeddedTritonServer server;
  private ManagedChannel channel;
  private TritonClient client;

  @BeforeEach
  void setUp() throws Exception {
    GenerationServers.write(repo, GenerationServers.POLICY, 1, 7, false);
    String name = GenerationServers.uniqueName();
    server = GenerationServers.startInProcess(repo, name);
    channel = GenerationServers.inProcessChannel(name);
    client =
        GenerationServers.client(
            List.of(new TritonChannel("embedded", channel)), Duration.ofHours(1), SEED);
  }

  @AfterEach
  void tearDown() {
    client.close();
    GenerationServers.shutdown(channel);
    server.close();
  }

  private TritonWeightPublisher.Builder publisher() {
    return TritonWeightPublisher.builder(client, GenerationServers.decoder(7))
        .optSpecialTokens(
            OptionalInt.of(GenerationServers.EOS), OptionalInt.of(GenerationServers.PAD));
  }

  private TritonSampler sampler() {
    return TritonSampler.builder(client, GenerationServers.sampling(NEW_TOKENS)).build();
  }

  /** The weights of another seed, with the architecture of seed 7 (seed is not architecture). */
  private static DecoderWeights weights(long seed) {
    return DecoderWeights.of(
        GenerationServers.decoder(7),
        DecoderWeights.initialize(GenerationServers.decoder(seed)).tensors());
  }

  private List<Generation> directSamples(DecoderWeights weights, List<Prompt> prompts)
      throws Exception {
    Path dir = Files.createTempDirectory(scratch, "direct");
    ModelDirectory model =
        ModelDirectory.write(
            dir,
            weights,
            OptionalInt.of(GenerationServers.EOS),
            OptionalInt.of(GenerationServers.PAD));
    try (DirectSampler direct =
        DirectSampler.builder(model, GenerationServers.sampling(NEW_TOKENS))
            .optSessionConfig(GenerationServers.SESSION)
            .build()) {
      return direct.sample(prompts, 2, PolicyRole.POLICY, SEED);
    }
  }

  private static void assertSameTokens(List<Generation> expected, List<Generation> actual) {
    assertEquals(
        expected.stream().map(Generation::completion).toList(),
        actual.stream().map(Generation::completion).toList());
  }

  @Test
  void publish_fileOverrides_servesNewWeightsAndVersion() throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(3, SEED);
    try (TritonWeightPublisher publisher = publisher().build();
        TritonSampler sampler = sampler()) {
      ModelVersion published = publisher.publish(PolicyRole.POLICY, weights(8), 2);
      assertEquals(new ModelVersion(GenerationServers.POLICY, 2), published);
      List<Generation> out = sampler.sample(prompts, 2, PolicyRole.POLICY, SEED);
      assertTrue(out.stream().allMatch(g -> g.model().equals(published)), out.toString());
      assertSameTokens(directSamples(weights(8), prompts), out);
    }
  }

  @Test
  void publish_overMessageLimitWithSharedRepository_loadsFromRepository() throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(2, SEED);
    try (TritonWeightPublisher publisher =
            publisher().optMaxMessageBytes(0).optSharedRepository(repo).build();
        TritonSampler sampler = sampler()) {
      publisher.publish(PolicyRole.POLICY, weights(9), 2);
      assertTrue(Files.exists(repo.resolve(GenerationServers.POLICY).resolve("2/decode.onnx")));
      List<Generation> out = sampler.sample(prompts, 2, PolicyRole.POLICY, SEED);
      assertEquals(2, out.get(0).model().version());
      assertSameTokens(directSamples(weights(9), prompts), out);

      // later versions: the publisher keeps its newest two, and never the servers' own version 1
      for (long v = 3; v <= 5; v++) {
        publisher.publish(PolicyRole.POLICY, weights(9 + v), v);
      }
      Path model = repo.resolve(GenerationServers.POLICY);
      for (long v = 1; v <= 5; v++) {
        assertEquals(
            v == 1 || v >= 4, Files.exists(model.resolve(Long.toString(v))), "version " + v);
      }
      List<Generation> latest = sampler.sample(prompts, 2, PolicyRole.POLICY, SEED);
      assertEquals(5, latest.get(0).model().version());
      assertSameTokens(directSamples(weights(14), prompts), latest);
    }
  }

  @Test
  void publish_overMessageLimitWithoutSharedRepository_throwsResourceExhausted() {
    try (TritonWeightPublisher publisher = publisher().optMaxMessageBytes(1000).build()) {
      BackendException e =
          assertThrows(
              BackendException.class, () -> publisher.publish(PolicyRole.POLICY, weights(8), 2));
      assertEquals(BackendException.Code.RESOURCE_EXHAUSTED, e.code());
      assertTrue(
          e.getMessage().startsWith("Expected model files of at most 1000 bytes"), e.getMessage());
    }
  }

  @Test
  void publish_unloadFirst_servesNewVersion() {
    try (TritonWeightPublisher publisher = publisher().optUnloadFirst(true).build();
        TritonSampler sampler = sampler()) {
      publisher.publish(PolicyRole.POLICY, weights(8), 5);
      assertEquals(
          5,
          sampler
              .sample(GenerationServers.prompts(1, SEED), 1, PolicyRole.POLICY, SEED)
              .get(0)
              .model()
              .version());
    }
  }

  @Test
  void publish_notAnOrtLearner_throws() {
    try (TritonWeightPublisher publisher = publisher().build()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> publisher.publish(mock(PolicyLearner.class), PolicyRole.POLICY, 2));
      assertTrue(
          e.getMessage().startsWith("Expected an OrtPolicyLearner to publish from, found"),
          e.getMessage());
    }
  }

  @Test
  void publish_midTraffic_losesNoRequestAndLaterSamplesRecordNewVersion() throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(4, SEED);
    List<Long> versions = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService traffic = Executors.newSingleThreadExecutor();
    try (TritonWeightPublisher publisher = publisher().build();
        TritonSampler sampler = sampler()) {
      Future<Integer> calls =
          traffic.submit(
              () -> {
                int n = 0;
                long seed = SEED;
                while (!stop.get()) {
                  for (Generation g : sampler.sample(prompts, 2, PolicyRole.POLICY, seed++)) {
                    versions.add(g.model().version());
                  }
                  n++;
                }
                return n;
              });
      while (versions.size() < 16) {
        Thread.sleep(1);
      }
      publisher.publish(PolicyRole.POLICY, weights(8), 2);
      List<Generation> after = sampler.sample(prompts, 2, PolicyRole.POLICY, SEED);
      assertTrue(after.stream().allMatch(g -> g.model().version() == 2), after.toString());
      int seen = versions.size();
      while (versions.size() < seen + 16) {
        Thread.sleep(1);
      }
      publisher.publish(PolicyRole.POLICY, weights(9), 3);
      int before = versions.size();
      while (versions.size() < before + 24) {
        Thread.sleep(1);
      }
      stop.set(true);
      int rounds = calls.get(30, TimeUnit.SECONDS);
      assertEquals(rounds * 8, versions.size(), "Expected every sample of every call");
      assertTrue(versions.contains(1L) && versions.contains(2L), versions.toString());
      assertEquals(3L, versions.get(versions.size() - 1));
    } finally {
      stop.set(true);
      traffic.shutdownNow();
    }
  }
}
