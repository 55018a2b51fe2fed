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
 * The acceptance runs: {@code bond run} over the embedded Triton-protocol server with the
 * bring-your-own-model fixtures (models/src/test/resources/fixtures/byom, written by our PyTorch
 * scripts): a Llama-style policy with its Metaspace/byte-fallback BPE tokenizer and text prompts,
 * and a GPT-2-style policy with its byte-level BPE tokenizer and chat prompts rendered with its
 * chat template; both scored by a BERT-style classifier that reads its own WordPiece tokens.
 */
class ByomRunTest {
  private static final Path FIXTURES =
      RepositoryRoot.get().resolve("models/src/test/resources/fixtures/byom");

  @TempDir Path dir;

  private String[] config(String policy, String prompts) throws Exception {
    return DemoRunConfig.write(
        dir,
        3,
        prompts,
        tree -> {
          DemoRunConfig.section(tree, "policy").put("model", FIXTURES.resolve(policy).toString());
          Map<String, Object> reward = DemoRunConfig.section(tree, "reward");
          reward.put("model", FIXTURES.resolve("reward-bert").toString());
          reward.put("output", "logits");
          reward.put("label", 1);
          DemoRunConfig.section(tree, "prompts").put("batch-size", 4);
          DemoRunConfig.section(tree, "prompts").put("held-out", 0.25);
          DemoRunConfig.section(tree, "sampling").put("max-new-tokens", 16);
          DemoRunConfig.section(tree, "run").put("eval-every", 3);
          DemoRunConfig.section(tree, "eval").put("reference-samples", 4);
          DemoRunConfig.section(tree, "eval").put("samples-per-prompt", 2);
        });
  }

  private List<Map<String, Object>> run(String[] args) throws Exception {
    DemoRunConfig.Result result = DemoRunConfig.run(args);
    assertEquals(0, result.code(), result.err());
    assertEquals(3, JsonLinesMetricsReader.read(dir.resolve("run/metrics.jsonl")).size());
    List<String> lines = Files.readAllLines(dir.resolve("run/samples.jsonl"));
    // evaluations at steps 0 and 3: 2 held-out prompts x 2 samples each
    assertEquals(8, lines.size());
    return lines.stream().map(Json::parseObject).toList();
  }

  @Test
  void run_llamaWithTextPromptsAndBertReward_samplesDecodeToText() throws Exception {
    StringBuilder prompts = new StringBuilder();
    String[] texts = {
      "The soup was",
      "Our waiter",
      "The film felt",
      "The weather today",
      "I think the pizza",
      "The new album",
      "Yesterday the coffee",
      "The movie"
    };
    for (int i = 0; i < texts.length; i++) {
      prompts.append(String.format("{\"id\": \"t%d\", \"prompt\": \"%s\"}%n", i, texts[i]));
    }
    List<Map<String, Object>> samples = run(config("llama", prompts.toString()));

    for (Map<String, Object> s : samples) {
      String prompt = (String) s.get("prompt_text");
      assertTrue(List.of(texts).stream().anyMatch(prompt::contains), prompt);
      assertTrue(s.get("text") instanceof String, s.toString());
      // BOS starts every text prompt, as the Hugging Face tokenizer adds it for Llama
      assertEquals(1L, ((List<?>) s.get("prompt")).get(0), s.toString());
    }
    assertTrue(
        samples.stream().anyMatch(s -> ((String) s.get("text")).strip().length() > 3),
        samples.toString());
  }

  @Test
  void run_gpt2WithChatPromptsAndBertReward_samplesDecodeToText() throws Exception {
    StringBuilder prompts = new StringBuilder();
    String[] questions = {
      "Did you like the pizza?", "How was the film?", "What about the weather?",
      "Was the coffee good?", "How was the concert?", "Did you enjoy the book?",
      "How was dinner?", "What did you think of the show?"
    };
    for (int i = 0; i < questions.length; i++) {
      prompts.append(
          String.format(
              "{\"id\": \"c%d\", \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}]}%n",
              i, questions[i]));
    }
    List<Map<String, Object>> samples = run(config("gpt2", prompts.toString()));

    for (Map<String, Object> s : samples) {
      String prompt = (String) s.get("prompt_text");
      assertTrue(prompt.startsWith("<|im_start|>user\n"), prompt);
      assertTrue(prompt.endsWith("<|im_end|>\n<|im_start|>assistant\n"), prompt);
      assertTrue(s.get("text") instanceof String, s.toString());
    }
  }
}
