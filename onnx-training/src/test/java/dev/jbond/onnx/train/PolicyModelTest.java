package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.proto.StringStringEntryProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PolicyModelTest {
  private static final TensorType TOKENS =
      TensorType.of(ElementType.INT64, Dim.symbolic("batch"), Dim.symbolic("sequence"));

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void load_torchFixture_findsVocabularyAndTrainableParametersButNotMaskBuffers(int opset)
      throws Exception {
    PolicyModel model = OrtPolicyLearnerTest.fixture(opset);

    assertEquals(64, model.vocabularySize());
    assertTrue(model.hasAttentionMask());
    assertFalse(model.hasPositionIds());
    assertTrue(model.contextLength().isEmpty());
    List<String> names = model.parameters().stream().map(ParameterSpec::name).toList();
    assertEquals(28, names.size());
    assertTrue(names.contains("wte.weight") && names.contains("h.1.mlp.c_proj.bias"), "" + names);
    assertFalse(names.contains("h.0.attn.bias") || names.contains("h.1.attn.bias"), "" + names);
    assertEquals(ParameterSpec.of("h.0.attn.c_attn.weight", 96, 32), model.parameters().get(4));
    // 64*32 + 16*32 + 2 layers * (4*32 + 96*32 + 96 + 32*32 + 32 + 128*32 + 128 + 32*128 + 32)
    // + 2*32 (ln_f)
    assertEquals(2048 + 512 + 2 * 12704 + 64, model.parameterCount());
    assertEquals(64, model.sha256().orElseThrow().length());
  }

  @Test
  void of_modelWithoutLogits_failsNamingTheOutputsFound() {
    Graph g = TinyPolicies.bigram(8, 1, -1);
    Value scores = g.ops().identity(g.value("logits"));
    g.removeOutput(g.value("logits"));
    g.addOutput(g.node("Identity").input(scores).output("scores"));

    assertEquals(
        "Expected an output named 'logits' in model 'bigram', found [scores]",
        assertThrows(IllegalArgumentException.class, () -> PolicyModel.of(g, "bigram"))
            .getMessage());
  }

  @Test
  void of_floatTokenIds_failsNamingTheType() {
    Graph g = Graph.create("floats", 17);
    Value ids =
        g.addInput(
            "input_ids",
            TensorType.of(ElementType.FLOAT, Dim.symbolic("batch"), Dim.symbolic("sequence")));
    Value w = g.addInitializer("w", Tensor.floats(new long[] {1, 1, 4}, 1, 2, 3, 4));
    g.addOutput(g.node("Mul").inputs(g.ops().unsqueeze(ids, -1), w).output("logits"));

    assertEquals(
        "Expected input 'input_ids' of type INT64 in model 'floats', found FLOAT",
        assertThrows(IllegalArgumentException.class, () -> PolicyModel.of(g, "floats"))
            .getMessage());
  }

  @Test
  void of_extraInputOrLogitsOfRankTwo_failsClearly() {
    Graph extra = TinyPolicies.bigram(8, 1, -1);
    extra.addInput("past", TOKENS);
    assertEquals(
        "Expected model inputs among [input_ids, attention_mask, position_ids] in model 'm',"
            + " found input 'past'",
        assertThrows(IllegalArgumentException.class, () -> PolicyModel.of(extra, "m"))
            .getMessage());

    Graph flat = TinyPolicies.bigram(8, 1, -1);
    flat.value("logits").setType(TensorType.of(ElementType.FLOAT, Dim.unknown(), Dim.of(8)));
    assertEquals(
        "Expected output 'logits' of rank 3 ([batch, sequence, vocabulary]) in model 'm',"
            + " found [?, 8]",
        assertThrows(IllegalArgumentException.class, () -> PolicyModel.of(flat, "m")).getMessage());
  }

  @Test
  void load_directory_takesItsOnlyModelOrModelOnnxAndReadsContextMetadata() throws Exception {
    Graph g = TinyPolicies.bigram(8, 1, -1);
    Path single = Files.createDirectories(dir.resolve("single"));
    ModelFiles.write(
        g.toModel().toBuilder()
            .addMetadataProps(
                StringStringEntryProto.newBuilder().setKey("n_positions").setValue("32"))
            .build(),
        single.resolve("bigram.onnx"));

    PolicyModel model = PolicyModel.load(single);

    assertEquals("bigram.onnx", model.name());
    assertEquals(32, model.contextLength().orElseThrow());
    assertEquals(
        List.of("table", "bias"), model.parameters().stream().map(ParameterSpec::name).toList());

    Path two = Files.createDirectories(dir.resolve("two"));
    g.save(two.resolve("a.onnx"));
    g.save(two.resolve("b.onnx"));
    assertEquals(
        "Expected one .onnx file or 'model.onnx' in model directory '"
            + two.toAbsolutePath()
            + "', found [a.onnx, b.onnx]",
        assertThrows(ModelLoadException.class, () -> PolicyModel.load(two)).getMessage());
    g.save(two.resolve("model.onnx"));
    assertEquals("model.onnx", PolicyModel.load(two).name());
  }

  @Test
  void load_fileBreakingTheContract_throwsModelLoadException() throws Exception {
    Graph g = TinyPolicies.bigram(8, 1, -1);
    g.addInput("past", TOKENS);
    Path file = dir.resolve("bad.onnx");
    g.save(file);

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> PolicyModel.load(file));

    assertEquals(
        "Expected model inputs among [input_ids, attention_mask, position_ids] in model"
            + " 'bad.onnx', found input 'past'",
        e.getMessage());
    assertEquals(
        "Expected a .onnx file or a model directory at '"
            + dir.resolve("missing").toAbsolutePath()
            + "', found nothing",
        assertThrows(ModelLoadException.class, () -> PolicyModel.load(dir.resolve("missing")))
            .getMessage());
  }
}
