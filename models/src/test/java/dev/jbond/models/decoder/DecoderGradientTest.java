package dev.jbond.models.decoder;

import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.testing.DoublePrecision;
import dev.jbond.onnx.testing.GradientCheck;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole-model finite-difference checks of the gradient builder on the project's own decoder (the
 * counterpart of onnx-training's {@code TorchModelGradientTest} for torch exports): the
 * full-sequence graph of a tiny decoder, every parameter turned into an input and checked at a few
 * random entries, on a batch with right padding.
 */
class DecoderGradientTest {
  // float64: step 1e-5, relative tolerance 1e-6; the largest error seen is about 3e-9
  private static final Map<String, Tensor> BATCH =
      Map.of(
          DecoderBuilder.INPUT_IDS,
          Tensor.longs(new long[] {2, 5}, 3, 10, 0, 7, 7, 1, 4, 9, 2, 2),
          DecoderBuilder.ATTENTION_MASK,
          Tensor.longs(new long[] {2, 5}, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0));

  static Stream<Arguments> tanhVariants() {
    return Stream.of(
        Arguments.of(17, true),
        Arguments.of(17, false),
        Arguments.of(14, true),
        Arguments.of(14, false));
  }

  static Stream<Arguments> exactVariants() {
    return Stream.of(Arguments.of(17, false), Arguments.of(14, true));
  }

  @ParameterizedTest(name = "opset {0}, tied {1}")
  @MethodSource("tanhVariants")
  void fullGraphInFloat64_allParameters_matchFiniteDifferences(int opset, boolean tied) {
    DecoderConfig config = config(opset, tied, Gelu.TANH);
    Graph graph =
        Graph.fromModel(
            DoublePrecision.convert(
                DecoderBuilder.fullGraph(DecoderFixtures.randomWeights(config, 17 + opset))
                    .toModel()));

    GradientCheck.check(
        graph, DecoderBuilder.LOGITS, parameters(graph, config), BATCH, 1e-5, 1e-6, 31 + opset, 3);
  }

  /**
   * Exact GELU in float32: ONNX Runtime's CPU {@code Erf} kernel is float only, so this variant
   * cannot run in float64. The step is that of onnx-training's own {@code Erf} check (1e-2); the
   * relative tolerance 5e-3 is about eight times the largest error seen (6.4e-4).
   */
  @ParameterizedTest(name = "opset {0}, tied {1}")
  @MethodSource("exactVariants")
  void fullGraphExactGeluInFloat32_allParameters_matchFiniteDifferences(int opset, boolean tied) {
    DecoderConfig config = config(opset, tied, Gelu.EXACT);
    Graph graph = DecoderBuilder.fullGraph(DecoderFixtures.randomWeights(config, 23 + opset));

    GradientCheck.check(
        graph, DecoderBuilder.LOGITS, parameters(graph, config), BATCH, 1e-2, 5e-3, 37 + opset, 3);
  }

  private static DecoderConfig config(int opset, boolean tied, Gelu gelu) {
    return DecoderConfig.builder()
        .setVocabSize(11)
        .setContextLength(8)
        .setLayers(2)
        .setWidth(8)
        .setHeads(2)
        .setSeed(1)
        .optOpset(opset)
        .optTiedEmbeddings(tied)
        .optGelu(gelu)
        .build();
  }

  private static Map<String, Tensor> parameters(Graph graph, DecoderConfig config) {
    Map<String, Tensor> params = new LinkedHashMap<>();
    for (String name : config.parameterShapes().keySet()) {
      params.put(name, graph.convertInitializerToInput(name));
    }
    return params;
  }
}
