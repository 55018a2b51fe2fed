package dev.jbond.models.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.tokenizer.TokenizerFormatException;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
  private static final DecoderConfig CONFIG = DecoderFixtures.tiny(17, false, Gelu.EXACT);

  @TempDir Path dir;

  @Test
  void write_thenRead_roundTripsConfigTokenIdsAndWeights() throws IOException {
    DecoderWeights weights = DecoderFixtures.randomWeights(CONFIG, 1);

    ModelDirectory written =
        ModelDirectory.write(dir.resolve("m"), weights, OptionalInt.of(36), OptionalInt.of(0));
    ModelDirectory read = ModelDirectory.read(dir.resolve("m"));

    assertEquals(written, read);
    assertEquals(CONFIG, read.config());
    assertEquals(OptionalInt.of(36), read.eosTokenId());
    assertEquals(OptionalInt.of(0), read.padTokenId());
    assertEquals(weights, read.readWeights());
  }

  @Test
  void tokenizer_byVocabularyAndTokenizerFile_findsTheTokenizer() throws IOException {
    assertEquals(
        Optional.empty(),
        new ModelDirectory(dir, CONFIG, OptionalInt.empty(), OptionalInt.empty()).tokenizer());
    DecoderConfig bytes =
        DecoderConfig.builder()
            .setVocabSize(ByteTokenizer.VOCABULARY_SIZE)
            .setContextLength(8)
            .setLayers(1)
            .setWidth(8)
            .setHeads(2)
            .setSeed(1)
            .build();
    ModelDirectory byteModel =
        new ModelDirectory(dir, bytes, OptionalInt.empty(), OptionalInt.empty());
    assertEquals(Optional.of(new ByteTokenizer()), byteModel.tokenizer());

    Files.writeString(dir.resolve(ModelDirectory.TOKENIZER_FILE), "{not json");
    TokenizerFormatException e = assertThrows(TokenizerFormatException.class, byteModel::tokenizer);
    assertTrue(
        e.getMessage().contains(dir.resolve(ModelDirectory.TOKENIZER_FILE).toString()),
        e.getMessage());
  }

  @Test
  void tokenizer_largerThanTheModelsVocabulary_isOneLine() throws Exception {
    Path fixture =
        Path.of(
            ModelDirectoryTest.class
                .getResource("/dev/jbond/models/tokenizer/tokenizer.json")
                .toURI());
    Files.copy(fixture, dir.resolve(ModelDirectory.TOKENIZER_FILE));
    int size = dev.jbond.models.tokenizer.HuggingFaceTokenizer.load(fixture).vocabularySize();
    DecoderConfig.Builder b =
        DecoderConfig.builder().setContextLength(8).setLayers(1).setWidth(8).setHeads(2).setSeed(1);
    ModelDirectory fits =
        new ModelDirectory(
            dir, b.setVocabSize(size).build(), OptionalInt.empty(), OptionalInt.empty());
    assertEquals(size, fits.tokenizer().orElseThrow().vocabularySize());
    ModelDirectory small =
        new ModelDirectory(
            dir, b.setVocabSize(size - 1).build(), OptionalInt.empty(), OptionalInt.empty());
    TokenizerFormatException e = assertThrows(TokenizerFormatException.class, small::tokenizer);
    assertEquals(
        "Expected a tokenizer of at most "
            + (size - 1)
            + " tokens (the model's vocabulary) in "
            + dir.resolve(ModelDirectory.TOKENIZER_FILE)
            + ", found "
            + size
            + ": it would give ids the model has no embedding for",
        e.getMessage());
  }

  @Test
  void write_withoutTokenIds_readsThemAsAbsent() throws IOException {
    ModelDirectory.write(
        dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());

    ModelDirectory read = ModelDirectory.read(dir);

    assertEquals(OptionalInt.empty(), read.eosTokenId());
    assertEquals(OptionalInt.empty(), read.padTokenId());
  }

  @Test
  void write_layout_bothGraphsShareOneWeightsFile() throws IOException {
    DecoderWeights weights = DecoderWeights.initialize(CONFIG);

    ModelDirectory model =
        ModelDirectory.write(dir, weights, OptionalInt.of(1), OptionalInt.empty());

    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          List.of("config.json", "decode.onnx", "model.onnx", "weights.bin"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    long aligned = 0;
    for (Tensor tensor : weights.tensors().values()) {
      aligned = (aligned + 63) / 64 * 64 + tensor.byteSize();
    }
    assertEquals(aligned, Files.size(model.weightsFile()));
    for (Path graph : List.of(model.fullGraph(), model.decodeGraph())) {
      Map<String, String> locations = new LinkedHashMap<>();
      for (TensorProto t : ModelFiles.parse(graph).getGraph().getInitializerList()) {
        assertEquals(TensorProto.DataLocation.EXTERNAL, t.getDataLocation(), t.getName());
        locations.put(t.getName(), entry(t, "location"));
      }
      assertEquals(List.copyOf(CONFIG.parameterShapes().keySet()), List.copyOf(locations.keySet()));
      assertEquals(List.of("weights.bin"), locations.values().stream().distinct().toList());
      assertTrue(Files.size(graph) < 64 * 1024, graph + " holds more than its structure");
    }
  }

  @Test
  void write_configJson_holdsTheDocumentedKeys() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.of(2), OptionalInt.of(3));

    Map<String, Object> json =
        Json.parseObject(Files.readString(model.configFile(), StandardCharsets.UTF_8));

    assertEquals(
        List.of(
            "format",
            "format_version",
            "vocab_size",
            "context_length",
            "layers",
            "width",
            "heads",
            "mlp_multiplier",
            "tied_embeddings",
            "gelu",
            "layer_norm_epsilon",
            "opset",
            "init_std",
            "seed",
            "eos_token_id",
            "pad_token_id"),
        List.copyOf(json.keySet()));
    assertEquals("jbond-decoder", json.get("format"));
    assertEquals(37L, json.get("vocab_size"));
    assertEquals("exact", json.get("gelu"));
    assertEquals(false, json.get("tied_embeddings"));
  }

  @Test
  void write_sameSeedTwice_sameBytes() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");

    ModelDirectory.write(
        a, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    ModelDirectory.write(
        b, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());

    for (String file : List.of("config.json", "model.onnx", "decode.onnx", "weights.bin")) {
      assertArrayEquals(
          Files.readAllBytes(a.resolve(file)), Files.readAllBytes(b.resolve(file)), file);
    }
  }

  @Test
  void write_overExistingDirectory_replacesWeights() throws IOException {
    ModelDirectory.write(
        dir, DecoderFixtures.randomWeights(CONFIG, 1), OptionalInt.empty(), OptionalInt.empty());
    DecoderWeights trained = DecoderFixtures.randomWeights(CONFIG, 2);

    ModelDirectory model =
        ModelDirectory.write(dir, trained, OptionalInt.empty(), OptionalInt.empty());

    assertEquals(trained, model.readWeights());
  }

  @Test
  void fullGraphFile_openedByOrt_matchesInMemoryGraph() throws IOException {
    DecoderWeights weights = DecoderFixtures.randomWeights(CONFIG, 4);
    ModelDirectory model =
        ModelDirectory.write(dir, weights, OptionalInt.empty(), OptionalInt.empty());
    long[][] rows = DecoderFixtures.tokens(CONFIG, 5, 6, 3);

    float[][][] fromFile;
    float[][][] inMemory;
    try (OrtModelSession file = OrtSessions.open(model.fullGraph(), SessionConfig.defaults());
        OrtModelSession memory =
            OrtSessions.open(DecoderBuilder.fullGraph(weights), SessionConfig.defaults())) {
      fromFile = DecoderFixtures.full(file, CONFIG, rows);
      inMemory = DecoderFixtures.full(memory, CONFIG, rows);
    }

    assertEquals(0.0, DecoderFixtures.maxAbsDiff(fromFile, inMemory));
  }

  @Test
  void write_tokenIdOutsideVocabulary_rejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ModelDirectory.write(
                    dir,
                    DecoderWeights.initialize(CONFIG),
                    OptionalInt.of(37),
                    OptionalInt.empty()));
    assertEquals("Expected eosTokenId in [0, 37), found 37", e.getMessage());
  }

  @Test
  void readWeights_configWithOtherContextLength_namesParameterAndBothShapes() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    rewriteConfig(model, "\"context_length\":16", "\"context_length\":32");

    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir).readWeights());
    assertEquals(
        "Expected the weights of '"
            + model.fullGraph()
            + "' to match its config.json, found: Expected shape [32, 16] for parameter"
            + " 'wpe.weight', found [16, 16]",
        e.getMessage());
  }

  @Test
  void read_invalidConfiguration_wrapsTheReason() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    rewriteConfig(model, "\"heads\":4", "\"heads\":3");

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertEquals(
        "Expected a valid decoder configuration in '"
            + model.configFile()
            + "', found: Expected width divisible by heads, found width 16 and heads 3",
        e.getMessage());
  }

  @Test
  void read_missingKey_listsTheKeysFound() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    rewriteConfig(model, "\"width\":16,", "");

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Expected key 'width' in '" + model.configFile() + "', found keys [format, "),
        e.getMessage());
  }

  @Test
  void read_wrongValueType_namesKeyAndValue() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    rewriteConfig(model, "\"layers\":2", "\"layers\":\"two\"");

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertEquals(
        "Expected an integer for 'layers' in '" + model.configFile() + "', found \"two\"",
        e.getMessage());
  }

  @Test
  void read_otherFormatOrNewerVersion_rejected() throws IOException {
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(CONFIG), OptionalInt.empty(), OptionalInt.empty());
    rewriteConfig(model, "\"format_version\":1", "\"format_version\":2");

    ModelLoadException newer =
        assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertEquals(
        "Expected format_version 1 to 1 in '" + model.configFile() + "', found 2",
        newer.getMessage());

    rewriteConfig(model, "\"jbond-decoder\"", "\"gpt2\"");
    ModelLoadException other =
        assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertEquals(
        "Expected format 'jbond-decoder' in '" + model.configFile() + "', found 'gpt2'",
        other.getMessage());
  }

  @Test
  void read_notJson_namesFile() throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"format\": ");

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.read(dir));
    assertTrue(
        e.getMessage()
            .startsWith("Expected a JSON object in '" + dir.resolve("config.json") + "', found: "),
        e.getMessage());
  }

  private static void rewriteConfig(ModelDirectory model, String from, String to)
      throws IOException {
    String text = Files.readString(model.configFile(), StandardCharsets.UTF_8);
    assertTrue(text.contains(from), text + " lacks " + from);
    Files.writeString(model.configFile(), text.replace(from, to), StandardCharsets.UTF_8);
  }

  private static String entry(TensorProto tensor, String key) {
    for (StringStringEntryProto entry : tensor.getExternalDataList()) {
      if (entry.getKey().equals(key)) {
        return entry.getValue();
      }
    }
    return null;
  }
}
