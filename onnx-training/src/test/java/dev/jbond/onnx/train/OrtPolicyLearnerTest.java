package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.TrainingDivergedException;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.testing.TorchFixtures;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightedSequence;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The learner on the torch-exported GPT-2-style fixture (V = 64, context 16). */
class OrtPolicyLearnerTest {
  private static final Map<Integer, PolicyModel> MODELS = new HashMap<>();

  @TempDir Path dir;

  static synchronized PolicyModel fixture(int opset) {
    return MODELS.computeIfAbsent(
        opset,
        o -> {
          try {
            return PolicyModel.load(TorchFixtures.model(o));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  private static LearnerConfig.Builder config() {
    return LearnerConfig.builder()
        .optSchedule(LearningRateSchedule.constant(0))
        .optContextLength(16)
        .optSession(TinyPolicies.SESSION);
  }

  private static List<WeightedSequence> weighted(List<Generation> generations, double weight) {
    List<WeightedSequence> out = new ArrayList<>();
    for (Generation g : generations) {
      out.add(new WeightedSequence(g, weight));
    }
    return out;
  }

  // ------------------------------------------------------------------ log-probabilities

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void logProbs_paddedRunsOfMixedLengths_matchLogSoftmaxOfPlainForwardRuns(int opset)
      throws Exception {
    List<Generation> generations = TinyPolicies.randomGenerations(9, 64, 12, 11);
    double[] expected = new double[generations.size()];
    try (OrtModelSession plain =
        OrtSessions.open(TorchFixtures.model(opset), TinyPolicies.SESSION)) {
      for (int s = 0; s < generations.size(); s++) {
        expected[s] = referenceLogProb(plain, generations.get(s));
      }
    }

    for (int maxTokens : new int[] {4096, 20}) {
      try (OrtPolicyLearner learner =
          OrtPolicyLearner.create(fixture(opset), config().optMaxTokensPerRun(maxTokens).build())) {
        double[] actual = learner.logProbs(PolicyRole.POLICY, generations);

        for (int s = 0; s < expected.length; s++) {
          assertEquals(expected[s], actual[s], 1e-5, "sequence " + s + ", run size " + maxTokens);
        }
      }
    }
  }

  /** Sum over completion tokens of log-softmax(logits), in double, from one unpadded run. */
  static double referenceLogProb(OrtModelSession plain, Generation g) {
    int[] tokens = g.fullSequence().toArray();
    int p = g.prompt().tokens().length();
    long[] ids = new long[tokens.length];
    long[] ones = new long[tokens.length];
    for (int t = 0; t < tokens.length; t++) {
      ids[t] = tokens[t];
      ones[t] = 1;
    }
    long[] shape = {1, tokens.length};
    float[] logits =
        plain
            .run(
                Map.of(
                    "input_ids",
                    Tensor.longs(shape, ids),
                    "attention_mask",
                    Tensor.longs(shape, ones)))
            .get("logits")
            .toFloatArray();
    int vocabulary = logits.length / tokens.length;
    double sum = 0;
    for (int t = p - 1; t < tokens.length - 1; t++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < vocabulary; v++) {
        max = Math.max(max, logits[t * vocabulary + v]);
      }
      double z = 0;
      for (int v = 0; v < vocabulary; v++) {
        z += Math.exp(logits[t * vocabulary + v] - max);
      }
      sum += logits[t * vocabulary + tokens[t + 1]] - max - Math.log(z);
    }
    return sum;
  }

  // ------------------------------------------------------------------ gradients

  @Test
  void step_gradient_matchesCentralDifferencesOfTheWeightedLogProbs() {
    List<Generation> generations = TinyPolicies.randomGenerations(4, 64, 8, 21);
    double[] w = {-1.0, 0.5, -0.25, 0.75};
    List<WeightedSequence> batch = new ArrayList<>();
    for (int i = 0; i < w.length; i++) {
      batch.add(new WeightedSequence(generations.get(i), w[i]));
    }
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.create(fixture(17), config().optLearningRate(0).build())) {
      StepOutcome outcome = learner.step(batch);
      FloatBuffer grad = learner.lastGradient();
      FloatBuffer params = learner.parameters(PolicyRole.POLICY);
      assertEquals(lossOf(learner, generations, w), outcome.loss(), 1e-9);

      // the 4 largest gradient entries and 6 random ones, spread over all parameters
      int n = grad.limit();
      List<Integer> picks = new ArrayList<>();
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Float.compare(Math.abs(grad.get(b)), Math.abs(grad.get(a))));
      picks.addAll(List.of(order[0], order[1], order[2], order[3]));
      SplittableRandom random = new SplittableRandom(3);
      for (int k = 0; k < 6; k++) {
        picks.add(random.nextInt(n));
      }
      double h = 1e-2;
      for (int i : picks) {
        float original = params.get(i);
        params.put(i, (float) (original + h));
        double plus = lossOf(learner, generations, w);
        params.put(i, (float) (original - h));
        double minus = lossOf(learner, generations, w);
        params.put(i, original);
        double numeric = (plus - minus) / (2 * h);
        double analytic = grad.get(i);
        assertTrue(
            Math.abs(analytic - numeric) <= 2e-2 * Math.abs(numeric) + 2e-3,
            "d loss / d theta[" + i + "]: analytic " + analytic + ", numeric " + numeric);
      }
    }
  }

  private static double lossOf(OrtPolicyLearner learner, List<Generation> g, double[] w) {
    double[] lp = learner.logProbs(PolicyRole.POLICY, g);
    double loss = 0;
    for (int i = 0; i < w.length; i++) {
      loss += w[i] * lp[i];
    }
    return loss;
  }

  @Test
  void step_batchSplitIntoRuns_sumsTheSameGradientAsOneRun() {
    List<WeightedSequence> batch = weighted(TinyPolicies.randomGenerations(7, 64, 10, 5), -0.5);
    try (OrtPolicyLearner one =
            OrtPolicyLearner.create(fixture(17), config().optLearningRate(0).build());
        OrtPolicyLearner split =
            OrtPolicyLearner.create(
                fixture(17), config().optLearningRate(0).optMaxTokensPerRun(24).build())) {
      StepOutcome a = one.step(batch);
      StepOutcome b = split.step(batch);

      assertEquals(a.loss(), b.loss(), 1e-4);
      assertEquals(a.gradientNorm(), b.gradientNorm(), 1e-4 * a.gradientNorm());
      FloatBuffer ga = one.lastGradient();
      FloatBuffer gb = split.lastGradient();
      for (int i = 0; i < ga.limit(); i++) {
        assertEquals(ga.get(i), gb.get(i), 1e-5 + 1e-4 * Math.abs(ga.get(i)), "element " + i);
      }
    }
  }

  /**
   * A step after {@link OrtPolicyLearner#prepareStep} reuses its forward pass: for batches that are
   * a subset of the prepared sequences (one twice, some left out), that are not (a sequence it
   * never saw), and with a retention budget smaller than the batch, loss, gradient and the updated
   * weights equal those of a plain step on a twin learner.
   */
  @ParameterizedTest(name = "retained tokens {0}")
  @ValueSource(ints = {16384, 40, 0})
  void prepareStep_thenStep_equalsAPlainStep(int retained) {
    List<Generation> prepared = TinyPolicies.randomGenerations(9, 64, 10, 23);
    List<Generation> stranger = TinyPolicies.randomGenerations(1, 64, 10, 24);
    List<List<WeightedSequence>> batches = new ArrayList<>();
    List<WeightedSequence> subset = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      if (i % 4 != 3) {
        subset.add(new WeightedSequence(prepared.get(i), (i % 3 - 1) * 0.3 + 0.05 * i));
      }
    }
    subset.add(new WeightedSequence(prepared.get(2), 0.7));
    batches.add(subset);
    List<WeightedSequence> foreign = new ArrayList<>(subset);
    foreign.add(new WeightedSequence(stranger.get(0), -0.4));
    batches.add(foreign);
    // epsilon 1e-3: AdamW's first step is lr * g / (|g| + epsilon), which turns rounding noise in a
    // zero gradient into +-lr under the default 1e-8
    LearnerConfig config =
        config()
            .optLearningRate(1e-2)
            .optEpsilon(1e-3)
            .optMaxTokensPerRun(24)
            .optMaxRetainedTokens(retained)
            .build();
    try (OrtPolicyLearner plain = OrtPolicyLearner.create(fixture(17), config);
        OrtPolicyLearner reusing = OrtPolicyLearner.create(fixture(17), config)) {
      for (List<WeightedSequence> batch : batches) {
        double[] expectedLogProbs = plain.logProbs(PolicyRole.POLICY, prepared);
        double[] logProbs = reusing.prepareStep(prepared);
        for (int i = 0; i < logProbs.length; i++) {
          assertEquals(
              expectedLogProbs[i],
              logProbs[i],
              1e-6 * Math.max(1, Math.abs(expectedLogProbs[i])),
              "log-prob " + i);
        }
        StepOutcome a = plain.step(batch);
        long before = reusing.forwardRuns();
        StepOutcome b = reusing.step(batch);
        long forwardsInStep = reusing.forwardRuns() - before;

        // 9 prepared sequences of up to 20 tokens in runs of 24 padded tokens: every run but the
        // foreign batch's is reused when all fit the budget, some when 40 tokens are kept
        if (batch == foreign || retained == 0) {
          assertTrue(forwardsInStep > 0, "forward runs in the step: " + forwardsInStep);
        } else if (retained == 40) {
          assertTrue(
              forwardsInStep > 0 && forwardsInStep < 9,
              "forward runs in the step: " + forwardsInStep);
        } else {
          assertEquals(0, forwardsInStep, "forward runs in the step");
        }
        assertEquals(a.loss(), b.loss(), 1e-5 * Math.max(1, Math.abs(a.loss())));
        assertEquals(a.gradientNorm(), b.gradientNorm(), 1e-5 * a.gradientNorm());
        FloatBuffer ga = plain.lastGradient();
        FloatBuffer gb = reusing.lastGradient();
        for (int i = 0; i < ga.limit(); i++) {
          assertEquals(ga.get(i), gb.get(i), 1e-6 + 1e-5 * Math.abs(ga.get(i)), "element " + i);
        }
        FloatBuffer pa = plain.parameters(PolicyRole.POLICY);
        FloatBuffer pb = reusing.parameters(PolicyRole.POLICY);
        for (int i = 0; i < pa.limit(); i++) {
          assertEquals(pa.get(i), pb.get(i), 1e-6, "weight " + i);
        }
      }
    }
  }

  @Test
  void prepareStep_isForgottenByRestore_soTheNextStepRunsItsOwnForward() throws Exception {
    List<Generation> generations = TinyPolicies.randomGenerations(4, 64, 10, 31);
    List<WeightedSequence> batch = weighted(generations, -0.25);
    LearnerConfig config = config().optLearningRate(1e-2).build();
    try (OrtPolicyLearner plain = OrtPolicyLearner.create(fixture(17), config);
        OrtPolicyLearner reusing = OrtPolicyLearner.create(fixture(17), config)) {
      plain.step(batch);
      byte[] trained = snapshotOf(plain);
      // prepared under the initial weights, then the weights change under it
      reusing.prepareStep(generations);
      reusing.restore(new ByteArrayInputStream(trained));
      StepOutcome a = plain.step(batch);
      StepOutcome b = reusing.step(batch);

      assertEquals(a.loss(), b.loss(), 1e-6 * Math.max(1, Math.abs(a.loss())));
      assertEquals(a.gradientNorm(), b.gradientNorm(), 1e-6 * a.gradientNorm());
    }
  }

  // ------------------------------------------------------------------ training

  @ParameterizedTest(name = "opset {0}")
  @ValueSource(ints = {14, 17})
  void step_tenAdamWStepsWithWarmupAndClipping_matchPyTorchLossesAndNorms(int opset) {
    Map<String, Object> reference = TorchFixtures.trainingReference();
    List<?> betas = (List<?>) reference.get("betas");
    LearnerConfig cfg =
        config()
            .optLearningRate(number(reference, "learning_rate"))
            .optBetas(((Number) betas.get(0)).doubleValue(), ((Number) betas.get(1)).doubleValue())
            .optEpsilon(number(reference, "epsilon"))
            .optWeightDecay(number(reference, "weight_decay"))
            .optMaxGradientNorm(number(reference, "max_gradient_norm"))
            .optSchedule(LearningRateSchedule.constant((long) number(reference, "warmup_steps")))
            .build();
    List<WeightedSequence> batch = new ArrayList<>();
    int i = 0;
    for (Object item : (List<?>) reference.get("sequences")) {
      Map<?, ?> s = (Map<?, ?>) item;
      batch.add(
          new WeightedSequence(
              TinyPolicies.generation("s" + i++, ints(s.get("prompt")), ints(s.get("completion"))),
              ((Number) s.get("weight")).doubleValue()));
    }
    List<?> losses = (List<?>) reference.get("losses");
    List<?> norms = (List<?>) reference.get("gradient_norms");
    try (OrtPolicyLearner learner = OrtPolicyLearner.create(fixture(opset), cfg)) {
      for (int step = 0; step < losses.size(); step++) {
        StepOutcome outcome = learner.step(batch);
        double loss = ((Number) losses.get(step)).doubleValue();
        double norm = ((Number) norms.get(step)).doubleValue();
        assertEquals(loss, outcome.loss(), 1e-4 * Math.abs(loss), "loss of step " + (step + 1));
        assertEquals(
            norm, outcome.gradientNorm(), 1e-4 * norm, "gradient norm of step " + (step + 1));
      }
    }
  }

  private static double number(Map<String, Object> json, String key) {
    return ((Number) json.get(key)).doubleValue();
  }

  private static int[] ints(Object json) {
    return ((List<?>) json).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
  }

  @Test
  void step_sftOnSmallCorpus_drivesTheLossDown() {
    List<Generation> corpus = TinyPolicies.randomGenerations(8, 64, 10, 7);
    List<WeightedSequence> batch = weighted(corpus, -1.0 / corpus.size());
    List<Double> losses = new ArrayList<>();
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.create(fixture(17), config().optLearningRate(3e-3).build())) {
      for (int s = 1; s <= 30; s++) {
        StepOutcome outcome = learner.step(batch);
        assertEquals(s, outcome.step());
        assertEquals(3e-3, outcome.learningRate());
        losses.add(outcome.loss());
      }
    }
    double first =
        losses.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double last =
        losses.subList(25, 30).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    assertTrue(last < 0.7 * first, "mean loss of steps 1-5 " + first + ", of steps 26-30 " + last);
  }

  @Test
  void snapshot_restoredIntoFreshLearner_continuesBitForBit() throws Exception {
    List<Generation> corpus = TinyPolicies.randomGenerations(6, 64, 8, 9);
    List<WeightedSequence> first = weighted(corpus.subList(0, 3), -1);
    List<WeightedSequence> second = weighted(corpus.subList(3, 6), -0.5);
    LearnerConfig cfg = config().optLearningRate(1e-3).optWeightDecay(0.01).build();
    try (OrtPolicyLearner a = OrtPolicyLearner.create(fixture(17), cfg);
        OrtPolicyLearner b = OrtPolicyLearner.create(fixture(17), cfg)) {
      a.step(first);
      a.updateAnchor(0.3);
      a.step(second);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      a.snapshot(bytes);
      b.restore(new ByteArrayInputStream(bytes.toByteArray()));

      assertEquals(2, b.stepCount());
      for (int k = 0; k < 3; k++) {
        StepOutcome sa = a.step(first);
        StepOutcome sb = b.step(first);
        assertEquals(sa, sb);
        a.updateAnchor(0.1);
        b.updateAnchor(0.1);
      }
      for (PolicyRole role : PolicyRole.values()) {
        assertEquals(a.parameters(role), b.parameters(role), role.label());
      }
      assertArrayEquals(a.optimizer().firstMoment(), b.optimizer().firstMoment());
      assertArrayEquals(a.optimizer().secondMoment(), b.optimizer().secondMoment());
      ByteArrayOutputStream again = new ByteArrayOutputStream();
      b.snapshot(again);
      ByteArrayOutputStream reference = new ByteArrayOutputStream();
      a.snapshot(reference);
      assertArrayEquals(reference.toByteArray(), again.toByteArray());
    }
  }

  @Test
  void export_trainedPolicy_reloadsWithIdenticalLogProbsAndProvenance() throws Exception {
    List<Generation> corpus = TinyPolicies.randomGenerations(5, 64, 8, 13);
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.create(fixture(17), config().optLearningRate(1e-3).build())) {
      learner.step(weighted(corpus, -1));
      learner.step(weighted(corpus, -1));
      Path exported = dir.resolve("policy");
      learner.export(PolicyRole.POLICY, exported);
      Path reference = dir.resolve("reference.onnx");
      learner.export(PolicyRole.REFERENCE, reference);

      assertTrue(Files.isRegularFile(exported.resolve("model.onnx")));
      assertTrue(Files.size(exported.resolve("model.onnx.data")) > 100_000);
      ModelProto proto = ModelFiles.parse(exported.resolve("model.onnx"));
      Map<String, String> metadata = new HashMap<>();
      for (StringStringEntryProto e : proto.getMetadataPropsList()) {
        metadata.put(e.getKey(), e.getValue());
      }
      assertEquals("policy", metadata.get("jbond.role"));
      assertEquals("2", metadata.get("jbond.step"));
      assertEquals("gpt2_tiny_opset17.onnx", metadata.get("jbond.source_model"));
      assertEquals(64, metadata.get("jbond.source_sha256").length());
      assertEquals("16", metadata.get("context_length"));
      assertTrue(
          metadata.get("jbond.learner_config").startsWith("LearnerConfig[learningRate=0.001"));

      try (OrtPolicyLearner reloaded =
          OrtPolicyLearner.open(exported, config().optContextLength(0).build())) {
        assertEquals(16, reloaded.model().contextLength().orElseThrow());
        double[] trained = learner.logProbs(PolicyRole.POLICY, corpus);
        assertArrayEquals(trained, reloaded.logProbs(PolicyRole.REFERENCE, corpus), 0);
        assertNotEquals(
            trained[0], learner.logProbs(PolicyRole.REFERENCE, corpus)[0], "training moved");
      }
      // the untouched reference weights export to a model with the fixture's exact logits
      TorchFixtures.Reference ref = TorchFixtures.reference();
      Map<String, Tensor> feed =
          Map.of("input_ids", ref.inputIds(), "attention_mask", ref.attentionMask());
      try (OrtModelSession original =
              OrtSessions.open(TorchFixtures.model(17), TinyPolicies.SESSION);
          OrtModelSession copy = OrtSessions.open(reference, TinyPolicies.SESSION)) {
        assertArrayEquals(
            original.run(feed).get("logits").toFloatArray(),
            copy.run(feed).get("logits").toFloatArray());
      }
    }
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void logProbs_tokenOutsideVocabulary_failsNamingTokenPositionAndSequence() {
    try (OrtPolicyLearner learner = OrtPolicyLearner.create(fixture(17), config().build())) {
      List<Generation> generations =
          List.of(
              TinyPolicies.generation("p0", new int[] {1, 2}, new int[] {3}),
              TinyPolicies.generation("p1", new int[] {1, 2}, new int[] {3, 70}));

      assertEquals(
          "Expected token ids in [0, 64), found 70 at position 3 of sequence 1 (prompt 'p1')",
          assertThrows(
                  IllegalArgumentException.class,
                  () -> learner.logProbs(PolicyRole.POLICY, generations))
              .getMessage());
    }
  }

  @Test
  void step_emptyCompletionOrPromptOrTooLong_failsClearly() {
    try (OrtPolicyLearner learner = OrtPolicyLearner.create(fixture(17), config().build())) {
      assertEquals(
          "Expected at least one completion token in sequence 0 (prompt 'e'), found none",
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      learner.step(
                          List.of(
                              new WeightedSequence(
                                  TinyPolicies.generation("e", new int[] {1}, new int[0]), -1))))
              .getMessage());
      assertEquals(
          "Expected at least one prompt token to condition on in sequence 0 (prompt 'n'),"
              + " found none",
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      learner.logProbs(
                          PolicyRole.POLICY,
                          List.of(TinyPolicies.generation("n", new int[0], new int[] {1}))))
              .getMessage());
      int[] longCompletion = new int[17];
      assertEquals(
          "Expected at most 17 tokens (prompt + completion) for a context of 16 positions,"
              + " found 18 in sequence 0 (prompt 'long')",
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      learner.logProbs(
                          PolicyRole.ANCHOR,
                          List.of(TinyPolicies.generation("long", new int[] {1}, longCompletion))))
              .getMessage());
      assertEquals(0, learner.stepCount());
    }
  }

  @Test
  void close_twice_isIdempotentAndLaterUseFails() {
    OrtPolicyLearner learner = OrtPolicyLearner.create(fixture(17), config().build());
    learner.close();
    learner.close();

    assertEquals(
        "OrtPolicyLearner is closed",
        assertThrows(
                IllegalStateException.class,
                () ->
                    learner.logProbs(
                        PolicyRole.POLICY,
                        List.of(TinyPolicies.generation("p", new int[] {1}, new int[] {2}))))
            .getMessage());
  }

  // ------------------------------------------------------------------ divergence and snapshots
  // (bigram)

  private static OrtPolicyLearner bigram(int vocabulary, int nanRow, LearnerConfig config) {
    return OrtPolicyLearner.create(
        PolicyModel.of(TinyPolicies.bigram(vocabulary, 17, nanRow), "bigram"), config);
  }

  private static byte[] snapshotOf(OrtPolicyLearner learner) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    learner.snapshot(bytes);
    return bytes.toByteArray();
  }

  @Test
  void step_nanLoss_throwsNamingTheStepAndLeavesEverythingUnchanged() throws Exception {
    try (OrtPolicyLearner learner = bigram(8, 5, config().optLearningRate(0.1).build())) {
      WeightedSequence clean =
          new WeightedSequence(TinyPolicies.generation("c", new int[] {1, 2}, new int[] {3}), -1);
      learner.step(List.of(clean));
      byte[] before = snapshotOf(learner);
      WeightedSequence poisoned =
          new WeightedSequence(TinyPolicies.generation("x", new int[] {1, 5}, new int[] {3}), -1);

      TrainingDivergedException e =
          assertThrows(
              TrainingDivergedException.class, () -> learner.step(List.of(clean, poisoned)));

      assertEquals(
          "Training diverged at step 2: expected a finite loss, found NaN;"
              + " the parameters were not updated",
          e.getMessage());
      assertEquals(2, e.step());
      assertEquals(1, learner.stepCount());
      assertArrayEquals(before, snapshotOf(learner));
      assertEquals(2, learner.step(List.of(clean)).step());
    }
  }

  @Test
  void step_overflowingGradient_throwsOnTheGradientNorm() throws Exception {
    try (OrtPolicyLearner learner = bigram(8, -1, config().build())) {
      byte[] before = snapshotOf(learner);
      WeightedSequence huge =
          new WeightedSequence(
              TinyPolicies.generation("h", new int[] {1}, new int[] {2, 2, 2, 2}), -3e38);

      TrainingDivergedException e =
          assertThrows(TrainingDivergedException.class, () -> learner.step(List.of(huge)));

      assertTrue(
          e.getMessage()
              .startsWith("Training diverged at step 1: expected a finite gradient norm, found"),
          e.getMessage());
      assertArrayEquals(before, snapshotOf(learner));
    }
  }

  @Test
  void step_clipping_scalesTheGradientByMaxNormOverNorm() {
    double max = 1e-2;
    List<List<WeightedSequence>> batches =
        List.of(
            List.of(
                new WeightedSequence(
                    TinyPolicies.generation("a", new int[] {1, 2}, new int[] {3, 4}), -1)),
            List.of(
                new WeightedSequence(
                    TinyPolicies.generation("b", new int[] {4}, new int[] {1, 6, 7}), -2)));
    try (OrtPolicyLearner learner =
        bigram(8, -1, config().optLearningRate(0.05).optMaxGradientNorm(max).build())) {
      FloatBuffer start = learner.parameters(PolicyRole.POLICY);
      FloatBuffer expected = FloatBuffer.allocate(start.limit()).put(start).flip();
      AdamW manual = learner.optimizer().copy();
      for (List<WeightedSequence> batch : batches) {
        StepOutcome outcome = learner.step(batch);
        FloatBuffer grad = learner.lastGradient();
        double norm = Math.sqrt(FlatBuffers.sumOfSquares(grad, grad.limit()));
        assertEquals(norm, outcome.gradientNorm(), 0);
        assertTrue(norm > max, "the test needs clipping: norm " + norm);
        manual.step(expected, grad, 0.05, max / (norm + 1e-6));
      }

      assertEquals(expected.rewind(), learner.parameters(PolicyRole.POLICY));
    }
  }

  @Test
  void restore_snapshotOfAnotherModel_failsNamingParameterAndShapesAndKeepsState()
      throws Exception {
    try (OrtPolicyLearner small = bigram(8, -1, config().build());
        OrtPolicyLearner large = bigram(10, -1, config().build())) {
      byte[] before = snapshotOf(large);

      IOException e =
          assertThrows(
              IOException.class, () -> large.restore(new ByteArrayInputStream(snapshotOf(small))));

      assertEquals("Expected parameter 'table' of shape [10, 10], found [8, 8]", e.getMessage());
      assertArrayEquals(before, snapshotOf(large));
    }
  }

  @Test
  void restore_truncatedCorruptOrForeignData_failsClearlyAndKeepsState() throws Exception {
    try (OrtPolicyLearner learner = bigram(8, -1, config().optLearningRate(0.1).build())) {
      learner.step(
          List.of(
              new WeightedSequence(
                  TinyPolicies.generation("a", new int[] {1}, new int[] {2}), -1)));
      byte[] good = snapshotOf(learner);
      byte[] truncated = Arrays.copyOf(good, good.length - 20);
      byte[] corrupt = good.clone();
      corrupt[good.length - 100] ^= 1;
      byte[] foreign = "not a snapshot at all".getBytes(StandardCharsets.UTF_8);

      assertEquals(
          "Expected a complete learner snapshot, found the end of the data in its optimizer state",
          assertThrows(
                  IOException.class, () -> learner.restore(new ByteArrayInputStream(truncated)))
              .getMessage());
      assertTrue(
          assertThrows(IOException.class, () -> learner.restore(new ByteArrayInputStream(corrupt)))
              .getMessage()
              .startsWith("Expected snapshot checksum "));
      assertEquals(
          "Expected a jbond learner snapshot starting with 'JBONDLRN', found bytes"
              + " [110, 111, 116, 32, 97, 32, 115, 110]",
          assertThrows(IOException.class, () -> learner.restore(new ByteArrayInputStream(foreign)))
              .getMessage());
      assertArrayEquals(good, snapshotOf(learner));
      assertEquals(1, learner.stepCount());
    }
  }
}
