package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.ort.ExecutionProvider;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.spi.PolicySampler;
import dev.jbond.testing.PolicySamplerContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectSamplerTest extends PolicySamplerContract {
  private static final SamplingConfig SAMPLING =
      SamplingConfig.builder()
          .setMaxNewTokens(12)
          .optEosTokenIds(GenerateFixtures.EOS)
          .optPadTokenId(GenerateFixtures.PAD)
          .build();

  @TempDir static Path dir;

  private static ModelDirectory initial;
  private static ModelDirectory other;

  @BeforeAll
  static void writeModels() {
    initial = GenerateFixtures.write(dir.resolve("initial"), 11);
    other = GenerateFixtures.write(dir.resolve("other"), 12);
  }

  @Override
  protected PolicySampler newSampler() {
    return open();
  }

  @Override
  protected List<Prompt> prompts() {
    return GenerateFixtures.prompts();
  }

  private static DirectSampler open() {
    try {
      return DirectSampler.builder(initial, SAMPLING).build();
    } catch (ModelLoadException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void sample_generations_carryCompletionLogProbsAndVersion() throws IOException {
    try (DirectSampler sampler = open();
        OrtModelSession decode =
            OrtSessions.open(initial.decodeGraph(), SessionConfig.defaults())) {
      List<Generation> generations = sampler.sample(prompts(), 2, PolicyRole.POLICY, 4);

      List<SampledSequence> expected =
          new KvCacheSampler(decode, initial.config()).sample(prompts(), 2, SAMPLING, 4);
      for (int i = 0; i < generations.size(); i++) {
        Generation g = generations.get(i);
        assertEquals(expected.get(i).completion(), g.completion());
        assertEquals(expected.get(i).samplingLogProbs(), g.engineLogProbs().orElseThrow());
        assertEquals(new ModelVersion("jbond-policy", 0), g.model());
      }
    }
  }

  @Test
  void builder_rolesShareTheInitialSession_untilOnePublishes() throws IOException {
    try (DirectSampler sampler = open()) {
      OrtModelSession shared = sampler.session(PolicyRole.POLICY);
      assertSame(shared, sampler.session(PolicyRole.ANCHOR));
      assertSame(shared, sampler.session(PolicyRole.REFERENCE));

      ModelVersion published = sampler.publish(PolicyRole.POLICY, other, 1);

      assertEquals(new ModelVersion("jbond-policy", 1), published);
      assertNotSame(shared, sampler.session(PolicyRole.POLICY));
      assertSame(shared, sampler.session(PolicyRole.ANCHOR));
      assertFalse(shared.isClosed(), "anchor and reference still serve it");
      assertEquals(new ModelVersion("jbond-anchor", 0), sampler.servedVersion(PolicyRole.ANCHOR));
    }
  }

  @Test
  void publish_newWeights_samplesRecordTheNewVersionAndComeFromTheNewModel() throws IOException {
    try (DirectSampler sampler = open();
        OrtModelSession decode = OrtSessions.open(other.decodeGraph(), SessionConfig.defaults())) {
      List<Generation> before = sampler.sample(prompts(), 2, PolicyRole.ANCHOR, 9);

      sampler.publish(PolicyRole.ANCHOR, other, 3);
      List<Generation> after = sampler.sample(prompts(), 2, PolicyRole.ANCHOR, 9);

      List<SampledSequence> expected =
          new KvCacheSampler(decode, other.config()).sample(prompts(), 2, SAMPLING, 9);
      for (int i = 0; i < after.size(); i++) {
        assertEquals(new ModelVersion("jbond-anchor", 0), before.get(i).model());
        assertEquals(new ModelVersion("jbond-anchor", 3), after.get(i).model());
        assertEquals(expected.get(i).completion(), after.get(i).completion());
      }
      assertNotEquals(completions(before), completions(after));
    }
  }

  @Test
  void publish_inMemoryWeights_sampleLikeTheModelDirectory() throws IOException {
    DecoderWeights weights = other.readWeights();
    try (DirectSampler fromMemory = open();
        DirectSampler fromFiles = open()) {
      fromMemory.publish(PolicyRole.POLICY, weights, 1);
      fromFiles.publish(PolicyRole.POLICY, other, 1);

      assertEquals(
          fromFiles.sample(prompts(), 3, PolicyRole.POLICY, 5),
          fromMemory.sample(prompts(), 3, PolicyRole.POLICY, 5));
    }
  }

  @Test
  void publish_whileASampleIsInFlight_closesTheOldSessionWhenItFinishes() {
    try (DirectSampler sampler = open()) {
      sampler.publish(PolicyRole.POLICY, other, 1);
      OrtModelSession old = sampler.session(PolicyRole.POLICY);
      DirectSampler.Slot inFlight = sampler.acquire(PolicyRole.POLICY);

      sampler.publish(PolicyRole.POLICY, initial, 2);

      assertFalse(old.isClosed(), "the in-flight sample still uses it");
      assertEquals(new ModelVersion("jbond-policy", 1), inFlight.version);
      assertEquals(
          new ModelVersion("jbond-policy", 2),
          sampler.sample(prompts(), 1, PolicyRole.POLICY, 1).get(0).model());
      inFlight.release();
      assertTrue(old.isClosed(), "closed after the last in-flight sample");
    } catch (ModelLoadException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void publish_concurrentWithSampling_everySampleHasAPublishedVersion() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (DirectSampler sampler = open()) {
      List<Future<List<Generation>>> running = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        long seed = t;
        running.add(pool.submit(() -> sampler.sample(prompts(), 4, PolicyRole.POLICY, seed)));
      }
      for (long version = 1; version <= 3; version++) {
        sampler.publish(PolicyRole.POLICY, version % 2 == 1 ? other : initial, version);
      }
      Set<Long> versions = new HashSet<>();
      for (Future<List<Generation>> future : running) {
        for (Generation g : future.get(60, TimeUnit.SECONDS)) {
          versions.add(g.model().version());
        }
      }
      assertTrue(Set.of(0L, 1L, 2L, 3L).containsAll(versions), versions.toString());
      assertEquals(3, sampler.sample(prompts(), 1, PolicyRole.POLICY, 1).get(0).model().version());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void publish_staleVersionOrAfterClose_failsClearly() throws IOException {
    DirectSampler sampler = open();
    sampler.publish(PolicyRole.POLICY, other, 4);

    assertEquals(
        "Expected a version > 4 for role 'policy', found 4",
        assertThrows(
                IllegalArgumentException.class,
                () -> sampler.publish(PolicyRole.POLICY, initial, 4))
            .getMessage());
    OrtModelSession policy = sampler.session(PolicyRole.POLICY);
    OrtModelSession anchor = sampler.session(PolicyRole.ANCHOR);
    sampler.close();
    sampler.close();

    assertTrue(policy.isClosed());
    assertTrue(anchor.isClosed());
    assertEquals(
        "DirectSampler is closed",
        assertThrows(
                IllegalStateException.class, () -> sampler.publish(PolicyRole.POLICY, other, 5))
            .getMessage());
    assertEquals(
        "DirectSampler is closed",
        assertThrows(
                IllegalStateException.class,
                () -> sampler.sample(prompts(), 1, PolicyRole.POLICY, 1))
            .getMessage());
  }

  @Test
  void builder_missingModelOrBadSettings_failsClearly() {
    ModelDirectory missing =
        new ModelDirectory(
            dir.resolve("missing"), initial.config(), initial.eosTokenId(), initial.padTokenId());
    assertThrows(ModelLoadException.class, () -> DirectSampler.builder(missing, SAMPLING).build());
    assertEquals(
        "Expected maxBatchRows >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> DirectSampler.builder(initial, SAMPLING).optMaxBatchRows(0).build())
            .getMessage());
    assertEquals(
        "Expected EOS token ids < vocabulary size 259, found 400",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DirectSampler.builder(initial, SAMPLING.toBuilder().optEosTokenIds(400).build())
                        .build())
            .getMessage());
  }

  private static DirectSampler openTwoThreads(int maxBatchRows, int smallBatchRows)
      throws ModelLoadException {
    return DirectSampler.builder(initial, SAMPLING)
        .optSessionConfig(SessionConfig.builder().optIntraOpThreads(2).build())
        .optMaxBatchRows(maxBatchRows)
        .optSmallBatchRows(smallBatchRows)
        .build();
  }

  @Test
  void builder_smallBatchRowsWithTwoThreads_smallBatchesRunOnTheSecondSession() throws IOException {
    try (DirectSampler sampler = openTwoThreads(4, 2)) {
      OrtModelSession small = sampler.smallBatchSession(PolicyRole.POLICY);
      assertNotNull(small);
      assertNotSame(sampler.session(PolicyRole.POLICY), small);
      assertSame(small, sampler.smallBatchSession(PolicyRole.ANCHOR));
      List<Prompt> one = prompts().subList(0, 1);
      assertEquals(2, sampler.sample(one, 2, PolicyRole.POLICY, 1).size());

      small.close();

      assertEquals(3, sampler.sample(one, 3, PolicyRole.POLICY, 1).size());
      assertEquals(
          "OrtModelSession is closed",
          assertThrows(
                  IllegalStateException.class, () -> sampler.sample(one, 2, PolicyRole.POLICY, 1))
              .getMessage());
    }
  }

  @Test
  void builder_oneThreadOrThresholdZero_opensNoSecondSession() throws IOException {
    try (DirectSampler oneThread =
            DirectSampler.builder(initial, SAMPLING)
                .optSessionConfig(SessionConfig.builder().optIntraOpThreads(1).build())
                .optSmallBatchRows(2)
                .build();
        DirectSampler off = openTwoThreads(4, 0)) {
      assertNull(oneThread.smallBatchSession(PolicyRole.POLICY));
      assertNull(off.smallBatchSession(PolicyRole.POLICY));
      assertTrue(off.toString().contains("maxBatchRows=4 smallBatchRows=0"), off.toString());
    }
    SessionConfig cuda =
        SessionConfig.builder()
            .optIntraOpThreads(2)
            .optExecutionProvider(ExecutionProvider.CUDA)
            .build();
    assertFalse(DirectSampler.usesSmallBatchSession(cuda, 2));
    assertTrue(
        DirectSampler.usesSmallBatchSession(
            SessionConfig.builder().optIntraOpThreads(2).build(), 2));
  }

  @Test
  void sample_smallBatchSession_sameGenerationsAsOneSession() throws IOException {
    try (DirectSampler without = openTwoThreads(4, 0);
        DirectSampler with = openTwoThreads(4, 4)) {
      // 3 prompts x 3 samples: batches of 4, 4 and 1 rows, all on the one-thread session
      List<Generation> expected = without.sample(prompts(), 3, PolicyRole.POLICY, 6);
      List<Generation> found = with.sample(prompts(), 3, PolicyRole.POLICY, 6);

      assertEquals(completions(expected), completions(found));
      for (int i = 0; i < expected.size(); i++) {
        double[] e = expected.get(i).engineLogProbs().orElseThrow().toArray();
        double[] f = found.get(i).engineLogProbs().orElseThrow().toArray();
        for (int k = 0; k < e.length; k++) {
          assertEquals(e[k], f[k], 1e-5, "generation " + i + " token " + k);
        }
      }
    }
  }

  @Test
  void publishAndClose_smallBatchRows_openAndCloseBothSessions() throws IOException {
    DirectSampler sampler = openTwoThreads(4, 2);
    OrtModelSession initialSmall = sampler.smallBatchSession(PolicyRole.POLICY);
    sampler.publish(PolicyRole.POLICY, other, 1);
    sampler.publish(PolicyRole.ANCHOR, other.readWeights(), 1);
    OrtModelSession policy = sampler.session(PolicyRole.POLICY);
    OrtModelSession policySmall = sampler.smallBatchSession(PolicyRole.POLICY);
    OrtModelSession anchorSmall = sampler.smallBatchSession(PolicyRole.ANCHOR);

    assertNotNull(policySmall);
    assertNotNull(anchorSmall);
    assertNotSame(initialSmall, policySmall);
    assertFalse(initialSmall.isClosed(), "the reference role still serves it");
    sampler.close();

    for (OrtModelSession s : List.of(initialSmall, policy, policySmall, anchorSmall)) {
      assertTrue(s.isClosed(), s.toString());
    }
  }

  @Test
  void builder_smallBatchRowsOutOfRange_failsClearly() {
    assertEquals(
        "Expected 0 <= smallBatchRows <= maxBatchRows 64, found -1",
        assertThrows(
                IllegalArgumentException.class,
                () -> DirectSampler.builder(initial, SAMPLING).optSmallBatchRows(-1).build())
            .getMessage());
    assertEquals(
        "Expected 0 <= smallBatchRows <= maxBatchRows 4, found 5",
        assertThrows(IllegalArgumentException.class, () -> openTwoThreads(4, 5)).getMessage());
  }

  private static List<Object> completions(List<Generation> generations) {
    List<Object> out = new ArrayList<>();
    generations.forEach(g -> out.add(g.completion()));
    return out;
  }
}
