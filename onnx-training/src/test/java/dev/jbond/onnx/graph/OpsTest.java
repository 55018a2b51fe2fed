package dev.jbond.onnx.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OpsTest {
  private static Graph graph(long opset) {
    return Graph.create("g", opset);
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 12, 13, 14, 17, 18})
  void unsqueeze_byOpset_axesAttributeBefore13InputFrom13(int opset) {
    Graph g = graph(opset);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 3));

    Value y = g.ops().unsqueeze(x, 0, -1);

    Node node = y.producer().orElseThrow();
    if (opset < 13) {
      assertArrayEquals(new long[] {0, -1}, node.intsAttribute("axes").orElseThrow());
      assertEquals(1, node.inputCount());
    } else {
      assertTrue(node.attribute("axes").isEmpty());
      assertArrayEquals(
          new long[] {0, -1}, g.constantValue(node.input(1)).orElseThrow().toLongArray());
    }
    assertEquals(TensorType.of(ElementType.FLOAT, 1, 2, 3, 1), y.type().orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(ints = {12, 13, 17, 18})
  void reduceMeanAndSum_byOpset_axesMoveToInputsAt18And13(int opset) {
    Graph g = graph(opset);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 3, 4));

    Node mean = g.ops().reduceMean(x, true, -1).producer().orElseThrow();
    Node sum = g.ops().reduceSum(x, false, 1).producer().orElseThrow();

    assertEquals(opset < 18, mean.attribute("axes").isPresent());
    assertEquals(opset < 18 ? 1 : 2, mean.inputCount());
    assertEquals(opset < 13, sum.attribute("axes").isPresent());
    assertEquals(opset < 13 ? 1 : 2, sum.inputCount());
    assertEquals(TensorType.of(ElementType.FLOAT, 2, 3, 1), mean.output(0).type().orElseThrow());
    assertEquals(TensorType.of(ElementType.FLOAT, 2, 4), sum.output(0).type().orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(ints = {12, 13, 17, 18})
  void split_byOpset_sizesAsAttributeOrInputAndNumOutputsAt18(int opset) {
    Graph g = graph(opset);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 6));

    List<Value> sized = g.ops().split(x, 1, 2, 4);
    List<Value> equal = g.ops().splitEqual(x, 1, 3);

    Node sizedNode = sized.get(0).producer().orElseThrow();
    Node equalNode = equal.get(0).producer().orElseThrow();
    assertEquals(opset < 13, sizedNode.attribute("split").isPresent());
    assertEquals(opset < 13 ? 1 : 2, sizedNode.inputCount());
    assertEquals(opset >= 18, equalNode.attribute("num_outputs").isPresent());
    assertEquals(1, equalNode.inputCount());
    assertEquals(TensorType.of(ElementType.FLOAT, 2, 2), sized.get(0).type().orElseThrow());
    assertEquals(TensorType.of(ElementType.FLOAT, 2, 4), sized.get(1).type().orElseThrow());
    for (Value part : equal) {
      assertEquals(TensorType.of(ElementType.FLOAT, 2, 2), part.type().orElseThrow());
    }
  }

  @Test
  void reduceSum_runTimeAxesBeforeOpset13_fails() {
    Graph g = graph(12);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2));
    Value axes = g.constantLongs(0);

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> g.ops().reduceSum(x, axes, true, true));

    assertEquals(
        "Expected opset >= 13 for ReduceSum with run-time axes, found opset 12 in graph 'g'",
        e.getMessage());
  }

  @Test
  void typeNotes_matMulBroadcastAndSymbolicDims_propagate() {
    Graph g = graph(17);
    Dim batch = Dim.symbolic("B");
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, batch, Dim.of(5), Dim.of(8)));
    Value w = g.addInitializer("w", Tensor.zeros(ElementType.FLOAT, 8, 3));
    Value b = g.addInitializer("b", Tensor.zeros(ElementType.FLOAT, 3));

    Value y = g.ops().add(g.ops().matMul(x, w), b);
    Value t = g.ops().transpose(y, 2, 0, 1);
    Value s = g.ops().shape(t);
    Value c = g.ops().cast(t, ElementType.DOUBLE);
    Value r = g.ops().reshape(y, 0, -1);
    Value cond = g.op("Equal", y, b);
    Value gathered =
        g.ops().gather(w, g.addInput("ids", TensorType.of(ElementType.INT64, batch)), 0);
    Value joined = g.ops().concat(1, y, y);

    assertEquals(
        TensorType.of(ElementType.FLOAT, batch, Dim.of(5), Dim.of(3)), y.type().orElseThrow());
    assertEquals(
        TensorType.of(ElementType.FLOAT, Dim.of(3), batch, Dim.of(5)), t.type().orElseThrow());
    assertEquals(TensorType.of(ElementType.INT64, 3), s.type().orElseThrow());
    assertEquals(ElementType.DOUBLE, c.elementType().orElseThrow());
    assertEquals(TensorType.of(ElementType.FLOAT, batch, Dim.unknown()), r.type().orElseThrow());
    assertEquals(ElementType.BOOL, cond.elementType().orElseThrow());
    assertEquals(TensorType.of(ElementType.FLOAT, batch, Dim.of(3)), gathered.type().orElseThrow());
    assertEquals(
        TensorType.of(ElementType.FLOAT, batch, Dim.of(10), Dim.of(3)),
        joined.type().orElseThrow());
  }

  @Test
  void typeNotes_unknownOp_leaveOutputsUnknown() {
    Graph g = graph(17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2));

    Value y = g.node("FancyOp").domain("com.example").input(x).output();

    assertTrue(y.type().isEmpty());
    assertEquals(Shape.unknownRank(), y.shape());
  }

  @Test
  void constantOfShape_notesTypeAndShapeFromConstantInput() {
    Graph g = graph(17);

    Value zeros = g.ops().constantOfShape(g.constantLongs(2, 5), Tensor.longScalar(0));

    assertEquals(TensorType.of(ElementType.INT64, 2, 5), zeros.type().orElseThrow());
  }
}
