package dev.jbond.models.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.testing.TorchFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DecoderBuilderTest {
  /** The acceptance bound of issue 4: KV-cache decoding agrees with the full-sequence graph. */
  private static final double TOLERANCE = 1e-4;

  /** Three rows of different lengths, so both graphs see padding. */
  private static final int[] LENGTHS = {9, 5, 7};

  @TempDir Path dir;

  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of(17, true, Gelu.TANH),
        Arguments.of(17, false, Gelu.EXACT),
        Arguments.of(14, true, Gelu.EXACT),
        Arguments.of(14, false, Gelu.TANH));
  }

  @Test
  void fullGraph_initializers_areExactlyTheParameters() {
    DecoderConfig config = DecoderFixtures.tiny(17, false, Gelu.TANH);
    DecoderWeights weights = DecoderWeights.initialize(config);

    Graph full = DecoderBuilder.fullGraph(weights);
    Graph decode = DecoderBuilder.decodeGraph(weights);

    assertEquals(new ArrayList<>(config.parameterShapes().keySet()), keys(full.initializers()));
    assertEquals(weights.tensors(), full.initializers());
    assertEquals(weights.tensors(), decode.initializers());
    assertEquals(17, full.opset());
  }

  @Test
  void fullGraph_inputsAndOutputs_followTheOnnxContract() {
    DecoderConfig config = DecoderFixtures.tiny(17, true, Gelu.TANH);

    Graph full = DecoderBuilder.fullGraph(DecoderWeights.initialize(config));

    assertEquals(List.of("input_ids", "attention_mask"), names(full.inputs()));
    assertEquals(List.of("logits"), names(full.outputs()));
    assertEquals("'input_ids' INT64 [batch, sequence]", full.value("input_ids").toString());
    assertEquals("'logits' FLOAT [batch, sequence, 37]", full.value("logits").toString());
  }

  @Test
  void decodeGraph_inputsAndOutputs_followTheCacheConvention() {
    DecoderConfig config = DecoderFixtures.tiny(17, true, Gelu.TANH);

    Graph decode = DecoderBuilder.decodeGraph(DecoderWeights.initialize(config));

    assertEquals(
        List.of(
            "input_ids",
            "attention_mask",
            "position_ids",
            "past_key_values.0.key",
            "past_key_values.0.value",
            "past_key_values.1.key",
            "past_key_values.1.value"),
        names(decode.inputs()));
    assertEquals(
        List.of("logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"),
        names(decode.outputs()));
    assertEquals(
        "'past_key_values.1.value' FLOAT [batch, 4, past_sequence, 4]",
        decode.value("past_key_values.1.value").toString());
    assertEquals(
        "'present.0.key' FLOAT [batch, 4, total_sequence, 4]",
        decode.value("present.0.key").toString());
  }

  @ParameterizedTest(name = "opset {0}, tied {1}, GELU {2}")
  @MethodSource("variants")
  void decodeGraph_tokenByTokenWithCache_matchesFullGraph(int opset, boolean tied, Gelu gelu)
      throws IOException {
    DecoderConfig config = DecoderFixtures.tiny(opset, tied, gelu);
    ModelDirectory model =
        ModelDirectory.write(
            dir,
            DecoderFixtures.randomWeights(config, 3),
            OptionalInt.empty(),
            OptionalInt.empty());
    long[][] rows = DecoderFixtures.tokens(config, 4, LENGTHS);

    float[][][] full;
    float[][][] decoded;
    try (OrtModelSession fullSession =
            OrtSessions.open(model.fullGraph(), SessionConfig.defaults());
        OrtModelSession decodeSession =
            OrtSessions.open(model.decodeGraph(), SessionConfig.defaults())) {
      full = DecoderFixtures.full(fullSession, config, rows);
      decoded = DecoderFixtures.decode(decodeSession, config, rows, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    }

    double diff = DecoderFixtures.maxAbsDiff(full, decoded);
    assertTrue(diff < TOLERANCE, "max |full - decode| = " + diff);
    assertTrue(DecoderFixtures.maxAbs(full) > 1, "logits too small to test anything");
  }

  @ParameterizedTest(name = "opset {0}, tied {1}, GELU {2}")
  @MethodSource("variants")
  void decodeGraph_promptThenSingleTokens_matchesFullGraph(int opset, boolean tied, Gelu gelu) {
    DecoderConfig config = DecoderFixtures.tiny(opset, tied, gelu);
    DecoderWeights weights = DecoderFixtures.randomWeights(config, 6);
    long[][] rows = DecoderFixtures.tokens(config, 7, LENGTHS);

    float[][][] full;
    float[][][] decoded;
    try (OrtModelSession fullSession =
            OrtSessions.open(DecoderBuilder.fullGraph(weights), SessionConfig.defaults());
        OrtModelSession decodeSession =
            OrtSessions.open(DecoderBuilder.decodeGraph(weights), SessionConfig.defaults())) {
      full = DecoderFixtures.full(fullSession, config, rows);
      decoded = DecoderFixtures.decode(decodeSession, config, rows, 5, 1, 1, 1, 1);
    }

    double diff = DecoderFixtures.maxAbsDiff(full, decoded);
    assertTrue(diff < TOLERANCE, "max |full - decode| = " + diff);
  }

  /**
   * Guards the op pattern of {@code gelu}: ONNX Runtime's full optimisation must replace each
   * layer's GELU and its bias {@code Add} by one fused node, which matters for batch-1 decoding,
   * where per-op overhead dominates.
   */
  @ParameterizedTest
  @ValueSource(strings = {"TANH", "EXACT"})
  void decodeGraph_ortOptimisation_fusesGeluWithItsBias(String form)
      throws IOException, OrtException {
    Gelu gelu = Gelu.valueOf(form);
    DecoderConfig config = DecoderFixtures.tiny(17, true, gelu);
    DecoderWeights weights = DecoderFixtures.randomWeights(config, 8);
    Path source = dir.resolve("decode.onnx");
    Path optimised = dir.resolve("decode-optimised.onnx");
    ModelFiles.write(DecoderBuilder.decodeGraph(weights).toModel(), source);
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setOptimizedModelFilePath(optimised.toString());
      OrtEnvironment.getEnvironment().createSession(source.toString(), options).close();
    }

    Map<String, Integer> ops = new TreeMap<>();
    for (NodeProto node : ModelFiles.read(optimised).getGraph().getNodeList()) {
      ops.merge(node.getOpType(), 1, Integer::sum);
    }
    String fused = gelu == Gelu.TANH ? "FastGelu" : "BiasGelu";
    assertEquals(config.layers(), ops.getOrDefault(fused, 0), "ops: " + ops);
    assertEquals(0, ops.getOrDefault("Tanh", 0) + ops.getOrDefault("Erf", 0), "ops: " + ops);
  }

  @Test
  void decodeGraph_wholeSequenceWithEmptyPast_matchesFullGraph() {
    DecoderConfig config = DecoderFixtures.tiny(17, true, Gelu.TANH);
    DecoderWeights weights = DecoderFixtures.randomWeights(config, 8);
    long[][] rows = DecoderFixtures.tokens(config, 9, LENGTHS);

    float[][][] full;
    float[][][] decoded;
    try (OrtModelSession fullSession =
            OrtSessions.open(DecoderBuilder.fullGraph(weights), SessionConfig.defaults());
        OrtModelSession decodeSession =
            OrtSessions.open(DecoderBuilder.decodeGraph(weights), SessionConfig.defaults())) {
      full = DecoderFixtures.full(fullSession, config, rows);
      decoded = DecoderFixtures.decode(decodeSession, config, rows, 9);
    }

    double diff = DecoderFixtures.maxAbsDiff(full, decoded);
    assertTrue(diff < TOLERANCE, "max |full - decode| = " + diff);
  }

  @Test
  void fullGraph_longerRowsInBatch_leaveShortRowLogitsUnchanged() {
    DecoderConfig config = DecoderFixtures.tiny(17, true, Gelu.TANH);
    DecoderWeights weights = DecoderFixtures.randomWeights(config, 10);
    long[][] rows = DecoderFixtures.tokens(config, 11, 4, 12, 9);

    float[][][] batched;
    float[][][] alone;
    try (OrtModelSession session =
        OrtSessions.open(DecoderBuilder.fullGraph(weights), SessionConfig.defaults())) {
      batched = DecoderFixtures.full(session, config, rows);
      alone = DecoderFixtures.full(session, config, new long[][] {rows[0]});
    }

    double diff = DecoderFixtures.maxAbsDiff(alone, new float[][][] {batched[0]});
    assertTrue(diff < 1e-5, "max |alone - batched| = " + diff);
  }

  @Test
  void decodeGraph_longerRowsInBatch_leaveShortRowLogitsUnchanged() {
    DecoderConfig config = DecoderFixtures.tiny(17, true, Gelu.TANH);
    DecoderWeights weights = DecoderFixtures.randomWeights(config, 12);
    long[][] rows = DecoderFixtures.tokens(config, 13, 4, 12, 9);

    float[][][] batched;
    float[][][] alone;
    try (OrtModelSession session =
        OrtSessions.open(DecoderBuilder.decodeGraph(weights), SessionConfig.defaults())) {
      batched = DecoderFixtures.decode(session, config, rows, 8, 1, 1, 1, 1);
      alone = DecoderFixtures.decode(session, config, new long[][] {rows[0]}, 2, 1, 1);
    }

    double diff = DecoderFixtures.maxAbsDiff(alone, new float[][][] {batched[0]});
    assertTrue(diff < 1e-5, "max |alone - batched| = " + diff);
  }

  @ParameterizedTest(name = "opset {0}")
  @ValueSource(ints = {14, 17})
  void fullGraph_torchGpt2FixtureWeights_matchTorchLogits(int opset) throws IOException {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(64)
            .setContextLength(16)
            .setLayers(2)
            .setWidth(32)
            .setHeads(4)
            .setSeed(0)
            .optOpset(opset)
            .build();
    Map<String, Tensor> torch = TorchFixtures.graph(17).initializers();
    Map<String, Tensor> converted = new LinkedHashMap<>();
    for (String name : config.parameterShapes().keySet()) {
      Tensor tensor = torch.get(name);
      boolean linear =
          name.endsWith(".weight") && (name.contains(".attn.") || name.contains(".mlp."));
      // torch's nn.Linear stores [out, in]; GPT-2's Conv1D layout, used here, is [in, out]
      converted.put(name, linear ? transpose(tensor) : tensor);
    }
    TorchFixtures.Reference reference = TorchFixtures.reference();

    Map<String, Tensor> logits;
    try (OrtModelSession session =
        OrtSessions.open(
            DecoderBuilder.fullGraph(DecoderWeights.of(config, converted)),
            SessionConfig.defaults())) {
      logits =
          session.run(
              Map.of(
                  DecoderBuilder.INPUT_IDS,
                  reference.inputIds(),
                  DecoderBuilder.ATTENTION_MASK,
                  reference.attentionMask()));
    }

    Tensor actual = logits.get(DecoderBuilder.LOGITS);
    assertArrayEquals(reference.logits().shape(), actual.shape());
    float[] expected = reference.logits().toFloatArray();
    float[] found = actual.toFloatArray();
    double diff = 0;
    for (int i = 0; i < expected.length; i++) {
      diff = Math.max(diff, Math.abs(expected[i] - found[i]));
    }
    assertTrue(diff < 1e-4, "max |ours - torch| = " + diff);
  }

  private static Tensor transpose(Tensor matrix) {
    long[] shape = matrix.shape();
    int rows = (int) shape[0];
    int cols = (int) shape[1];
    float[] in = matrix.toFloatArray();
    float[] out = new float[in.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = in[r * cols + c];
      }
    }
    assertEquals(ElementType.FLOAT, matrix.elementType());
    return Tensor.floats(new long[] {cols, rows}, out);
  }

  private static List<String> names(List<Value> values) {
    return values.stream().map(Value::name).toList();
  }

  private static List<String> keys(Map<String, Tensor> map) {
    return new ArrayList<>(map.keySet());
  }
}
