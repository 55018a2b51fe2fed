package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input list for bring-your-own models: each is one line on stderr, naming what was
 * expected and what was found, and no stack trace.
 */
class ByomBadInputTest {
  private static final Path FIXTURES =
      RepositoryRoot.get().resolve("models/src/test/resources/fixtures/byom");

  @TempDir Path dir;

  private Path copy(String fixture) throws IOException {
    Path target = Files.createDirectories(dir.resolve(fixture));
    try (Stream<Path> files = Files.list(FIXTURES.resolve(fixture))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    return target;
  }

  /** Runs one step of {@code bond run}; returns stderr after checking it is one failing line. */
  private String runFails(Path policy, String prompts, Consumer<Map<String, Object>> reward)
      throws Exception {
    String[] args =
        DemoRunConfig.write(
            dir,
            1,
            prompts,
            tree -> {
              DemoRunConfig.section(tree, "policy").put("model", policy.toString());
              Map<String, Object> r = DemoRunConfig.section(tree, "reward");
              r.put("model", FIXTURES.resolve("reward-bert").toString());
              r.put("output", "logits");
              r.put("label", 1);
              reward.accept(r);
              DemoRunConfig.section(tree, "prompts").put("batch-size", 2);
              DemoRunConfig.section(tree, "sampling").put("max-new-tokens", 8);
              DemoRunConfig.section(tree, "run").put("eval-every", 0);
            });
    DemoRunConfig.Result result = DemoRunConfig.run(args);
    String text = result.err().strip();
    assertNotEquals(0, result.code(), text);
    assertEquals(1, text.lines().count(), text);
    assertFalse(text.contains("\tat "), text);
    return text;
  }

  private static final String TEXT_PROMPTS =
      "{\"id\": \"a\", \"prompt\": \"The soup was\"}\n{\"id\": \"b\", \"prompt\": \"The film\"}\n";

  @Test
  void policyWithoutLogits() throws Exception {
    Path policy = copy("llama");
    for (String name : new String[] {"model.onnx", "model_with_past.onnx"}) {
      Path file = policy.resolve(name);
      Graph graph = Graph.fromModel(ModelFiles.read(file));
      graph.addOutput(graph.op("Identity", graph.value("logits")));
      graph.removeOutput(graph.value("logits"));
      graph.save(file);
    }

    String err = runFails(policy, TEXT_PROMPTS, r -> {});

    assertTrue(err.contains("Expected an output named 'logits' in "), err);
  }

  @Test
  void pastGraphOfAnotherModel() throws Exception {
    Path policy = copy("llama");
    Files.copy(
        FIXTURES.resolve("gpt2/model_with_past.onnx"),
        policy.resolve("model_with_past.onnx"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    String err = runFails(policy, TEXT_PROMPTS, r -> {});

    assertTrue(
        err.contains(
            "Expected every weight of 'model_with_past.onnx' to match a weight of 'model.onnx' by"
                + " shape and values, found no match for ["),
        err);
  }

  @Test
  void tokenizerLargerThanTheModelsVocabulary() throws Exception {
    Path policy = copy("gpt2");
    Files.copy(
        FIXTURES.resolve("llama/tokenizer.json"),
        policy.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    // its special tokens name the GPT-2 tokenizer's (a mismatch that is its own one-line error)
    Files.delete(policy.resolve("tokenizer_config.json"));

    String err = runFails(policy, TEXT_PROMPTS, r -> {});

    assertTrue(err.contains("Expected a tokenizer of at most 704 tokens"), err);
    assertTrue(err.contains("found 755"), err);
  }

  @Test
  void chatPromptWithoutTemplate() throws Exception {
    Path policy = copy("llama");
    Files.delete(policy.resolve("tokenizer_config.json"));

    String err =
        runFails(
            policy,
            "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n"
                + "{\"id\": \"b\", \"prompt\": \"The film\"}\n",
            r -> {});

    assertTrue(err.contains("has \"messages\" but the policy has no chat template"), err);
  }

  @Test
  void rewardWithoutLogitsOrScore() throws Exception {
    String err = runFails(copy("llama"), TEXT_PROMPTS, r -> r.put("output", "score"));

    assertTrue(err.contains("Expected reward output 'score'"), err);
    assertTrue(err.contains("found outputs [logits]"), err);
  }

  @Test
  void labelOutOfRange() throws Exception {
    String err = runFails(copy("llama"), TEXT_PROMPTS, r -> r.put("label", 2));

    assertTrue(err.contains("Expected reward.label in [0, 2)"), err);
  }
}
