package dev.jbond.models.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.testing.TorchFixtures;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ExportDirectory} over onnx-training's torch-exported tiny GPT-2 (V=64, C=16): the
 * full-sequence export and the past-key/values export, whose weights are named {@code model.*} in
 * the second (the export wrapper's attribute), so the mapping is derived from the values.
 */
class ExportDirectoryTest {
  private static final String FULL = "gpt2_tiny_opset17.onnx";
  private static final String PAST = "gpt2_tiny_decode_opset17.onnx";

  @TempDir Path dir;

  private Path export(boolean withPast) throws IOException {
    copy(FULL, dir.resolve("model.onnx"));
    if (withPast) {
      copy(PAST, dir.resolve("model_with_past.onnx"));
    }
    Files.writeString(
        dir.resolve("config.json"),
        "{\"model_type\": \"gpt2\", \"vocab_size\": 64, \"n_positions\": 16,"
            + " \"eos_token_id\": [5, 6], \"pad_token_id\": null}");
    return dir;
  }

  private static void copy(String resource, Path target) throws IOException {
    try (InputStream in = TorchFixtures.class.getResourceAsStream("/fixtures/" + resource)) {
      Files.copy(in, target);
    }
  }

  @Test
  void open_export_readsSizesAndTokensFromConfig() throws IOException {
    PolicyFiles files = PolicyFiles.open(export(true));

    ExportDirectory export = assertInstanceOf(ExportDirectory.class, files);
    assertEquals(64, export.vocabSize());
    assertEquals(16, export.contextLength());
    assertEquals(5, export.eosTokenId().getAsInt());
    assertTrue(export.padTokenId().isEmpty());
    assertTrue(export.cachedSampling());
    assertEquals(dir.resolve("model_with_past.onnx"), export.samplingGraph());
    assertEquals(dir.resolve("model.onnx"), export.fullGraph());
  }

  @Test
  void mapping_prefixedNames_matchedByValueAndDescribed() throws IOException {
    ExportDirectory export = ExportDirectory.open(export(true));
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.open(export.fullGraph(), LearnerConfig.defaults())) {
      WeightMapping mapping = export.mapping(learner.weights(PolicyRole.POLICY).keySet());

      assertEquals(learner.weights(PolicyRole.POLICY).size(), mapping.entries().size());
      assertTrue(mapping.describe().contains("model.wte.weight <- wte.weight"));
      for (WeightMapping.Entry e : mapping.entries()) {
        assertEquals("model." + e.source(), e.target());
        assertFalse(e.transposed());
      }
    }
  }

  @Test
  void publish_afterTrainingStep_samplerLogProbsEqualLearners() throws IOException {
    assertSamplerMatchesLearner(ExportDirectory.open(export(true)));
  }

  @Test
  void publish_withoutPastGraph_recomputingSamplerLogProbsEqualLearners() throws IOException {
    ExportDirectory export = ExportDirectory.open(export(false));

    assertFalse(export.cachedSampling());
    assertTrue(
        dev.jbond.models.generate.PolicySamplers.costNote(export, 8)
            .contains("no past-key/values"));
    assertSamplerMatchesLearner(export);
  }

  private static void assertSamplerMatchesLearner(ExportDirectory export) throws IOException {
    SamplingConfig sampling = SamplingConfig.builder().setMaxNewTokens(6).build();
    List<Prompt> prompts =
        List.of(
            new Prompt("a", TokenSequence.of(1, 2, 3)),
            new Prompt("b", TokenSequence.of(7)),
            new Prompt("c", TokenSequence.of(9, 8, 7, 6, 5)));
    try (OrtPolicyLearner learner =
            OrtPolicyLearner.open(
                export.fullGraph(), LearnerConfig.builder().optLearningRate(5e-2).build());
        DirectSampler sampler =
            DirectSampler.builder(export, sampling)
                .optSessionConfig(SessionConfig.defaults())
                .build()) {
      List<Generation> before = sampler.sample(prompts, 2, PolicyRole.POLICY, 11);
      assertClose(learner.logProbs(PolicyRole.POLICY, before), before);

      List<WeightedSequence> batch = new ArrayList<>();
      for (Generation g : before) {
        batch.add(new WeightedSequence(g, 1.0));
      }
      learner.step(batch);
      learner.step(batch);
      new LearnerPublisher(sampler).publish(learner, PolicyRole.POLICY, 1);

      List<Generation> after = sampler.sample(prompts, 2, PolicyRole.POLICY, 12);
      double[] trained = learner.logProbs(PolicyRole.POLICY, after);
      assertClose(trained, after);
      // the step moved the policy: the published sampler does not sample from the initial one
      try (OrtPolicyLearner initial =
          OrtPolicyLearner.open(export.fullGraph(), LearnerConfig.defaults())) {
        double[] old = initial.logProbs(PolicyRole.POLICY, after);
        double moved = 0;
        for (int i = 0; i < old.length; i++) {
          moved = Math.max(moved, Math.abs(old[i] - trained[i]));
        }
        assertTrue(moved > 1e-2, "the step changed log-probs by only " + moved);
      }
    }
  }

  private static void assertClose(double[] learner, List<Generation> sampled) {
    for (int i = 0; i < learner.length; i++) {
      double engine = sampled.get(i).engineLogProbs().orElseThrow().sum();
      assertEquals(learner[i], engine, 1e-4, "sequence " + i);
    }
  }

  @Test
  void mapping_pastGraphOfOtherWeights_oneLineErrorNamesThem() throws IOException {
    export(true);
    Path past = dir.resolve("model_with_past.onnx");
    Graph graph = Graph.fromModel(ModelFiles.read(past));
    Tensor old = graph.initializer("model.h.1.mlp.c_fc.weight").orElseThrow();
    ByteBuffer data =
        ByteBuffer.allocate(old.byteSize()).order(ByteOrder.LITTLE_ENDIAN).put(old.toByteArray());
    data.putFloat(0, data.getFloat(0) + 0.5f);
    graph.replaceInitializer(
        "model.h.1.mlp.c_fc.weight", Tensor.of(ElementType.FLOAT, old.shape(), data.array()));
    graph.save(past);
    ExportDirectory export = ExportDirectory.open(dir);
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.open(export.fullGraph(), LearnerConfig.defaults())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> export.mapping(learner.weights(PolicyRole.POLICY).keySet()));

      assertEquals(
          "Expected every weight of 'model_with_past.onnx' to match a weight of 'model.onnx' by"
              + " shape and values, found no match for [model.h.1.mlp.c_fc.weight]",
          e.getMessage());
    }
  }

  @Test
  void open_graphWithoutLogits_oneLineError() throws IOException {
    Path file = export(false).resolve("model.onnx");
    Graph renamed = Graph.fromModel(ModelFiles.read(file));
    renamed.addOutput(renamed.op("Identity", renamed.value("logits")));
    renamed.removeOutput(renamed.value("logits"));
    renamed.save(file);

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> PolicyFiles.open(dir));

    assertTrue(
        e.getMessage().startsWith("Expected an output named 'logits' in " + file), e.getMessage());
  }

  @Test
  void open_emptyDirectory_namesBothGraphs() {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> PolicyFiles.open(dir));

    assertTrue(e.getMessage().contains("Expected model.onnx"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void writeServed_thenOpen_samplesTheWrittenWeights() throws IOException {
    ExportDirectory export = ExportDirectory.open(export(true));
    Path served = dir.resolve("served");
    try (OrtPolicyLearner learner =
        OrtPolicyLearner.open(export.fullGraph(), LearnerConfig.defaults())) {
      Map<String, Tensor> weights = learner.weights(PolicyRole.POLICY);
      export.writeServed(served, weights);
    }
    PolicyFiles copy = PolicyFiles.open(served);

    assertTrue(copy.cachedSampling());
    assertEquals(64, copy.vocabSize());
    assertThrows(ModelLoadException.class, copy::fullGraph);
  }
}
