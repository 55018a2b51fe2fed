package dev.jbond.models.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.onnx.train.ParameterSpec;
import dev.jbond.onnx.train.PolicyModel;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bring-your-own-model fixtures ({@code fixtures/byom}, written by our own PyTorch scripts): a
 * Llama-style decoder (RMSNorm, rotary embeddings from an {@code inv_freq} buffer, SwiGLU,
 * grouped-query attention, no biases) and a GPT-2-style one (tied embeddings), each exported
 * full-sequence and with past key/values, with torch's logits, log-probs and (Llama) AdamW losses.
 */
class ByomFixturesTest {
  private static final ModelVersion FIXTURE = new ModelVersion("fixture", 0);

  static Path fixture(String name) {
    try {
      return Path.of(ByomFixturesTest.class.getResource("/fixtures/byom/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> references(String name) throws IOException {
    return Json.parseObject(
        Files.readString(fixture(name).resolve("references.json"), StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void load_fullGraph_trainsExactlyTorchsParametersOnce(String name) throws IOException {
    Map<String, Object> parameters =
        (Map<String, Object>)
            ((Map<String, Object>)
                    ((Map<String, Object>) references(name).get("parameters")).get("model.onnx"))
                .get("parameters");
    // one ONNX tensor per torch parameter: a tied copy (GPT-2's transposed output embedding) is
    // trained through the tensor it copies
    Map<String, String> expected = new LinkedHashMap<>();
    for (Map.Entry<String, Object> p : parameters.entrySet()) {
      String torch = (String) ((Map<String, Object>) p.getValue()).get("torch");
      expected.putIfAbsent(torch, p.getKey());
    }

    PolicyModel model = PolicyModel.load(fixture(name).resolve("model.onnx"));

    assertEquals(
        new TreeSet<>(expected.values()),
        new TreeSet<>(model.parameters().stream().map(ParameterSpec::name).toList()));
    assertEquals(parameters.size() - expected.size(), model.ties().size(), model.ties().toString());
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void run_fullGraph_logitsEqualTorchs(String name) throws IOException {
    Map<String, Object> full = (Map<String, Object>) references(name).get("full");
    long[][] ids = longs2(full.get("input_ids"));
    Map<String, Tensor> feed = new LinkedHashMap<>();
    long[] shape = {ids.length, ids[0].length};
    feed.put("input_ids", Tensor.longs(shape, flat(ids)));
    feed.put("attention_mask", Tensor.longs(shape, flat(longs2(full.get("attention_mask")))));
    feed.put("position_ids", Tensor.longs(shape, flat(longs2(full.get("position_ids")))));
    float[] expected = floats(full.get("logits"));
    try (OrtModelSession session =
        OrtSessions.open(fixture(name).resolve("model.onnx"), SessionConfig.defaults())) {
      float[] logits = session.run(feed, List.of("logits")).get("logits").toFloatArray();

      assertEquals(expected.length, logits.length);
      double max = 0;
      for (int i = 0; i < logits.length; i++) {
        max = Math.max(max, Math.abs(logits[i] - expected[i]));
      }
      assertTrue(max < 1e-4, "largest logit difference " + max);
    }
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void logProbs_completions_equalTorchs(String name) throws IOException {
    List<Object> cases = (List<Object>) references(name).get("completion_log_probs");
    List<Generation> generations = new ArrayList<>();
    List<Double> expected = new ArrayList<>();
    for (Object c : cases) {
      Map<String, Object> m = (Map<String, Object>) c;
      generations.add(
          Generation.of(
              new Prompt("p" + generations.size(), TokenSequence.of(ints(m.get("prompt_ids")))),
              TokenSequence.of(ints(m.get("completion_ids"))),
              FIXTURE));
      double sum = 0;
      for (Object v : (List<Object>) m.get("log_probs")) {
        sum += ((Number) v).doubleValue();
      }
      expected.add(sum);
    }
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.open(fixture(name).resolve("model.onnx"), LearnerConfig.defaults())) {
      double[] found = learner.logProbs(PolicyRole.POLICY, generations);
      for (int i = 0; i < found.length; i++) {
        assertEquals(expected.get(i), found[i], 1e-4, "completion " + i);
      }
    }
  }

  @SuppressWarnings("unchecked")
  @Test
  void step_llama_threeAdamWStepsMatchPyTorchLossesAndNorms() throws IOException {
    Map<String, Object> t = (Map<String, Object>) references("llama").get("training");
    List<Object> betas = (List<Object>) t.get("betas");
    LearnerConfig config =
        LearnerConfig.builder()
            .optLearningRate(((Number) t.get("learning_rate")).doubleValue())
            .optBetas(((Number) betas.get(0)).doubleValue(), ((Number) betas.get(1)).doubleValue())
            .optEpsilon(((Number) t.get("epsilon")).doubleValue())
            .optWeightDecay(((Number) t.get("weight_decay")).doubleValue())
            .optMaxGradientNorm(0)
            .optSchedule(LearningRateSchedule.constant(0))
            .build();
    long[][] ids = longs2(t.get("input_ids"));
    long[][] mask = longs2(t.get("attention_mask"));
    int tokens = 0;
    List<int[]> rows = new ArrayList<>();
    for (int b = 0; b < ids.length; b++) {
      int n = 0;
      while (n < mask[b].length && mask[b][n] == 1) {
        n++;
      }
      int[] row = new int[n];
      for (int i = 0; i < n; i++) {
        row[i] = (int) ids[b][i];
      }
      rows.add(row);
      tokens += n - 1;
    }
    // the learner minimises sum_i w_i log pi(completion_i): w = -1/tokens gives torch's mean NLL
    List<WeightedSequence> batch = new ArrayList<>();
    for (int[] row : rows) {
      batch.add(
          new WeightedSequence(
              Generation.of(
                  new Prompt("r" + batch.size(), TokenSequence.of(row[0])),
                  TokenSequence.of(java.util.Arrays.copyOfRange(row, 1, row.length)),
                  FIXTURE),
              -1.0 / tokens));
    }
    List<Object> losses = (List<Object>) t.get("losses");
    List<Object> norms = (List<Object>) t.get("gradient_norms");
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.open(fixture("llama").resolve("model.onnx"), config)) {
      for (int step = 0; step < losses.size(); step++) {
        StepOutcome outcome = learner.step(batch);
        double loss = ((Number) losses.get(step)).doubleValue();
        double norm = ((Number) norms.get(step)).doubleValue();
        assertEquals(loss, outcome.loss(), 1e-4 * Math.abs(loss), "loss of step " + (step + 1));
        assertEquals(norm, outcome.gradientNorm(), 1e-4 * norm, "norm of step " + (step + 1));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void publish_afterTrainingSteps_pastGraphLogProbsEqualLearners(String name) throws IOException {
    ExportDirectory export = ExportDirectory.open(fixture(name));
    SamplingConfig sampling =
        SamplingConfig.builder().setMaxNewTokens(12).optSpecialTokens(export).build();
    List<Prompt> prompts =
        List.of(
            new Prompt("a", TokenSequence.of(1, 50, 60)),
            new Prompt("b", TokenSequence.of(100)),
            new Prompt("c", TokenSequence.of(7, 300, 301, 302, 303, 9)));
    try (OrtPolicyLearner learner =
            OrtPolicyLearner.open(
                export.fullGraph(), LearnerConfig.builder().optLearningRate(1e-2).build());
        DirectSampler sampler = DirectSampler.builder(export, sampling).build()) {
      WeightMapping mapping = export.mapping(learner.weights(PolicyRole.POLICY).keySet());
      assertTrue(mapping.entries().stream().allMatch(e -> e.trained() || !e.target().isEmpty()));
      for (int step = 1; step <= 2; step++) {
        List<Generation> sampled = sampler.sample(prompts, 3, PolicyRole.POLICY, step);
        double[] learnerLogProbs = learner.logProbs(PolicyRole.POLICY, sampled);
        for (int i = 0; i < sampled.size(); i++) {
          assertEquals(
              learnerLogProbs[i],
              sampled.get(i).engineLogProbs().orElseThrow().sum(),
              1e-4,
              "sample " + i + " after " + (step - 1) + " steps");
        }
        List<WeightedSequence> batch = new ArrayList<>();
        for (Generation g : sampled) {
          batch.add(new WeightedSequence(g, 1.0));
        }
        learner.step(batch);
        new LearnerPublisher(sampler).publish(learner, PolicyRole.POLICY, step);
      }
    }
  }

  private static long[][] longs2(Object rows) {
    List<?> list = (List<?>) rows;
    long[][] out = new long[list.size()][];
    for (int i = 0; i < out.length; i++) {
      List<?> row = (List<?>) list.get(i);
      out[i] = new long[row.size()];
      for (int j = 0; j < row.size(); j++) {
        out[i][j] = ((Number) row.get(j)).longValue();
      }
    }
    return out;
  }

  private static long[] flat(long[][] rows) {
    long[] out = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
    }
    return out;
  }

  private static int[] ints(Object values) {
    List<?> list = (List<?>) values;
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) list.get(i)).intValue();
    }
    return out;
  }

  private static float[] floats(Object values) {
    List<?> list = (List<?>) values;
    float[] out = new float[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) list.get(i)).floatValue();
    }
    return out;
  }
}
