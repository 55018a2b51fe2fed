package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bond run} on a policy exported from PyTorch (onnx-training's tiny GPT-2: a full-sequence
 * export and a past-key/values export whose weights are named {@code model.*}) over the embedded
 * Triton-protocol server: the tool derives and prints the weight mapping, trains, publishes into
 * the past-key/values graph and evaluates.
 */
class ExportPolicyRunTest {
  @TempDir Path dir;

  private Path export(boolean withPast) throws Exception {
    Path fixtures = RepositoryRoot.get().resolve("onnx-training/src/test/resources/fixtures");
    Path policy = Files.createDirectories(dir.resolve("policy"));
    Files.copy(fixtures.resolve("gpt2_tiny_opset17.onnx"), policy.resolve("model.onnx"));
    if (withPast) {
      Files.copy(
          fixtures.resolve("gpt2_tiny_decode_opset17.onnx"),
          policy.resolve("model_with_past.onnx"));
    }
    Files.writeString(
        policy.resolve("config.json"),
        "{\"model_type\": \"gpt2\", \"vocab_size\": 64, \"n_positions\": 16, \"eos_token_id\": 5}");
    return policy;
  }

  private String[] config(Path policy) throws Exception {
    StringBuilder prompts = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      prompts.append(
          String.format(
              "{\"id\": \"p%d\", \"prompt\": [%d, %d, %d]}%n", i, 10 + i, 20 + i % 7, 30 + i % 5));
    }
    return DemoRunConfig.write(
        dir,
        3,
        prompts.toString(),
        tree -> {
          DemoRunConfig.section(tree, "policy").put("model", policy.toString());
          DemoRunConfig.section(tree, "prompts").put("batch-size", 4);
          DemoRunConfig.section(tree, "prompts").put("held-out", 0.25);
          DemoRunConfig.section(tree, "sampling").put("max-new-tokens", 8);
          DemoRunConfig.section(tree, "run").put("eval-every", 2);
          DemoRunConfig.section(tree, "eval").put("reference-samples", 4);
          DemoRunConfig.section(tree, "eval").put("samples-per-prompt", 2);
        });
  }

  @Test
  void run_exportWithPastGraph_mapsTrainsPublishesAndEvaluates() throws Exception {
    DemoRunConfig.Result result = DemoRunConfig.run(config(export(true)));
    String err = result.err();

    assertEquals(0, result.code(), err);
    assertTrue(
        err.contains("Weight mapping model.onnx -> model_with_past.onnx (28 of 28 weights named"),
        err);
    assertTrue(err.contains("model.wte.weight <- wte.weight"), err);
    assertEquals(3, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
    List<String> samples = Files.readAllLines(dir.resolve("run/samples.jsonl"));
    // evaluations at steps 0, 2 and 3: 3 held-out prompts x 2 samples each
    assertEquals(18, samples.size());
    Map<String, Object> first = Json.parseObject(samples.get(0));
    assertEquals(0L, first.get("step"));
    assertTrue(first.containsKey("completion") && first.containsKey("reward"), samples.get(0));
  }

  @Test
  void run_exportWithoutPastGraph_saysWhatRecomputingCosts() throws Exception {
    DemoRunConfig.Result result = DemoRunConfig.run(config(export(false)));
    String err = result.err();

    assertEquals(0, result.code(), err);
    assertTrue(err.contains("has no past-key/values graph"), err);
    assertEquals(3, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
  }
}
