package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class KvCacheSamplerTest {
  /** The acceptance bound of issue 4: sampler log-probs agree with the full-sequence graph. */
  private static final double TOLERANCE = 1e-4;

  /** EOS plus three ids this model draws often, so that some rows stop early. */
  private static final int[] STOPS = {GenerateFixtures.EOS, 133, 149, 223};

  private static final int MAX_NEW = 24;

  @TempDir static Path dir;

  private static ModelDirectory model;
  private static OrtModelSession decode;
  private static OrtModelSession full;
  private static KvCacheSampler kv;
  private static FullSequenceSampler recompute;

  @BeforeAll
  static void open() throws IOException {
    model = GenerateFixtures.write(dir, 11);
    decode = OrtSessions.open(model.decodeGraph(), SessionConfig.defaults());
    full = OrtSessions.open(model.fullGraph(), SessionConfig.defaults());
    kv = new KvCacheSampler(decode, model.config());
    recompute = new FullSequenceSampler(full, model.config());
  }

  @AfterAll
  static void close() {
    decode.close();
    full.close();
  }

  private static SamplingConfig.Builder stopping() {
    return SamplingConfig.builder()
        .setMaxNewTokens(MAX_NEW)
        .optEosTokenIds(STOPS)
        .optPadTokenId(GenerateFixtures.PAD);
  }

  @Test
  void sample_logitsOverTheBudget_smallerBatchesSameSamples() {
    SamplingConfig config = stopping().build();
    List<Prompt> prompts = GenerateFixtures.prompts();
    long twoRows = 2L * 12 * GenerateFixtures.VOCAB; // the longest prompt has 12 tokens
    assertEquals(2, DecodeLoop.batchRows(prompts, 64, GenerateFixtures.VOCAB, 0, twoRows));
    assertEquals(1, DecodeLoop.batchRows(prompts, 64, GenerateFixtures.VOCAB, 0, 1));
    assertEquals(64, DecodeLoop.batchRows(prompts, 64, GenerateFixtures.VOCAB, 0, Long.MAX_VALUE));
    List<SampledSequence> whole = kv.sample(prompts, 3, config, 9);
    List<SampledSequence> parts = kv.withLogitsBudget(twoRows).sample(prompts, 3, config, 9);
    assertEquals(whole.size(), parts.size());
    for (int i = 0; i < whole.size(); i++) {
      assertEquals(whole.get(i).completion(), parts.get(i).completion(), "row " + i);
      double[] a = whole.get(i).samplingLogProbs().toArray();
      double[] b = parts.get(i).samplingLogProbs().toArray();
      for (int k = 0; k < a.length; k++) {
        assertEquals(a[k], b[k], 1e-5, "row " + i + " token " + k);
      }
    }
  }

  @Test
  void sampleSeeded_sequenceSeeds_equalTheMatchingSamplesOfSample() {
    SamplingConfig config = stopping().build();
    List<Prompt> prompts = GenerateFixtures.prompts();
    List<SampledSequence> expected = kv.sample(prompts, 3, config, 5);
    List<Prompt> rows = new ArrayList<>();
    long[] seeds = new long[prompts.size() * 3];
    for (int i = 0; i < prompts.size(); i++) {
      for (int j = 0; j < 3; j++) {
        // reversed, so every row sits in another batch position than in the request above
        int r = seeds.length - 1 - (i * 3 + j);
        rows.add(null);
        seeds[r] = SequenceSeeds.seed(5, prompts.get(i).id(), j);
      }
    }
    for (int r = 0; r < seeds.length; r++) {
      int source = seeds.length - 1 - r;
      rows.set(r, prompts.get(source / 3));
    }
    List<SampledSequence> actual = kv.sampleSeeded(rows, seeds, config);
    for (int r = 0; r < seeds.length; r++) {
      SampledSequence e = expected.get(seeds.length - 1 - r);
      assertEquals(e.completion(), actual.get(r).completion(), "row " + r);
      assertEquals(0, actual.get(r).sample());
      assertClose(actual.get(r).samplingLogProbs().toArray(), e.samplingLogProbs().toArray(), 1e-5);
    }
  }

  @Test
  void sampleSeeded_seedCountMismatch_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> kv.sampleSeeded(GenerateFixtures.prompts(), new long[] {1}, stopping().build()));
    assertEquals("Expected 3 sequence seeds (one per prompt), found 1", e.getMessage());
  }

  @Test
  void sample_temperature1_logProbsMatchTheFullSequenceGraph() {
    List<SampledSequence> samples = kv.sample(GenerateFixtures.prompts(), 6, stopping().build(), 7);

    double[][][] logits = GenerateFixtures.fullGraphLogits(full, samples);
    double maxSampling = 0;
    double maxModel = 0;
    Set<StopReason> reasons = EnumSet.noneOf(StopReason.class);
    for (int b = 0; b < samples.size(); b++) {
      SampledSequence s = samples.get(b);
      for (int k = 0; k < s.completion().length(); k++) {
        double reference = GenerateFixtures.logSoftmax(logits[b][k])[s.completion().get(k)];
        maxSampling = Math.max(maxSampling, Math.abs(s.samplingLogProbs().get(k) - reference));
        maxModel = Math.max(maxModel, Math.abs(s.modelLogProbs().get(k) - reference));
      }
      reasons.add(s.stopReason());
      checkStop(s);
    }
    System.out.printf(
        "KvCacheSamplerTest: max |log-prob - full graph| over %d rows: sampling %.2e, model %.2e%n",
        samples.size(), maxSampling, maxModel);
    assertTrue(maxSampling < TOLERANCE, "sampling log-probs differ by " + maxSampling);
    assertTrue(maxModel < TOLERANCE, "model log-probs differ by " + maxModel);
    assertEquals(EnumSet.allOf(StopReason.class), reasons, "rows stopped early and at the limit");
  }

  @Test
  void sample_temperatureTopKTopP_logProbsMatchTheTransformedFullSequenceGraph() {
    SamplingConfig config = stopping().optTemperature(0.7).optTopK(40).optTopP(0.9).build();

    List<SampledSequence> samples = kv.sample(GenerateFixtures.prompts(), 6, config, 8);

    double[][][] logits = GenerateFixtures.fullGraphLogits(full, samples);
    double maxSampling = 0;
    double maxModel = 0;
    for (int b = 0; b < samples.size(); b++) {
      SampledSequence s = samples.get(b);
      for (int k = 0; k < s.completion().length(); k++) {
        int token = s.completion().get(k);
        double probability = GenerateFixtures.samplingDistribution(logits[b][k], config)[token];
        assertTrue(probability > 0, "token " + token + " lies outside the kept set");
        maxSampling =
            Math.max(maxSampling, Math.abs(s.samplingLogProbs().get(k) - Math.log(probability)));
        double model = GenerateFixtures.logSoftmax(logits[b][k])[token];
        maxModel = Math.max(maxModel, Math.abs(s.modelLogProbs().get(k) - model));
      }
      checkStop(s);
    }
    assertTrue(maxSampling < TOLERANCE, "sampling log-probs differ by " + maxSampling);
    assertTrue(maxModel < TOLERANCE, "untempered model log-probs differ by " + maxModel);
  }

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of("greedy", stopping().optTemperature(0).build()),
        Arguments.of("temperature 1", stopping().build()),
        Arguments.of(
            "temperature 0.8, top-p 0.9", stopping().optTemperature(0.8).optTopP(0.9).build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void sample_kvCacheAndRecompute_sameTokens(String name, SamplingConfig config) {
    List<SampledSequence> cached = kv.sample(GenerateFixtures.prompts(), 4, config, 21);
    List<SampledSequence> recomputed = recompute.sample(GenerateFixtures.prompts(), 4, config, 21);

    assertEquals(cached.size(), recomputed.size());
    for (int i = 0; i < cached.size(); i++) {
      assertEquals(cached.get(i).completion(), recomputed.get(i).completion(), name + " row " + i);
      assertEquals(cached.get(i).stopReason(), recomputed.get(i).stopReason());
      assertClose(
          cached.get(i).samplingLogProbs().toArray(),
          recomputed.get(i).samplingLogProbs().toArray(),
          TOLERANCE);
    }
  }

  @Test
  void sample_greedy_everySampleIsTheArgmaxPath() {
    SamplingConfig config = stopping().optTemperature(0).build();

    List<SampledSequence> samples = kv.sample(GenerateFixtures.prompts(), 3, config, 5);

    double[][][] logits = GenerateFixtures.fullGraphLogits(full, samples);
    for (int b = 0; b < samples.size(); b++) {
      SampledSequence s = samples.get(b);
      assertEquals(samples.get(b - b % 3).completion(), s.completion());
      for (int k = 0; k < s.completion().length(); k++) {
        assertEquals(argmax(logits[b][k]), s.completion().get(k));
        assertEquals(0.0, s.samplingLogProbs().get(k));
      }
    }
  }

  @Test
  void sample_promptAloneOrInAnotherBatch_sameCompletions() {
    SamplingConfig config = stopping().build();
    List<Prompt> prompts = GenerateFixtures.prompts();
    Prompt a = prompts.get(0);

    List<SampledSequence> alone = kv.sample(List.of(a), 4, config, 3);
    List<SampledSequence> mixed =
        kv.sample(List.of(prompts.get(1), a, prompts.get(2)), 4, config, 3);
    List<SampledSequence> chunked =
        new KvCacheSampler(decode, model.config(), 3)
            .sample(List.of(prompts.get(1), a), 4, config, 3);

    for (int j = 0; j < 4; j++) {
      assertEquals(alone.get(j).completion(), mixed.get(4 + j).completion(), "sample " + j);
      assertEquals(alone.get(j).completion(), chunked.get(4 + j).completion(), "sample " + j);
      assertEquals(j, mixed.get(4 + j).sample());
      assertClose(
          alone.get(j).samplingLogProbs().toArray(),
          mixed.get(4 + j).samplingLogProbs().toArray(),
          1e-5);
    }
  }

  @Test
  void sample_sameSeed_sameSamples_otherSamplesAndSeeds_differ() {
    SamplingConfig config = SamplingConfig.builder().setMaxNewTokens(MAX_NEW).build();
    List<Prompt> prompts = GenerateFixtures.prompts();

    List<SampledSequence> first = kv.sample(prompts, 8, config, 99);
    List<SampledSequence> again = kv.sample(prompts, 8, config, 99);
    List<SampledSequence> other = kv.sample(prompts, 8, config, 100);

    assertEquals(first, again);
    Set<TokenSequence> distinct = new HashSet<>();
    for (SampledSequence s : first.subList(0, 8)) {
      distinct.add(s.completion());
    }
    assertEquals(8, distinct.size(), "8 samples of one prompt, 8 different completions");
    assertNotEquals(completions(first), completions(other));
  }

  @Test
  void sample_promptTooLongForTheContext_namesPromptLengthAndContext() {
    Prompt prompt = new Prompt("long", TokenSequence.of(new int[25]));
    SamplingConfig config = stopping().build();

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> kv.sample(List.of(prompt), 1, config, 1));

    assertEquals(
        "Expected prompt length + maxNewTokens <= context length 48, found 25 + 24 in prompt"
            + " 'long'",
        e.getMessage());
  }

  @Test
  void sample_tokenOutsideTheVocabulary_namesPromptPositionAndValue() {
    List<Prompt> prompts =
        List.of(GenerateFixtures.prompt("ok", "Hi"), new Prompt("bad", TokenSequence.of(3, 300)));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> kv.sample(prompts, 1, stopping().build(), 1));

    assertEquals(
        "Expected token ids < vocabulary size 259 in prompt 'bad', found 300 at position 1",
        e.getMessage());
  }

  @Test
  void sample_badRequest_failsClearly() {
    SamplingConfig config = stopping().build();
    List<Prompt> prompts = GenerateFixtures.prompts();

    assertEquals(
        "Expected at least one prompt, found none",
        assertThrows(IllegalArgumentException.class, () -> kv.sample(List.of(), 1, config, 1))
            .getMessage());
    assertEquals(
        "Expected samples per prompt >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> kv.sample(prompts, 0, config, 1))
            .getMessage());
    assertEquals(
        "Expected a non-empty prompt, found no tokens in prompt 'empty'",
        assertThrows(
                IllegalArgumentException.class,
                () -> kv.sample(List.of(new Prompt("empty", TokenSequence.empty())), 1, config, 1))
            .getMessage());
    assertEquals(
        "Expected EOS token ids < vocabulary size 259, found 300",
        assertThrows(
                IllegalArgumentException.class,
                () -> kv.sample(prompts, 1, stopping().optEosTokenIds(300).build(), 1))
            .getMessage());
    assertEquals(
        "Expected padTokenId < vocabulary size 259, found 259",
        assertThrows(
                IllegalArgumentException.class,
                () -> recompute.sample(prompts, 1, stopping().optPadTokenId(259).build(), 1))
            .getMessage());
  }

  @Test
  void constructor_sessionOfAnotherGraphOrVocabulary_failsClearly() {
    assertEquals(
        "Expected decode graph inputs [input_ids, attention_mask, position_ids,"
            + " past_key_values.0.key, past_key_values.0.value, past_key_values.1.key,"
            + " past_key_values.1.value] in model 'model.onnx', found [input_ids, attention_mask]",
        assertThrows(IllegalArgumentException.class, () -> new KvCacheSampler(full, model.config()))
            .getMessage());
    DecoderConfig wider = model.config().toBuilder().setVocabSize(300).build();
    assertEquals(
        "Expected logits [batch, sequence, 300] from model 'decode.onnx', found [-1, -1, 259]",
        assertThrows(IllegalArgumentException.class, () -> new KvCacheSampler(decode, wider))
            .getMessage());
    assertEquals(
        "Expected maxBatchRows >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> new FullSequenceSampler(full, model.config(), 0))
            .getMessage());
  }

  @Test
  void sample_closedSession_failsClearly() throws IOException {
    OrtModelSession session = OrtSessions.open(model.decodeGraph(), SessionConfig.defaults());
    KvCacheSampler sampler = new KvCacheSampler(session, model.config());
    session.close();

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> sampler.sample(GenerateFixtures.prompts(), 1, stopping().build(), 1));

    assertEquals("OrtModelSession is closed", e.getMessage());
  }

  private static OrtModelSession openDecode(int threads) throws IOException {
    return OrtSessions.open(
        model.decodeGraph(), SessionConfig.builder().optIntraOpThreads(threads).build());
  }

  @Test
  void withSmallBatchSession_mainSessionClosed_onlyBatchesAboveTheThresholdFail()
      throws IOException {
    OrtModelSession main = openDecode(2);
    OrtModelSession small = openDecode(1);
    try {
      KvCacheSampler sampler =
          new KvCacheSampler(main, model.config(), 4).withSmallBatchSession(small, 2);
      main.close();
      SamplingConfig config = stopping().build();
      Prompt prompt = GenerateFixtures.prompts().get(0);

      assertEquals(1, sampler.sample(List.of(prompt), 1, config, 1).size());
      assertEquals(2, sampler.sample(List.of(prompt), 2, config, 1).size());
      assertEquals(
          "OrtModelSession is closed",
          assertThrows(
                  IllegalStateException.class, () -> sampler.sample(List.of(prompt), 3, config, 1))
              .getMessage());
    } finally {
      main.close();
      small.close();
    }
  }

  @Test
  void withSmallBatchSession_smallSessionClosed_onlyBatchesUpToTheThresholdFail()
      throws IOException {
    OrtModelSession main = openDecode(2);
    OrtModelSession small = openDecode(1);
    try {
      KvCacheSampler sampler =
          new KvCacheSampler(main, model.config(), 4).withSmallBatchSession(small, 2);
      small.close();
      SamplingConfig config = stopping().build();
      Prompt prompt = GenerateFixtures.prompts().get(0);

      assertEquals(3, sampler.sample(List.of(prompt), 3, config, 1).size());
      assertEquals(4, sampler.sample(List.of(prompt), 4, config, 1).size());
      assertEquals(
          "OrtModelSession is closed",
          assertThrows(
                  IllegalStateException.class, () -> sampler.sample(List.of(prompt), 2, config, 1))
              .getMessage());
      // 5 rows: a batch of 4 on the main session, then the remaining row on the small one
      assertEquals(
          "OrtModelSession is closed",
          assertThrows(
                  IllegalStateException.class, () -> sampler.sample(List.of(prompt), 5, config, 1))
              .getMessage());
    } finally {
      main.close();
      small.close();
    }
  }

  @Test
  void withSmallBatchSession_sameSeeds_sameTokensAsTheMainSessionAlone() throws IOException {
    try (OrtModelSession main = openDecode(2);
        OrtModelSession small = openDecode(1)) {
      KvCacheSampler mainOnly = new KvCacheSampler(main, model.config(), 4);
      // 3 prompts x 3 samples in batches of 4, 4 and 1 rows: the last one on the small session
      KvCacheSampler mixed = mainOnly.withSmallBatchSession(small, 1);
      // every batch on the small session
      KvCacheSampler smallOnly = mainOnly.withSmallBatchSession(small, 4);
      SamplingConfig config = stopping().build();
      List<Prompt> prompts = GenerateFixtures.prompts();

      List<SampledSequence> expected = mainOnly.sample(prompts, 3, config, 7);
      for (KvCacheSampler sampler : List.of(mixed, smallOnly)) {
        List<SampledSequence> found = sampler.sample(prompts, 3, config, 7);
        assertEquals(completions(expected), completions(found), sampler.toString());
        for (int i = 0; i < expected.size(); i++) {
          assertClose(
              found.get(i).modelLogProbs().toArray(),
              expected.get(i).modelLogProbs().toArray(),
              1e-5);
        }
      }
      assertEquals(
          "KvCacheSampler 'decode.onnx' maxBatchRows=4 smallBatchRows=1", mixed.toString());
      assertEquals(0, mainOnly.smallBatchRows());
      assertEquals(4, smallOnly.smallBatchRows());
    }
  }

  @Test
  void withSmallBatchSession_badThresholdOrSession_failsClearly() throws IOException {
    try (OrtModelSession main = openDecode(2);
        OrtModelSession small = openDecode(1)) {
      KvCacheSampler sampler = new KvCacheSampler(main, model.config());

      assertEquals(
          "Expected smallBatchRows >= 1, found 0",
          assertThrows(
                  IllegalArgumentException.class, () -> sampler.withSmallBatchSession(small, 0))
              .getMessage());
      assertEquals(
          "Expected small-batch decode graph inputs [input_ids, attention_mask, position_ids,"
              + " past_key_values.0.key, past_key_values.0.value, past_key_values.1.key,"
              + " past_key_values.1.value] in model 'model.onnx', found [input_ids,"
              + " attention_mask]",
          assertThrows(IllegalArgumentException.class, () -> sampler.withSmallBatchSession(full, 1))
              .getMessage());
    }
  }

  /** EOS rows end with their first stop token; the others have MAX_NEW tokens and none. */
  private static void checkStop(SampledSequence s) {
    int[] tokens = s.completion().toArray();
    int firstStop = -1;
    for (int k = 0; k < tokens.length && firstStop < 0; k++) {
      for (int stop : STOPS) {
        if (tokens[k] == stop) {
          firstStop = k;
        }
      }
    }
    if (s.stopReason() == StopReason.EOS) {
      assertEquals(tokens.length - 1, firstStop, "EOS is the last token, and the first stop");
    } else {
      assertEquals(-1, firstStop, "no stop token in " + s.completion());
      assertEquals(MAX_NEW, tokens.length);
    }
  }

  private static List<TokenSequence> completions(List<SampledSequence> samples) {
    List<TokenSequence> out = new ArrayList<>();
    samples.forEach(s -> out.add(s.completion()));
    return out;
  }

  private static int argmax(double[] values) {
    int best = 0;
    for (int v = 1; v < values.length; v++) {
      if (values[v] > values[best]) {
        best = v;
      }
    }
    return best;
  }

  private static void assertClose(double[] actual, double[] expected, double tolerance) {
    assertEquals(expected.length, actual.length, "length");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tolerance, "element " + i);
    }
  }
}
