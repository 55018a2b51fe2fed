package dev.jbond.onnx.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GradientBuilderTest {
  @Test
  void parametersReaching_maskAndShapeOnlyInitializers_areLeftOut() {
    // y = Where(mask > 0.5, x * w, -1e4) + Shape-derived constant; mask and s reach y only
    // through a comparison and Size, dead only reaches another output
    Graph g = Graph.create("reach", 17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 3));
    Value w = g.addInitializer("w", Tensor.floats(new long[] {3}, 1, 2, 3));
    Value mask = g.addInitializer("mask", Tensor.floats(new long[] {3}, 1, 0, 1));
    Value s = g.addInitializer("s", Tensor.floats(new long[] {5}, 0, 0, 0, 0, 0));
    Value dead = g.addInitializer("dead", Tensor.floats(new long[] {1}, 7));
    Value condition = g.op("Greater", mask, g.constantFloat(0.5f));
    Value masked = g.ops().where(condition, g.ops().mul(x, w), g.constantFloat(-1e4f));
    Value size = g.ops().cast(g.op("Size", s), ElementType.FLOAT);
    g.addOutput(g.node("Add").inputs(masked, size).output("y"));
    g.addOutput(g.node("Neg").input(dead).output("z"));
    Map<String, Tensor> feed = Map.of("x", Tensor.floats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));

    List<String> reaching =
        GradientBuilder.parametersReaching(
            g, "y", List.of("dead", "s", "mask", "w"), List.of(feed), SessionConfig.defaults());

    assertEquals(List.of("w"), reaching);
  }
}
