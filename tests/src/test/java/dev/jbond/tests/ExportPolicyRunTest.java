package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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

  @SuppressWarnings("unchecked")
  private String[] config(Path policy) throws Exception {
    StringBuilder prompts = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      prompts.append(
          String.format(
              "{\"id\": \"p%d\", \"prompt\": [%d, %d, %d]}%n", i, 10 + i, 20 + i % 7, 30 + i % 5));
    }
    Path file = Files.writeString(dir.resolve("prompts.jsonl"), prompts, StandardCharsets.UTF_8);
    Map<String, Object> tree =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.get().resolve("models/demo"), 3, 1));
    ((Map<String, Object>) tree.get("policy")).put("model", policy.toString());
    ((Map<String, Object>) tree.get("prompts")).put("file", file.toString());
    ((Map<String, Object>) tree.get("prompts")).put("batch-size", 4);
    ((Map<String, Object>) tree.get("prompts")).put("held-out", 0.25);
    ((Map<String, Object>) tree.get("sampling")).put("max-new-tokens", 8);
    ((Map<String, Object>) tree.get("run")).put("eval-every", 2);
    ((Map<String, Object>) tree.get("eval")).put("reference-samples", 4);
    ((Map<String, Object>) tree.get("eval")).put("samples-per-prompt", 2);
    Path config = dir.resolve("run.yaml");
    Files.writeString(config, new org.yaml.snakeyaml.Yaml().dump(tree));
    return new String[] {
      "run", "--config", config.toString(), "--out", dir.resolve("run").toString()
    };
  }

  @Test
  void run_exportWithPastGraph_mapsTrainsPublishesAndEvaluates() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        BondCommand.execute(
            config(export(true)), new PrintWriter(out, true), new PrintWriter(err, true));

    assertEquals(0, code, err.toString());
    assertTrue(
        err.toString()
            .contains("Weight mapping model.onnx -> model_with_past.onnx (28 of 28 weights named"),
        err.toString());
    assertTrue(err.toString().contains("model.wte.weight <- wte.weight"), err.toString());
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
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        BondCommand.execute(
            config(export(false)), new PrintWriter(out, true), new PrintWriter(err, true));

    assertEquals(0, code, err.toString());
    assertTrue(err.toString().contains("has no past-key/values graph"), err.toString());
    assertEquals(3, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
  }
}
