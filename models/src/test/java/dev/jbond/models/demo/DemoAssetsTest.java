package dev.jbond.models.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.tokenizer.ByteTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoAssetsTest {
  private static final Path COMMITTED = Path.of("demo");

  @Test
  @SuppressWarnings("unchecked")
  void generate_tinySettings_writesTheRepositoryLayout(@TempDir Path out) throws Exception {
    DecoderConfig tiny =
        DecoderConfig.builder()
            .setVocabSize(ByteTokenizer.VOCABULARY_SIZE)
            .setContextLength(128)
            .setLayers(1)
            .setWidth(16)
            .setHeads(2)
            .setSeed(1)
            .build();
    DemoAssets.Settings settings = new DemoAssets.Settings(40, 0, tiny, 3, 4, 1e-3, 0, 0, 1);

    DemoAssets.Summary summary = DemoAssets.generate(out, settings, () -> 0, line -> {});

    assertEquals(40, CorpusFiles.readExamples(out.resolve(DemoAssets.CORPUS_FILE)).size());
    assertEquals(
        SyntheticCorpus.prompts().size(),
        CorpusFiles.readPrompts(out.resolve(DemoAssets.PROMPTS_FILE)).size());
    assertTrue(Files.exists(out.resolve("reward/config.pbtxt")));
    assertTrue(Files.exists(out.resolve("reward/1/model.onnx")));
    assertTrue(
        Files.readString(out.resolve("policy/config.pbtxt"))
            .contains("backend: \"jbond-generate\""));
    ModelDirectory policy = ModelDirectory.read(out.resolve("policy/1"));
    assertEquals(tiny, policy.config());
    assertEquals(summary.policy(), policy);
    Map<String, Object> provenance =
        Json.parseObject(Files.readString(out.resolve(DemoAssets.PROVENANCE_FILE)));
    Map<String, Object> hashes = (Map<String, Object>) provenance.get("sha256");
    assertTrue(
        hashes.keySet().containsAll(List.of("corpus.jsonl", "policy/1/weights.bin")),
        hashes.toString());
    try (var files = Files.list(out)) {
      assertEquals(
          List.of("corpus.jsonl", "policy", "prompts.jsonl", "provenance.json", "reward"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void committedAssets_corpusPromptsAndReward_matchTheirGenerator(@TempDir Path out)
      throws Exception {
    Assumptions.assumeTrue(
        Files.exists(COMMITTED.resolve(DemoAssets.CORPUS_FILE)), "no demo assets");
    DemoAssets.Settings defaults = DemoAssets.Settings.defaults();
    ByteTokenizer tokenizer = new ByteTokenizer();
    CorpusFiles.writeExamples(
        out.resolve(DemoAssets.CORPUS_FILE),
        SyntheticCorpus.generate(defaults.corpusSeed(), defaults.examples()),
        tokenizer);
    CorpusFiles.writePrompts(
        out.resolve(DemoAssets.PROMPTS_FILE), SyntheticCorpus.prompts(), tokenizer);
    DemoAssets.writeReward(out, defaults.rewardSeed());
    for (String file :
        List.of(
            DemoAssets.CORPUS_FILE,
            DemoAssets.PROMPTS_FILE,
            "reward/config.pbtxt",
            "reward/1/model.onnx")) {
      assertArrayEquals(
          Files.readAllBytes(COMMITTED.resolve(file)),
          Files.readAllBytes(out.resolve(file)),
          file + " differs from its generator; run ./bond assets");
    }
    // the served policy's configuration lists the tensors of its profile
    assertEquals(
        DemoAssets.policyConfig().toPbtxt(),
        Files.readString(COMMITTED.resolve("policy/config.pbtxt")),
        "policy/config.pbtxt differs from its generator; run ./bond assets");
  }

  @Test
  @SuppressWarnings("unchecked")
  void committedAssets_policyGraphs_areWhatTheBuilderEmitsForItsWeights(@TempDir Path out)
      throws Exception {
    Path committed = COMMITTED.resolve("policy").resolve("1");
    Assumptions.assumeTrue(Files.exists(committed.resolve("weights.bin")), "no demo policy");
    ModelDirectory policy = ModelDirectory.read(committed);
    ModelDirectory.write(out, policy.readWeights(), policy.eosTokenId(), policy.padTokenId());
    Map<String, Object> hashes =
        (Map<String, Object>)
            Json.parseObject(Files.readString(COMMITTED.resolve(DemoAssets.PROVENANCE_FILE)))
                .get("sha256");
    for (String file : List.of("model.onnx", "decode.onnx", "weights.bin", "config.json")) {
      byte[] bytes = Files.readAllBytes(committed.resolve(file));
      // graphs the builder has moved past (e.g. before its GELU became fusable) show up here
      assertArrayEquals(
          Files.readAllBytes(out.resolve(file)),
          bytes,
          file + " differs from what DecoderBuilder writes for the committed weights");
      assertEquals(hashes.get("policy/1/" + file), sha256(bytes), file + " vs provenance.json");
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void settings_policyWithAnotherVocabulary_fails() {
    DecoderConfig wide =
        DecoderConfig.builder()
            .setVocabSize(300)
            .setContextLength(16)
            .setLayers(1)
            .setWidth(8)
            .setHeads(2)
            .setSeed(1)
            .build();
    assertEquals(
        "Expected a policy vocabulary of 259 (byte tokenizer), found 300",
        assertThrows(
                IllegalArgumentException.class,
                () -> new DemoAssets.Settings(1, 0, wide, 1, 1, 1e-3, 0, 0, 0))
            .getMessage());
  }
}
