package dev.jbond.models.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.demo.SyntheticCorpus;
import dev.jbond.models.demo.TokenizedExample;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupervisedFineTuningTest {
  private static final ByteTokenizer TOKENIZER = new ByteTokenizer();
  @TempDir static Path shared;
  private static Path model;
  private static List<TokenizedExample> data;

  @BeforeAll
  static void setUp() throws IOException {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(TOKENIZER.vocabularySize())
            .setContextLength(128)
            .setLayers(2)
            .setWidth(32)
            .setHeads(4)
            .setSeed(3)
            .build();
    ModelDirectory.write(
        shared.resolve("m"),
        DecoderWeights.initialize(config),
        OptionalInt.of(ByteTokenizer.EOS_ID),
        OptionalInt.of(ByteTokenizer.PAD_ID));
    model = shared.resolve("m").resolve(ModelDirectory.FULL_GRAPH_FILE);
    data = new ArrayList<>();
    for (var e : SyntheticCorpus.generate(5, 64)) {
      TokenSequence completion =
          TOKENIZER.encode(e.completion()).concat(TokenSequence.of(ByteTokenizer.EOS_ID));
      data.add(new TokenizedExample(TOKENIZER.encode(e.prompt()), completion));
    }
  }

  private static OrtPolicyLearner learner() throws IOException {
    return OrtPolicyLearner.open(
        model,
        LearnerConfig.builder()
            .optLearningRate(3e-3)
            .optSchedule(LearningRateSchedule.constant(0))
            .build());
  }

  @Test
  void run_syntheticCorpus_lossFallsAndModelIsExported(@TempDir Path out) throws IOException {
    List<SftStep> steps;
    try (OrtPolicyLearner l = learner()) {
      steps =
          new SupervisedFineTuning(
                  new SupervisedFineTuning.Settings(40, 8, 1, 100, false), System::nanoTime)
              .run(l, data, out, s -> {});
    }
    assertEquals(40, steps.size());
    double first =
        steps.subList(0, 5).stream().mapToDouble(SftStep::lossPerToken).average().orElseThrow();
    double last =
        steps.subList(35, 40).stream().mapToDouble(SftStep::lossPerToken).average().orElseThrow();
    // a byte-level model starts near log(259) = 5.56 nats per token
    assertTrue(first > 4.5, "first loss per token " + first);
    assertTrue(last < 0.75 * first, "loss per token " + first + " -> " + last);
    assertEquals(40, Files.readAllLines(out.resolve("sft-metrics.jsonl")).size());
    assertTrue(Files.exists(out.resolve("model.onnx")));
  }

  @Test
  void run_resumedAfterStop_matchesUninterruptedRun(@TempDir Path a, @TempDir Path b)
      throws IOException {
    try (OrtPolicyLearner l = learner()) {
      new SupervisedFineTuning(new SupervisedFineTuning.Settings(12, 4, 9, 4, false), () -> 0)
          .run(l, data, a, s -> {});
    }
    try (OrtPolicyLearner l = learner()) {
      new SupervisedFineTuning(new SupervisedFineTuning.Settings(8, 4, 9, 4, false), () -> 0)
          .run(l, data, b, s -> {});
    }
    List<SftStep> rest;
    try (OrtPolicyLearner l = learner()) {
      rest =
          new SupervisedFineTuning(new SupervisedFineTuning.Settings(12, 4, 9, 4, true), () -> 0)
              .run(l, data, b, s -> {});
    }
    assertEquals(4, rest.size());
    assertEquals(9, rest.get(0).step());
    List<String> straight = Files.readAllLines(a.resolve("sft-metrics.jsonl"));
    List<String> resumed = Files.readAllLines(b.resolve("sft-metrics.jsonl"));
    assertEquals(straight, resumed);
    assertArrayEquals(
        Files.readAllBytes(a.resolve("model.onnx.data")),
        Files.readAllBytes(b.resolve("model.onnx.data")));
  }

  @Test
  void run_emptyCompletion_failsNamingTheExample(@TempDir Path out) throws IOException {
    List<TokenizedExample> bad =
        List.of(data.get(0), new TokenizedExample(TokenSequence.of(1, 2), TokenSequence.empty()));
    try (OrtPolicyLearner l = learner()) {
      SupervisedFineTuning sft =
          new SupervisedFineTuning(new SupervisedFineTuning.Settings(1, 1, 1, 1, false), () -> 0);
      assertEquals(
          "Expected a non-empty prompt and completion in example 2, found lengths 2 and 0",
          assertThrows(IllegalArgumentException.class, () -> sft.run(l, bad, out, s -> {}))
              .getMessage());
    }
  }
}
