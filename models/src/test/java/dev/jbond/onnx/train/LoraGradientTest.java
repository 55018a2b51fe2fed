package dev.jbond.onnx.train;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.onnx.testing.DoublePrecision;
import dev.jbond.onnx.testing.GradientCheck;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference checks of the adapter gradients: the adapted full-sequence graph in float64,
 * every adapter's {@code A} and {@code B} (random, non-zero) an input, checked at a few entries
 * each against central differences of a random projection of the logits.
 */
class LoraGradientTest {
  private static final Map<String, Tensor> BATCH =
      Map.of(
          PolicyModel.INPUT_IDS,
          Tensor.longs(new long[] {2, 5}, 3, 10, 0, 7, 7, 1, 4, 9, 2, 2),
          PolicyModel.ATTENTION_MASK,
          Tensor.longs(new long[] {2, 5}, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0));

  // float64: step 1e-5, relative tolerance 1e-6
  @ParameterizedTest
  @ValueSource(strings = {"decoder", "llama"})
  void adapterGradients_inFloat64_matchFiniteDifferences(String name) throws IOException {
    PolicyModel base = LoraLearnerTest.base(name);
    LoraPolicy lora =
        LoraPolicy.create(base, new LoraSpec(2, 4.0, LoraLearnerTest.modules(name), 19));
    PolicyModel adapted = LoraLearnerTest.withRandomAdapters(lora, 29);
    Graph graph = Graph.fromModel(DoublePrecision.convert(adapted.graph().toModel()));
    floatPositionEncoding(graph);
    Map<String, Tensor> params = new LinkedHashMap<>();
    for (LoraTarget t : lora.targets()) {
      params.put(t.aName(), graph.convertInitializerToInput(t.aName()));
      params.put(t.bName(), graph.convertInitializerToInput(t.bName()));
    }
    Map<String, Tensor> batch = new LinkedHashMap<>(BATCH);
    if (!base.hasAttentionMask()) {
      batch.remove(PolicyModel.ATTENTION_MASK);
    }
    if (base.hasPositionIds()) {
      batch.put(
          PolicyModel.POSITION_IDS, Tensor.longs(new long[] {2, 5}, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4));
    }
    double worst = GradientCheck.check(graph, PolicyModel.LOGITS, params, batch, 1e-5, 1e-6, 41, 3);
    System.out.printf("LoRA finite differences on %s: worst error %.2e%n", name, worst);
  }

  /**
   * ONNX Runtime's CPU {@code Cos} and {@code Sin} are float only: the rotary tables (functions of
   * the positions alone, constant for the adapters) are computed in float and cast back.
   */
  private static void floatPositionEncoding(Graph graph) {
    for (Node node : List.copyOf(graph.nodes())) {
      if (!node.opType().equals("Cos") && !node.opType().equals("Sin")) {
        continue;
      }
      Value y = node.output(0);
      List<Node> readers = List.copyOf(graph.consumers(y));
      node.setInput(0, graph.ops().cast(node.input(0), ElementType.FLOAT));
      y.setType(TensorType.unknownShape(ElementType.FLOAT));
      Value back = graph.ops().cast(y, ElementType.DOUBLE);
      for (Node reader : readers) {
        for (int i = 0; i < reader.inputCount(); i++) {
          if (reader.hasInput(i) && reader.input(i) == y) {
            reader.setInput(i, back);
          }
        }
      }
    }
    graph.sortTopologically();
  }
}
