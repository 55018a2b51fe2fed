package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reward.triton-model}: a run that scores over Triton (the embedded server serving the demo
 * reward under that name, {@code ModelInfer} through the run's client) trains exactly as the run
 * that scores in process.
 */
class RewardOverTritonTest {
  @TempDir Path dir;

  @SuppressWarnings("unchecked")
  private Path config(String name, String tritonModel) throws Exception {
    Map<String, Object> tree =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.get().resolve("models/demo"), 3, 4));
    ((Map<String, Object>) tree.get("prompts")).put("batch-size", 8);
    ((Map<String, Object>) tree.get("sampling")).put("max-new-tokens", 24);
    ((Map<String, Object>) tree.get("run")).put("eval-every", 0);
    if (tritonModel != null) {
      ((Map<String, Object>) tree.get("reward")).put("triton-model", tritonModel);
    }
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, new org.yaml.snakeyaml.Yaml().dump(tree));
    return file;
  }

  private static String run(Path config, Path out) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code =
        BondCommand.execute(
            new String[] {"run", "--config", config.toString(), "--out", out.toString()},
            new PrintWriter(o, true),
            new PrintWriter(e, true));
    assertEquals(0, code, e.toString());
    return o.toString();
  }

  @Test
  void rewardOverTriton_trainsAsTheRewardInProcess() throws Exception {
    run(config("local", null), dir.resolve("local"));
    run(config("served", "demo-reward"), dir.resolve("served"));
    assertTrue(
        Files.isRegularFile(dir.resolve("served/serving/demo-reward/1/model.onnx")),
        "the embedded server's repository holds the served reward");
    List<StepMetrics> local = JsonLinesMetricsReader.read(dir.resolve("local/metrics.jsonl"));
    List<StepMetrics> served = JsonLinesMetricsReader.read(dir.resolve("served/metrics.jsonl"));
    assertEquals(3, served.size());
    for (int i = 0; i < local.size(); i++) {
      StepMetrics a = local.get(i);
      StepMetrics b = served.get(i);
      assertEquals(a.rewardMean(), b.rewardMean(), 1e-6, "rewardMean of step " + a.step());
      assertEquals(a.anchorRewardMean(), b.anchorRewardMean(), 1e-6, "step " + a.step());
      assertEquals(a.winRate(), b.winRate(), 1e-12, "winRate of step " + a.step());
      assertEquals(a.completionLength(), b.completionLength(), 1e-12, "step " + a.step());
      assertEquals(a.loss(), b.loss(), 1e-5, "loss of step " + a.step());
    }
  }
}
