package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.metrics.JsonLinesMetricsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond run} with text prompts: the policy's tokenizer encodes them. */
class TextPromptsRunTest {
  @TempDir Path dir;

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
    String[] args =
        DemoRunConfig.write(
            dir,
            2,
            prompts.toString(),
            tree -> {
              DemoRunConfig.section(tree, "prompts").put("batch-size", 4);
              DemoRunConfig.section(tree, "sampling").put("max-new-tokens", 16);
              DemoRunConfig.section(tree, "run").put("eval-every", 0);
            });
    DemoRunConfig.Result result = DemoRunConfig.run(args);
    assertEquals(0, result.code(), result.err());
    assertEquals(2, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
  }
}
