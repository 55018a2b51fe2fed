package dev.jbond.tests;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helper: small run configurations over the demo assets, and a run's JSON lines. */
final class RunFiles {
  private RunFiles() {}

  /**
   * A small J-BOND run on the demo assets: 4 prompts per step, short completions, a checkpoint
   * every 2 steps; {@code extra} is appended (YAML) and may override whole sections.
   */
  static Path config(Path dir, String name, int steps, String extra) throws IOException {
    Path demo = RepositoryRoot.demo();
    String yaml =
        "policy: {model: "
            + demo.resolve("policy/1")
            + "}\n"
            + "reward: {model: "
            + demo.resolve("reward")
            + ", threads: 1}\n"
            + "prompts: {file: "
            + demo.resolve("prompts.jsonl")
            + ", batch-size: 4, held-out: 0.2}\n"
            + "sampling: {max-new-tokens: 20}\n"
            + "optimizer: {learning-rate: 0.001, warmup-steps: 2, threads: 1}\n"
            + "eval: {samples-per-prompt: 2, reference-samples: 8, max-prompts: 4}\n"
            + extra;
    if (!extra.contains("run:")) {
      yaml += "\nrun: {steps: " + steps + ", seed: 3, checkpoint-every: 2, eval-every: 4}\n";
    }
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    return file;
  }

  /**
   * Removes what the serving side's float rounding decides (the dynamic batcher groups requests
   * differently from run to run): {@code samplerLogProbError} in the extras, a difference of about
   * 1e-5 nats whose last digits vary while the samples themselves are identical.
   */
  @SuppressWarnings("unchecked")
  static void removeServingNoise(Map<String, Object> metricsLine) {
    Object extras = metricsLine.get("extras");
    if (extras instanceof Map<?, ?> map) {
      Map<String, Object> copy = new java.util.LinkedHashMap<>((Map<String, Object>) map);
      copy.remove("samplerLogProbError");
      metricsLine.put("extras", copy);
    }
  }

  /** The lines of a JSON-lines file as maps, without their {@code timings}. */
  static List<Map<String, Object>> linesWithoutTimings(Path file) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>(Json.parseObject(line));
      m.remove("timings");
      removeServingNoise(m);
      out.add(m);
    }
    return out;
  }

  static int lineCount(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8).size() : 0;
    } catch (IOException e) {
      return 0;
    }
  }
}
