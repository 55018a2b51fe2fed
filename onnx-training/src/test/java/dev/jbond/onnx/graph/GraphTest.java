package dev.jbond.onnx.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.testing.TorchFixtures;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GraphTest {
  private static final TensorType X_TYPE = TensorType.of(ElementType.FLOAT, 2, 3);

  @Test
  void uniqueName_repeatedBase_returnsDistinctSuffixedNames() {
    Graph g = Graph.create("g", 17);
    g.addInput("x", X_TYPE);

    assertEquals("y", g.uniqueName("y"));
    assertEquals("y_1", g.uniqueName("y"));
    assertEquals("y_2", g.uniqueName("y"));
    assertEquals("x_1", g.uniqueName("x"));
  }

  @Test
  void op_unnamedNodes_getUniqueNodeAndOutputNames() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);

    Value a = g.op("Relu", x);
    Value b = g.op("Relu", a);

    assertEquals("Relu", a.producer().orElseThrow().name());
    assertEquals("Relu_1", b.producer().orElseThrow().name());
    assertEquals("Relu_output_0", a.name());
    assertEquals("Relu_1_output_0", b.name());
    Set<String> names = new HashSet<>();
    g.values().forEach(v -> assertTrue(names.add(v.name())));
  }

  @Test
  void producerAndConsumers_afterBuilding_trackEveryUse() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    Value w = g.addInitializer("w", Tensor.floats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    Value y = g.ops().matMul(x, w);
    Value z = g.ops().mul(y, y);
    Value s = g.ops().add(z, y);

    Node matMul = y.producer().orElseThrow();
    Node mul = z.producer().orElseThrow();
    assertEquals("MatMul", matMul.opType());
    assertEquals(List.of(mul, s.producer().orElseThrow()), y.consumers());
    assertEquals(List.of(matMul), w.consumers());
    assertTrue(x.producer().isEmpty());
    assertTrue(w.isInitializer());
    assertTrue(x.isGraphInput());
    assertEquals(List.of(mul, s.producer().orElseThrow()), g.consumerMap().get(y));
  }

  @Test
  void setInput_rewire_updatesConsumerMaps() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    Value a = g.ops().neg(x);
    Value b = g.ops().tanh(x);
    Value c = g.ops().exp(a);

    g.replaceAllUses(a, b);

    assertEquals(List.of(), a.consumers());
    assertEquals(List.of(c.producer().orElseThrow()), b.consumers());
    assertSame(b, c.producer().orElseThrow().input(0));
  }

  @Test
  void topologicalOrder_shuffledModel_putsProducersFirst() {
    Graph built = chain(12);
    ModelProto model = built.toModel();
    List<NodeProto> shuffled = new ArrayList<>(model.getGraph().getNodeList());
    Collections.shuffle(shuffled, new Random(7));
    ModelProto scrambled =
        model.toBuilder()
            .setGraph(model.getGraph().toBuilder().clearNode().addAllNode(shuffled))
            .build();

    Graph g = Graph.fromModel(scrambled);
    List<Node> order = g.topologicalOrder();

    assertEquals(12, order.size());
    Set<Value> ready = new HashSet<>(g.inputs());
    g.initializers().keySet().forEach(n -> ready.add(g.value(n)));
    for (Node node : order) {
      for (Value input : node.presentInputs()) {
        assertTrue(ready.contains(input), () -> node + " before producer of " + input);
      }
      ready.addAll(node.presentOutputs());
    }
    assertEquals(model.getGraph().getNodeList(), g.toModel().getGraph().getNodeList());
  }

  @Test
  void topologicalOrder_sortedGraph_keepsOrder() {
    Graph g = chain(5);

    assertEquals(g.nodes(), g.topologicalOrder());
  }

  @Test
  void topologicalOrder_cycle_namesNodesInCycle() {
    Graph g = Graph.create("loop", 17);
    Value x = g.addInput("x", X_TYPE);
    Value a = g.node("Add").name("first").inputs(x, x).output();
    Value b = g.node("Mul").name("second").inputs(a, x).output();
    a.producer().orElseThrow().setInput(1, b);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, g::topologicalOrder);

    assertEquals(
        "Expected an acyclic graph 'loop', found a cycle through 2 nodes, among them"
            + " [node 'first' (Add), node 'second' (Mul)]",
        e.getMessage());
  }

  @Test
  void value_unknownName_failsNamingGraph() {
    Graph g = Graph.create("g", 17);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> g.value("nope"));

    assertEquals("Unknown value 'nope' in graph 'g'", e.getMessage());
  }

  @Test
  void fromModel_nodeReadsUnknownValue_failsNamingNodeAndValue() {
    ModelProto model =
        Graph.create("g", 17).toModel().toBuilder()
            .setGraph(
                GraphProto.newBuilder()
                    .setName("g")
                    .addNode(
                        NodeProto.newBuilder()
                            .setName("n")
                            .setOpType("Relu")
                            .addInput("ghost")
                            .addOutput("y")))
            .build();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Graph.fromModel(model));

    assertEquals("Unknown value 'ghost' read by node 'n' (Relu) in graph 'g'", e.getMessage());
  }

  @Test
  void node_duplicateOutputName_failsNamingOwner() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    g.node("Relu").name("first").input(x).output("y");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> g.node("Neg").input(x).output("y"));

    assertEquals(
        "Duplicate value name 'y' in graph 'g': already an output of node 'first' (Relu)",
        e.getMessage());
  }

  @Test
  void node_outputNamedLikeInput_fails() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> g.node("Neg").input(x).output("x"));

    assertEquals("Duplicate value name 'x' in graph 'g': already a graph input", e.getMessage());
  }

  @Test
  void op_valueOfOtherGraph_fails() {
    Graph g = Graph.create("g", 17);
    Graph other = Graph.create("other", 17);
    Value foreign = other.addInput("x", X_TYPE);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> g.op("Relu", foreign));

    assertEquals(
        "Expected a value of graph 'g', found 'x' FLOAT [2, 3] of graph 'other'", e.getMessage());
  }

  @Test
  void addInitializer_typeContradictsGraphInput_fails() {
    Graph g = Graph.create("g", 17);
    g.addInput("w", X_TYPE);

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> g.addInitializer("w", Tensor.longs(new long[] {2, 3}, 1, 2, 3, 4, 5, 6)));

    assertEquals(
        "Expected FLOAT [2, 3] for initializer 'w' to match its graph input, found INT64 [2, 3]",
        e.getMessage());
  }

  @Test
  void replaceInitializer_wrongElementType_fails() {
    Graph g = Graph.create("g", 17);
    g.addInitializer("w", Tensor.floatVector(1, 2));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> g.replaceInitializer("w", Tensor.doubles(new long[] {2}, 1, 2)));

    assertEquals("Expected FLOAT [2] for initializer 'w', found DOUBLE [2]", e.getMessage());
  }

  @Test
  void replaceInitializer_sameType_replacesData() {
    Graph g = Graph.create("g", 17);
    g.addInitializer("w", Tensor.floatVector(1, 2));

    g.replaceInitializer("w", Tensor.floatVector(3, 4));

    assertArrayEquals(new float[] {3, 4}, g.initializer("w").orElseThrow().toFloatArray());
  }

  @Test
  void convertInitializerToInput_parameter_becomesTypedInput() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    Value w = g.addInitializer("w", Tensor.floats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    g.addOutput(g.ops().matMul(x, w));

    Tensor old = g.convertInitializerToInput("w");

    assertEquals(TensorType.of(ElementType.FLOAT, 3, 2), old.type());
    assertEquals(List.of(x, w), g.inputs());
    assertFalse(w.isInitializer());
    assertEquals(1, g.toModel().getGraph().getInput(1).getType().getTensorType().getElemType());
  }

  @Test
  void removeNode_outputStillRead_fails() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    Value a = g.node("Neg").name("neg").input(x).output("a");
    g.node("Exp").name("exp").input(a).output("b");

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> g.removeNode(a.producer().orElseThrow()));

    assertEquals(
        "Cannot remove node 'neg' (Neg): value 'a' is read by node 'exp' (Exp)", e.getMessage());
  }

  @Test
  void prune_deadBranch_removesOnlyUnusedNodes() {
    Graph g = Graph.create("g", 17);
    Value x = g.addInput("x", X_TYPE);
    Value live = g.ops().neg(x);
    Value dead = g.ops().exp(g.ops().tanh(x));
    g.addOutput(live);

    int removed = g.prune();

    assertEquals(2, removed);
    assertEquals(List.of(live.producer().orElseThrow()), g.nodes());
    assertTrue(g.findValue(dead.name()).isEmpty());
    assertEquals(List.of(live.producer().orElseThrow()), x.consumers());
  }

  @Test
  void constantValue_constantNodeAndInitializer_areReadable() {
    Graph g = Graph.create("g", 17);
    Value c = g.constantLongs(0, 2);
    Value w = g.addInitializer("w", Tensor.floatVector(1, 2));
    Value x = g.addInput("x", X_TYPE);

    assertArrayEquals(new long[] {0, 2}, g.constantValue(c).orElseThrow().toLongArray());
    assertArrayEquals(new float[] {1, 2}, g.constantValue(w).orElseThrow().toFloatArray());
    assertTrue(g.constantValue(x).isEmpty());
  }

  @Test
  void toModel_builtGraph_declaresOpsetIrVersionAndTypes() {
    Graph g = Graph.create("g", 14);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, Dim.symbolic("batch"), Dim.of(3)));
    g.addOutput(g.ops().neg(x));

    ModelProto model = g.toModel();

    assertEquals(7, model.getIrVersion());
    assertEquals(14, model.getOpsetImport(0).getVersion());
    assertEquals(
        "batch",
        model.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
    assertEquals(
        3,
        model.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(1).getDimValue());
  }

  @Test
  void setOpset_aiOnnxAlias_replacesStandardImport() {
    Graph g = Graph.create("g", 14);

    g.setOpset("ai.onnx", 17);
    g.setOpset("com.microsoft", 1);

    assertEquals(17, g.opset());
    assertEquals(1, g.opset("com.microsoft").getAsLong());
    assertEquals(2, g.opsets().size());
  }

  private static Graph chain(int length) {
    Graph g = Graph.create("chain", 17);
    Value v = g.addInput("x", X_TYPE);
    Value bias = g.addInitializer("b", Tensor.floats(new long[] {2, 3}, 1, 1, 1, 1, 1, 1));
    for (int i = 0; i < length; i++) {
      v = i % 3 == 2 ? g.ops().add(v, bias) : g.ops().tanh(v);
    }
    g.addOutput(v);
    return g;
  }

  /** Lossless load and write of the torch exports. */
  @Nested
  class TorchExports {
    @ParameterizedTest
    @ValueSource(ints = {14, 17})
    void fromModelToModel_torchExport_reproducesFileBytes(int opset) throws Exception {
      byte[] original = Files.readAllBytes(TorchFixtures.model(opset));

      Graph g = Graph.fromModel(ModelProto.parseFrom(original));

      assertArrayEquals(original, g.toBytes());
    }

    @ParameterizedTest
    @ValueSource(ints = {14, 17})
    void load_torchExport_exposesParametersAndConsumers(int opset) throws Exception {
      Graph g = Graph.load(TorchFixtures.model(opset));

      assertEquals(opset, g.opset());
      assertEquals(30, g.initializers().size());
      Value wte = g.value("wte.weight");
      assertEquals(TensorType.of(ElementType.FLOAT, 64, 32), wte.type().orElseThrow());
      // tied embedding: read by the token Gather and by the LM head's Transpose
      assertEquals(
          List.of("Gather", "Transpose"), wte.consumers().stream().map(Node::opType).toList());
      Value logits = g.outputs().get(0);
      assertEquals("MatMul", logits.producer().orElseThrow().opType());
      assertEquals(
          TensorType.of(
              ElementType.FLOAT, Dim.symbolic("batch"), Dim.symbolic("sequence"), Dim.of(64)),
          logits.type().orElseThrow());
      assertEquals(g.nodes(), g.topologicalOrder());
    }

    @Test
    void load_torchExportOpset14_notesShapesThroughSplit() throws Exception {
      Graph g = Graph.load(TorchFixtures.model(14));

      Node split =
          g.nodes().stream().filter(n -> n.opType().equals("Split")).findFirst().orElseThrow();

      assertEquals(3, split.outputCount());
      for (Value part : split.presentOutputs()) {
        assertEquals(ElementType.FLOAT, part.elementType().orElseThrow());
        // the position embedding's length comes from Range, so only batch and width are known
        assertEquals(3, part.shape().rank());
        assertEquals(Dim.symbolic("batch"), part.shape().dim(0));
        assertEquals(Dim.of(32), part.shape().dim(2));
      }
    }
  }
}
