package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The learner on a LoRA-adapted policy (in this package for the learner's test hooks): its
 * gradients are those of the merged model pushed through the adapter parametrisation, it trains the
 * adapters only, and a fresh adapter is the base model.
 */
class LoraLearnerTest {
  private static final ModelVersion V0 = new ModelVersion("fixture", 0);

  static PolicyModel base(String name) throws IOException {
    if (name.equals("decoder")) {
      DecoderConfig config =
          DecoderConfig.builder()
              .setVocabSize(19)
              .setContextLength(16)
              .setLayers(2)
              .setWidth(12)
              .setHeads(2)
              .setSeed(5)
              .build();
      return PolicyModel.of(
          DecoderBuilder.fullGraph(DecoderWeights.initialize(config)), "tiny decoder");
    }
    try {
      return PolicyModel.load(
          Path.of(
              LoraLearnerTest.class.getResource("/fixtures/byom/" + name + "/model.onnx").toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static EnumSet<LoraModule> modules(String name) {
    return name.equals("llama")
        ? EnumSet.of(
            LoraModule.ATTN_Q,
            LoraModule.ATTN_K,
            LoraModule.ATTN_V,
            LoraModule.ATTN_DENSE,
            LoraModule.MLP_H_TO_4H,
            LoraModule.MLP_GATE,
            LoraModule.MLP_4H_TO_H)
        : EnumSet.of(
            LoraModule.ATTN_QKV,
            LoraModule.ATTN_Q,
            LoraModule.ATTN_K,
            LoraModule.ATTN_V,
            LoraModule.ATTN_DENSE,
            LoraModule.MLP_H_TO_4H,
            LoraModule.MLP_4H_TO_H);
  }

  /** The adapted model with random A and B (B = 0 would make A's gradient 0). */
  static PolicyModel withRandomAdapters(LoraPolicy lora, long seed) {
    Graph graph = lora.model().graph();
    SplittableRandom random = new SplittableRandom(seed);
    List<String> names = new ArrayList<>();
    for (LoraTarget t : lora.targets()) {
      for (String name : List.of(t.aName(), t.bName())) {
        Tensor old = graph.initializer(name).orElseThrow();
        float[] values = new float[(int) old.elementCount()];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) random.nextDouble(-0.3, 0.3);
        }
        graph.replaceInitializer(name, Tensor.floats(old.shape(), values));
        names.add(name);
      }
    }
    return lora.model()
        .withTrainable(
            graph,
            lora.model().name(),
            names,
            lora.model().frozenInputs().stream().map(ParameterSpec::name).toList());
  }

  static List<WeightedSequence> batch(int vocabulary, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<WeightedSequence> out = new ArrayList<>();
    for (int s = 0; s < 4; s++) {
      int[] prompt = new int[1 + s % 3];
      int[] completion = new int[3 + s];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = random.nextInt(vocabulary);
      }
      for (int i = 0; i < completion.length; i++) {
        completion[i] = random.nextInt(vocabulary);
      }
      out.add(
          new WeightedSequence(
              Generation.of(
                  new Prompt("p" + s, TokenSequence.of(prompt)), TokenSequence.of(completion), V0),
              random.nextDouble(-1, 1)));
    }
    return out;
  }

  static LearnerConfig config() {
    return LearnerConfig.builder().optLearningRate(1e-3).optMaxGradientNorm(0).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"decoder", "llama", "gpt2"})
  void step_gradients_equalMergedModelsGradientsThroughTheAdapters(String name) throws IOException {
    PolicyModel base = base(name);
    LoraPolicy lora = LoraPolicy.create(base, new LoraSpec(3, 6.0, modules(name), 11));
    PolicyModel adapted = withRandomAdapters(lora, 23);
    Map<String, Tensor> adapters = adapted.graph().initializers();
    Map<String, Tensor> merged = lora.merged(adapters);
    Graph mergedGraph = base.graph();
    for (Map.Entry<String, Tensor> e : merged.entrySet()) {
      mergedGraph.replaceInitializer(e.getKey(), e.getValue());
    }
    List<String> baseNames = base.parameters().stream().map(ParameterSpec::name).toList();
    PolicyModel full = base.withTrainable(mergedGraph, "merged", baseNames);
    List<WeightedSequence> batch = batch(base.vocabularySize(), 31);

    float[] loraGradient;
    double loraLoss;
    Map<String, float[]> fullGradient = new LinkedHashMap<>();
    double fullLoss;
    try (OrtPolicyLearner learner = OrtPolicyLearner.create(adapted, config())) {
      assertEquals(2 * lora.targets().size(), learner.model().parameters().size());
      loraLoss = learner.step(batch).loss();
      loraGradient = array(learner.lastGradient());
    }
    try (OrtPolicyLearner learner = OrtPolicyLearner.create(full, config())) {
      fullLoss = learner.step(batch).loss();
      float[] all = array(learner.lastGradient());
      int offset = 0;
      for (ParameterSpec p : full.parameters()) {
        int n = (int) p.elementCount();
        float[] g = new float[n];
        System.arraycopy(all, offset, g, 0, n);
        fullGradient.put(p.name(), g);
        offset += n;
      }
    }
    assertEquals(fullLoss, loraLoss, 1e-5 * (1 + Math.abs(fullLoss)), "loss");
    // dL/dA[k,i] = s sum_o B[o,k] G[i,o];  dL/dB[o,k] = s sum_i G[i,o] A[k,i]
    double s = lora.spec().scale();
    int r = lora.spec().rank();
    int offset = 0;
    double worst = 0;
    for (LoraTarget t : lora.targets()) {
      float[] a = adapters.get(t.aName()).toFloatArray();
      float[] b = adapters.get(t.bName()).toFloatArray();
      float[] g = fullGradient.get(t.weight());
      double[] expectA = new double[r * t.in()];
      double[] expectB = new double[t.out() * r];
      for (int i = 0; i < t.in(); i++) {
        for (int o = 0; o < t.out(); o++) {
          int index =
              t.transposed() ? (t.offset() + o) * t.in() + i : i * t.width() + t.offset() + o;
          for (int k = 0; k < r; k++) {
            expectA[k * t.in() + i] += s * b[o * r + k] * g[index];
            expectB[o * r + k] += s * g[index] * a[k * t.in() + i];
          }
        }
      }
      double scaleOf = 0;
      for (double v : expectA) {
        scaleOf = Math.max(scaleOf, Math.abs(v));
      }
      for (double v : expectB) {
        scaleOf = Math.max(scaleOf, Math.abs(v));
      }
      for (double[] expect : List.of(expectA, expectB)) {
        for (int i = 0; i < expect.length; i++) {
          double error = Math.abs(loraGradient[offset + i] - expect[i]) / (1e-3 + scaleOf);
          worst = Math.max(worst, error);
          assertTrue(
              error < 1e-4,
              t.key() + " element " + i + ": " + loraGradient[offset + i] + " vs " + expect[i]);
        }
        offset += expect.length;
      }
    }
    assertEquals(loraGradient.length, offset);
    System.out.printf("LoRA vs merged gradients on %s: worst relative error %.2e%n", name, worst);
  }

  @ParameterizedTest
  @ValueSource(strings = {"decoder", "llama"})
  void freshAdapters_areTheBaseModel_andOnlyAdaptersMove(String name) throws IOException {
    PolicyModel base = base(name);
    LoraPolicy lora = LoraPolicy.create(base, new LoraSpec(4, 8.0, modules(name), 3));
    List<WeightedSequence> batch = batch(base.vocabularySize(), 7);
    List<Generation> generations = batch.stream().map(WeightedSequence::generation).toList();
    try (OrtPolicyLearner adapted = OrtPolicyLearner.create(lora.model(), config());
        OrtPolicyLearner plain = OrtPolicyLearner.create(base, config())) {
      assertArrayEquals(
          plain.logProbs(PolicyRole.POLICY, generations),
          adapted.logProbs(PolicyRole.POLICY, generations));
      Map<String, Tensor> initial = adapted.weights(PolicyRole.POLICY);
      for (int step = 0; step < 3; step++) {
        adapted.step(batch);
      }
      adapted.updateAnchor(0.5);
      // the reference (the fresh adapters) is still the base model; the policy moved
      assertArrayEquals(
          plain.logProbs(PolicyRole.POLICY, generations),
          adapted.logProbs(PolicyRole.REFERENCE, generations));
      Map<String, Tensor> trained = adapted.weights(PolicyRole.POLICY);
      assertEquals(initial.keySet(), trained.keySet());
      assertTrue(
          !trained
              .get(lora.targets().get(0).bName())
              .equals(initial.get(lora.targets().get(0).bName())),
          "B moved");
      // the merged weights give the adapted model's log-probabilities
      Graph mergedGraph = base.graph();
      lora.merged(trained).forEach(mergedGraph::replaceInitializer);
      PolicyModel merged =
          base.withTrainable(
              mergedGraph, "merged", base.parameters().stream().map(ParameterSpec::name).toList());
      try (OrtPolicyLearner check = OrtPolicyLearner.create(merged, config())) {
        double[] expected = check.logProbs(PolicyRole.POLICY, generations);
        double[] actual = adapted.logProbs(PolicyRole.POLICY, generations);
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "sequence " + i);
        }
      }
    }
  }

  private static float[] array(FloatBuffer buffer) {
    FloatBuffer b = buffer.duplicate();
    b.position(0);
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }
}
