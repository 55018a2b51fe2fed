package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.demo.DemoAssets;
import dev.jbond.models.tokenizer.ByteTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond sample}: Best-of-N inference from a model directory, as JSON lines. */
class SampleCommandTest {
  @TempDir static Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(ByteTokenizer.VOCABULARY_SIZE)
            .setContextLength(64)
            .setLayers(1)
            .setWidth(16)
            .setHeads(2)
            .setSeed(5)
            .build();
    ModelDirectory.write(
        dir.resolve("policy"),
        DecoderWeights.initialize(config),
        OptionalInt.of(ByteTokenizer.EOS_ID),
        OptionalInt.of(ByteTokenizer.PAD_ID));
    DemoAssets.writeReward(dir.resolve("repo"), 0);
    CorpusFiles.writePrompts(
        dir.resolve("prompts.jsonl"),
        List.of("The soup was", "I think this phone"),
        new ByteTokenizer());
  }

  private static String[] run(String... args) {
    Cli.Result r = Cli.run(args);
    return new String[] {Integer.toString(r.code()), r.out(), r.err()};
  }

  @Test
  @SuppressWarnings("unchecked")
  void sample_withRewardAndBestOf_writesCandidatesRewardsAndTheBest() throws Exception {
    Path out = dir.resolve("out.jsonl");
    String[] bestOfThree = {
      "-n",
      "3",
      "--reward",
      dir.resolve("repo").resolve("reward").toString(),
      "--best-of",
      "--seed",
      "7",
      "--max-new-tokens",
      "8"
    };
    String[] result = run(sample(concat(bestOfThree, "--out", out.toString())));

    assertEquals("0", result[0], result[2]);
    List<String> lines = Files.readAllLines(out);
    assertEquals(2, lines.size());
    Map<String, Object> first = Json.parseObject(lines.get(0));
    assertEquals("p0000", first.get("id"));
    assertEquals("The soup was", first.get("text"));
    List<Object> candidates = (List<Object>) first.get("candidates");
    assertEquals(3, candidates.size());
    int best = ((Number) first.get("best")).intValue();
    double max = Double.NEGATIVE_INFINITY;
    int argmax = -1;
    for (int j = 0; j < 3; j++) {
      Map<String, Object> c = (Map<String, Object>) candidates.get(j);
      assertTrue(c.containsKey("tokens") && c.containsKey("text"), c.toString());
      assertTrue(((Number) c.get("logprob")).doubleValue() < 0, c.toString());
      double r = ((Number) c.get("reward")).doubleValue();
      if (r > max) {
        max = r;
        argmax = j;
      }
    }
    assertEquals(argmax, best);

    Path again = dir.resolve("again.jsonl");
    run(sample(concat(bestOfThree, "--out", again.toString())));
    assertEquals(lines, Files.readAllLines(again));
  }

  @Test
  @SuppressWarnings("unchecked")
  void sample_smallBatchSession_drawsTheSameTokens() throws Exception {
    Path plain = dir.resolve("plain.jsonl");
    Path small = dir.resolve("small.jsonl");
    String[] common = {"-n", "2", "--seed", "3", "--max-new-tokens", "6", "--threads", "2"};
    String[] a = run(sample(concat(common, "--out", plain.toString())));
    String[] b = run(sample(concat(common, "--small-batch-rows", "4", "--out", small.toString())));

    assertEquals("0", a[0], a[2]);
    assertEquals("0", b[0], b[2]);
    List<String> expected = Files.readAllLines(plain);
    List<String> actual = Files.readAllLines(small);
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      List<Object> e = (List<Object>) Json.parseObject(expected.get(i)).get("candidates");
      List<Object> c = (List<Object>) Json.parseObject(actual.get(i)).get("candidates");
      for (int j = 0; j < e.size(); j++) {
        assertEquals(
            ((Map<String, Object>) e.get(j)).get("tokens"),
            ((Map<String, Object>) c.get(j)).get("tokens"),
            "prompt " + i + " candidate " + j);
      }
    }
  }

  @Test
  void sample_negativeSmallBatchRows_printsOneLineAndExits2() {
    assertFailsWith("bond: Expected --small-batch-rows >= 0, found -1", "--small-batch-rows", "-1");
  }

  @Test
  void sample_bestOfWithoutReward_printsOneLineAndExits2() {
    assertFailsWith("bond: Expected --reward with --best-of, found no reward model", "--best-of");
  }

  /** Runs {@code bond sample} on the fixtures with {@code options}: exit 2 and one line. */
  private void assertFailsWith(String line, String... options) {
    String[] result = run(sample(concat(options, "--out", dir.resolve("x.jsonl").toString())));

    assertEquals("2", result[0]);
    assertEquals(line, result[2].strip());
  }

  /** {@code bond sample} on the fixture policy and prompts, with {@code options}. */
  private String[] sample(String... options) {
    return concat(
        new String[] {
          "sample",
          "--policy",
          dir.resolve("policy").toString(),
          "--prompts",
          dir.resolve("prompts.jsonl").toString()
        },
        options);
  }

  private static String[] concat(String[] head, String... tail) {
    String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }
}
