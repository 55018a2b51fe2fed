package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InflightDecoderTest {
  /** Batch-shape rounding only: the same arithmetic on differently padded caches. */
  private static final double SAME_ROW = 1e-5;

  /** The acceptance bound of issue 4 against the full-sequence graph. */
  private static final double FULL_GRAPH = 1e-4;

  private static final int[] STOPS = {GenerateFixtures.EOS, 133, 149, 223};

  @TempDir static Path dir;

  private static ModelDirectory model;
  private static OrtModelSession decode;
  private static OrtModelSession full;
  private static KvCacheSampler kv;

  @BeforeAll
  static void open() throws IOException {
    model = GenerateFixtures.write(dir, 11);
    decode = OrtSessions.open(model.decodeGraph(), SessionConfig.defaults());
    full = OrtSessions.open(model.fullGraph(), SessionConfig.defaults());
    kv = new KvCacheSampler(decode, model.config());
  }

  @AfterAll
  static void close() {
    decode.close();
    full.close();
  }

  private static SamplingConfig.Builder base(int maxNew) {
    return SamplingConfig.builder().setMaxNewTokens(maxNew).optPadTokenId(GenerateFixtures.PAD);
  }

  /** Mixed settings: stopping rows, temperature, top-k, top-p, one row without stops. */
  private static List<SamplingConfig> configs() {
    return List.of(
        base(20).optEosTokenIds(STOPS).build(),
        base(16).optTemperature(0.7).optEosTokenIds(STOPS).build(),
        base(24).optTopK(5).build(),
        base(12).optTopP(0.8).optEosTokenIds(GenerateFixtures.EOS).build(),
        base(18).build());
  }

  private static Prompt randomPrompt(String id, SplittableRandom random, int maxLength) {
    int[] tokens = new int[1 + random.nextInt(maxLength)];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = random.nextInt(256);
    }
    return new Prompt(id, TokenSequence.of(tokens));
  }

  /** The row decoded alone with the same seed. */
  private static SampledSequence alone(InflightDecoder.Join<String> join) {
    return kv.sampleSeeded(List.of(join.prompt()), new long[] {join.seed()}, join.config()).get(0);
  }

  private static void assertSameRow(SampledSequence expected, SampledSequence actual, String tag) {
    assertEquals(expected.completion(), actual.completion(), "tokens of " + tag);
    assertEquals(expected.stopReason(), actual.stopReason(), "stop reason of " + tag);
    double[] e = expected.samplingLogProbs().toArray();
    double[] a = actual.samplingLogProbs().toArray();
    double[] em = expected.modelLogProbs().toArray();
    double[] am = actual.modelLogProbs().toArray();
    for (int k = 0; k < e.length; k++) {
      assertEquals(e[k], a[k], SAME_ROW, "sampling log-prob " + k + " of " + tag);
      assertEquals(em[k], am[k], SAME_ROW, "model log-prob " + k + " of " + tag);
    }
  }

  /**
   * Drives a decoder until it is idle: the rows scheduled for a step queue up then and are admitted
   * as free rows allow. Returns the finished rows by tag.
   */
  private static Map<String, SampledSequence> drive(
      InflightDecoder<String> decoder, Map<Integer, List<InflightDecoder.Join<String>>> schedule) {
    Map<String, SampledSequence> out = new HashMap<>();
    List<InflightDecoder.Join<String>> waiting = new ArrayList<>();
    int last = schedule.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    for (int step = 0; step <= last || !waiting.isEmpty() || !decoder.isIdle(); step++) {
      waiting.addAll(schedule.getOrDefault(step, List.of()));
      int take = Math.min(waiting.size(), decoder.freeRows());
      List<InflightDecoder.Join<String>> joins = new ArrayList<>(waiting.subList(0, take));
      waiting.subList(0, take).clear();
      List<InflightDecoder.Finished<String>> finished = new ArrayList<>(decoder.admit(joins));
      finished.addAll(decoder.step());
      for (InflightDecoder.Finished<String> f : finished) {
        assertTrue(out.put(f.tag(), f.sequence()) == null, "finished twice: " + f.tag());
      }
    }
    return out;
  }

  @Test
  void staggeredJoins_mixedSettings_eachRowEqualsDecodingItAlone() {
    SplittableRandom random = new SplittableRandom(2024);
    List<SamplingConfig> configs = configs();
    Map<Integer, List<InflightDecoder.Join<String>>> schedule = new HashMap<>();
    List<InflightDecoder.Join<String>> all = new ArrayList<>();
    int[] joinSteps = {0, 0, 1, 3, 3, 3, 4, 7, 8, 8, 12, 15, 15, 16, 20, 25};
    for (int i = 0; i < joinSteps.length; i++) {
      InflightDecoder.Join<String> join =
          new InflightDecoder.Join<>(
              "r" + i,
              randomPrompt("p" + i, random, 20),
              random.nextLong(),
              configs.get(i % configs.size()));
      schedule.computeIfAbsent(joinSteps[i], s -> new ArrayList<>()).add(join);
      all.add(join);
    }
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 8)) {
      Map<String, SampledSequence> done = drive(decoder, schedule);
      assertEquals(all.size(), done.size());
      for (InflightDecoder.Join<String> join : all) {
        assertSameRow(alone(join), done.get(join.tag()), join.tag());
      }
      assertTrue(decoder.cacheCopyCount() >= 5, "merges: " + decoder.cacheCopyCount());
      assertTrue(decoder.isIdle());
    }
  }

  @Test
  void staggeredJoins_logProbsAgreeWithTheFullSequenceGraph() {
    SplittableRandom random = new SplittableRandom(7);
    SamplingConfig config = base(20).build();
    Map<Integer, List<InflightDecoder.Join<String>>> schedule = new HashMap<>();
    for (int i = 0; i < 6; i++) {
      schedule.put(
          i * 3,
          List.of(
              new InflightDecoder.Join<>(
                  "r" + i, randomPrompt("p" + i, random, 16), random.nextLong(), config)));
    }
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 8)) {
      List<SampledSequence> done = new ArrayList<>(drive(decoder, schedule).values());
      double[][][] logits = GenerateFixtures.fullGraphLogits(full, done);
      for (int b = 0; b < done.size(); b++) {
        SampledSequence s = done.get(b);
        for (int k = 0; k < s.completion().length(); k++) {
          double expected = GenerateFixtures.logSoftmax(logits[b][k])[s.completion().get(k)];
          assertEquals(expected, s.modelLogProbs().get(k), FULL_GRAPH, s.prompt().id() + " " + k);
        }
      }
    }
  }

  @Test
  void burstIntoIdleDecoder_usesThePrefillAsTheCache_andEqualsOneSamplerBatch() {
    List<Prompt> prompts = GenerateFixtures.prompts();
    SamplingConfig config = base(20).build();
    long[] seeds = {11, 12, 13};
    List<SampledSequence> expected = kv.sampleSeeded(prompts, seeds, config);
    List<InflightDecoder.Join<String>> joins = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      joins.add(new InflightDecoder.Join<>("r" + i, prompts.get(i), seeds[i], config));
    }
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 4)) {
      Map<String, SampledSequence> done = drive(decoder, Map.of(0, joins));
      for (int i = 0; i < prompts.size(); i++) {
        assertSameRow(expected.get(i), done.get("r" + i), "r" + i);
      }
      // no stops: the rows run to the end together, the prefill's outputs are the only cache
      assertEquals(0, decoder.cacheCopyCount());
      assertEquals(1, decoder.admissionCount());
    }
  }

  @Test
  void rowsJoiningUntilTheCacheReachesTheContext_areTrimmed_andStillExact() {
    // context 48: A (12 + 36 = 48) stops at cache length 47 while B and C (1 + 40) go on; one
    // dead row of three is no reason to compact, so the next step needs the context trim.
    SamplingConfig longRow = base(36).build();
    SamplingConfig lateRow = base(40).build();
    InflightDecoder.Join<String> a =
        new InflightDecoder.Join<>("a", GenerateFixtures.prompt("a", "Hello there!"), 1, longRow);
    InflightDecoder.Join<String> b =
        new InflightDecoder.Join<>("b", GenerateFixtures.prompt("b", "I"), 2, lateRow);
    InflightDecoder.Join<String> c =
        new InflightDecoder.Join<>("c", GenerateFixtures.prompt("c", "x"), 3, lateRow);
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 3)) {
      Map<String, SampledSequence> done = drive(decoder, Map.of(0, List.of(a), 8, List.of(b, c)));
      assertEquals(3, done.size());
      for (InflightDecoder.Join<String> join : List.of(a, b, c)) {
        assertSameRow(alone(join), done.get(join.tag()), join.tag());
        assertEquals(join.config().maxNewTokens(), done.get(join.tag()).completion().length());
      }
      // one merge for B and C, then one trim at the context
      assertEquals(2, decoder.cacheCopyCount());
    }
  }

  @Test
  void remove_dropsTheRow_othersFinishExactly() {
    SamplingConfig config = base(20).build();
    List<InflightDecoder.Join<String>> joins = new ArrayList<>();
    List<Prompt> prompts = GenerateFixtures.prompts();
    for (int i = 0; i < prompts.size(); i++) {
      joins.add(new InflightDecoder.Join<>("r" + i, prompts.get(i), 40 + i, config));
    }
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 3)) {
      decoder.admit(joins);
      decoder.step();
      assertEquals(List.of("r1"), decoder.remove("r1"::equals));
      assertEquals(2, decoder.liveRows());
      Map<String, SampledSequence> done = drive(decoder, Map.of());
      assertEquals(2, done.size());
      assertSameRow(alone(joins.get(0)), done.get("r0"), "r0");
      assertSameRow(alone(joins.get(2)), done.get("r2"), "r2");
    }
  }

  @Test
  void admit_moreRowsThanFree_rejectedWithoutAdmittingAny() {
    SamplingConfig config = base(8).build();
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 2)) {
      decoder.admit(
          List.of(new InflightDecoder.Join<>("a", GenerateFixtures.prompt("a", "hi"), 1, config)));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  decoder.admit(
                      List.of(
                          new InflightDecoder.Join<>(
                              "b", GenerateFixtures.prompt("b", "x"), 2, config),
                          new InflightDecoder.Join<>(
                              "c", GenerateFixtures.prompt("c", "y"), 3, config))));
      assertEquals("Expected at most 1 rows to admit (1 live of 2), found 2", e.getMessage());
      assertEquals(1, decoder.liveRows());
    }
  }

  @Test
  void admit_promptTooLongForTheContext_rejectedAndTheBatchGoesOn() {
    SamplingConfig config = base(40).build();
    InflightDecoder.Join<String> ok =
        new InflightDecoder.Join<>("ok", GenerateFixtures.prompt("ok", "I"), 5, config);
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 4)) {
      decoder.admit(List.of(ok));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  decoder.admit(
                      List.of(
                          new InflightDecoder.Join<>(
                              "long", GenerateFixtures.prompt("long", "0123456789"), 6, config))));
      assertEquals(
          "Expected prompt length + maxNewTokens <= context length 48, found 10 + 40 in prompt"
              + " 'long'",
          e.getMessage());
      Map<String, SampledSequence> done = drive(decoder, Map.of());
      assertSameRow(alone(ok), done.get("ok"), "ok");
    }
  }

  @Test
  void admit_logitsOverTheBudget_prefilledInParts_eachRowStillExact() {
    SamplingConfig config = base(12).optEosTokenIds(STOPS).build();
    List<Prompt> prompts = GenerateFixtures.prompts();
    int longest = 12; // "The film was"
    // room for the logits of two rows of the longest prompt: 3 + 2 rows become parts of 2, 2, 1
    KvCacheSampler budgeted = kv.withLogitsBudget(2L * longest * GenerateFixtures.VOCAB);
    List<InflightDecoder.Join<String>> joins = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      joins.add(
          new InflightDecoder.Join<>("r" + i, prompts.get(i % prompts.size()), 70 + i, config));
    }
    try (InflightDecoder<String> decoder = new InflightDecoder<>(budgeted, 8)) {
      Map<String, SampledSequence> done = drive(decoder, Map.of(0, joins));
      assertEquals(3, decoder.admissionCount());
      for (InflightDecoder.Join<String> join : joins) {
        assertSameRow(alone(join), done.get(join.tag()), join.tag());
      }
    }
  }

  @Test
  void step_whenIdle_returnsNothing() {
    try (InflightDecoder<String> decoder = new InflightDecoder<>(kv, 2)) {
      assertEquals(List.of(), decoder.step());
      assertEquals(0, decoder.stepCount());
      assertEquals(List.of(), decoder.clear());
    }
  }

  @Test
  void constructor_noRows_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new InflightDecoder<String>(kv, 0));
    assertTrue(e.getMessage().contains("maxRows"), e.getMessage());
  }
}
