package dev.jbond.onnx.autodiff;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.testing.DoublePrecision;
import dev.jbond.onnx.testing.GradientCheck;
import dev.jbond.onnx.testing.TorchFixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model finite-difference check of the gradient builder on GPT-2-style decoders exported by
 * {@code torch.onnx.export} (training mode, no constant folding) at opsets 14 and 17, converted to
 * float64: every parameter is checked at a few random entries.
 */
class TorchModelGradientTest {
  @ParameterizedTest(name = "opset {0}")
  @ValueSource(ints = {14, 17})
  void torchGpt2_allParameters_matchFiniteDifferences(int opset) throws IOException {
    Graph g = Graph.fromModel(DoublePrecision.convert(ModelFiles.read(TorchFixtures.model(opset))));
    Map<String, Tensor> params = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(g.initializers().keySet());
    for (String name : names) {
      Tensor t = g.initializers().get(name);
      if (t.elementType() == ElementType.DOUBLE && t.elementCount() > 1) {
        params.put(name, g.convertInitializerToInput(name));
      }
    }
    TorchFixtures.Reference ref = TorchFixtures.reference();
    Map<String, Tensor> others =
        Map.of("input_ids", ref.inputIds(), "attention_mask", ref.attentionMask());
    GradientCheck.check(g, "logits", params, others, 1e-5, 1e-5, 7 + opset, 3);
  }
}
