package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond run} with text prompts: the policy's tokenizer encodes them. */
class TextPromptsRunTest {
  @TempDir Path dir;

  @SuppressWarnings("unchecked")
  @Test
  void textPrompts_areEncodedAndTrained() throws Exception {
    StringBuilder prompts = new StringBuilder();
    String[] openings = {
      "The soup was", "Our waiter", "The dessert", "I ordered the", "The service", "Café crème"
    };
    for (int i = 0; i < openings.length; i++) {
      prompts
          .append("{\"id\": \"t")
          .append(i)
          .append("\", \"prompt\": \"")
          .append(openings[i])
          .append("\"}\n");
    }
    Path file = Files.writeString(dir.resolve("prompts.jsonl"), prompts, StandardCharsets.UTF_8);
    Map<String, Object> tree =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.get().resolve("models/demo"), 2, 1));
    ((Map<String, Object>) tree.get("prompts")).put("file", file.toString());
    ((Map<String, Object>) tree.get("prompts")).put("batch-size", 4);
    ((Map<String, Object>) tree.get("sampling")).put("max-new-tokens", 16);
    ((Map<String, Object>) tree.get("run")).put("eval-every", 0);
    Path config = dir.resolve("run.yaml");
    Files.writeString(config, new org.yaml.snakeyaml.Yaml().dump(tree));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        BondCommand.execute(
            new String[] {
              "run", "--config", config.toString(), "--out", dir.resolve("run").toString()
            },
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    assertEquals(0, code, err.toString());
    assertEquals(2, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
  }
}
