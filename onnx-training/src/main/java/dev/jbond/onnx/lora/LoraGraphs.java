package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Inserts low-rank adapter branches into a graph. At each target node ({@link LoraTarget}) with
 * input {@code x} and output {@code y}, every reader of {@code y} reads instead
 *
 * <pre>
 *   y + sum over the node's targets of  (x A^T) (s B^T E)
 * </pre>
 *
 * <p>with {@code A [r, in]} and {@code B [out, r]} (PEFT's {@code lora_A} and {@code lora_B}
 * layouts, TensorRT-LLM's in and out matrices), {@code s} the scale and {@code E} the placement of
 * the module's {@code out} columns at {@code offset} among the node's {@code width} (zero columns
 * concatenated around {@code B^T}; nothing for a whole projection). The branch costs two thin
 * matrix products per token; the frozen {@code x W} is unchanged.
 *
 * <p>Two forms: {@link #addTrainable} (the learner's: {@code A} and {@code B} are initializers, the
 * only ones it trains, {@code s = alpha / r} in the graph) and {@link #addInputs} (a server's:
 * {@code A} and {@code B} are graph inputs of any rank, fed per request, with {@code B} already
 * multiplied by {@code alpha / r} as TensorRT-LLM's {@code lora_weights} carry it).
 */
public final class LoraGraphs {
  private LoraGraphs() {}

  /**
   * Adds branches whose {@code A} and {@code B} are initializers ({@link LoraTarget#aName}, {@link
   * LoraTarget#bName}).
   *
   * @param graph the graph to change
   * @param targets targets found in {@code graph}
   * @param initial each target's {@code A} and {@code B} by name
   * @param scale the branch scale {@code alpha / r}
   * @throws IllegalArgumentException when a target's node or a value is missing
   */
  public static void addTrainable(
      Graph graph, List<LoraTarget> targets, Map<String, Tensor> initial, double scale) {
    Objects.requireNonNull(initial, "initial");
    insert(
        graph,
        targets,
        t -> {
          Tensor a = initial.get(t.aName());
          Tensor b = initial.get(t.bName());
          Checks.checkArgument(
              a != null && b != null, "Expected initial A and B for LoRA target %s", t.key());
          return new Value[] {
            graph.addInitializer(t.aName(), a), graph.addInitializer(t.bName(), b)
          };
        },
        (float) scale);
  }

  /**
   * Adds branches whose {@code A} ({@code [r, in]}) and {@code B} ({@code [out, r]}, scaled) are
   * FLOAT graph inputs of a symbolic rank.
   *
   * @param graph the graph to change
   * @param targets targets found in {@code graph}
   * @throws IllegalArgumentException when a target's node is missing
   */
  public static void addInputs(Graph graph, List<LoraTarget> targets) {
    insert(
        graph,
        targets,
        t -> {
          Dim rank = Dim.symbolic("lora_rank_" + t.key());
          return new Value[] {
            graph.addInput(t.aName(), TensorType.of(ElementType.FLOAT, rank, Dim.of(t.in()))),
            graph.addInput(t.bName(), TensorType.of(ElementType.FLOAT, Dim.of(t.out()), rank))
          };
        },
        1f);
  }

  private interface Parameters {
    Value[] of(LoraTarget target);
  }

  private static void insert(
      Graph graph, List<LoraTarget> targets, Parameters parameters, float scale) {
    Objects.requireNonNull(graph, "graph");
    Map<Node, List<LoraTarget>> byNode = new LinkedHashMap<>();
    for (LoraTarget t : targets) {
      byNode.computeIfAbsent(nodeOf(graph, t), n -> new ArrayList<>()).add(t);
    }
    Ops ops = graph.ops();
    for (Map.Entry<Node, List<LoraTarget>> e : byNode.entrySet()) {
      Node node = e.getKey();
      Value x = node.input(0);
      Value y = node.output(0);
      Checks.checkArgument(
          !y.isGraphOutput(),
          "Expected the output of LoRA target node '%s' to be read by other nodes, found a graph"
              + " output",
          node.name());
      List<Node> readers = List.copyOf(graph.consumers(y));
      Value sum = null;
      for (LoraTarget t : e.getValue()) {
        Value[] ab = parameters.of(t);
        Value down = ops.matMul(x, ops.transpose(ab[0], 1, 0));
        Value up = ops.transpose(ab[1], 1, 0);
        if (t.out() < t.width()) {
          List<Value> parts = new ArrayList<>();
          Value rank = ops.unsqueeze(ops.gather(ops.shape(ab[0]), graph.constantLong(0), 0), 0);
          if (t.offset() > 0) {
            parts.add(zeros(graph, rank, t.offset()));
          }
          parts.add(up);
          int after = t.width() - t.offset() - t.out();
          if (after > 0) {
            parts.add(zeros(graph, rank, after));
          }
          up = ops.concat(1, parts.toArray(Value[]::new));
        }
        if (scale != 1f) {
          up = ops.mul(up, graph.constantFloat(scale));
        }
        Value branch = ops.matMul(down, up);
        sum = sum == null ? branch : ops.add(sum, branch);
      }
      Value adapted = ops.add(y, sum);
      for (Node reader : readers) {
        for (int i = 0; i < reader.inputCount(); i++) {
          if (reader.hasInput(i) && reader.input(i) == y) {
            reader.setInput(i, adapted);
          }
        }
      }
    }
    graph.sortTopologically();
  }

  /** A {@code [r, columns]} FLOAT block of zeros; {@code rank} a 1-D INT64 {@code [r]}. */
  private static Value zeros(Graph graph, Value rank, int columns) {
    Value shape = graph.ops().concat(0, rank, graph.constantLongs(columns));
    return graph.ops().constantOfShape(shape, Tensor.floatScalar(0f));
  }

  private static Node nodeOf(Graph graph, LoraTarget t) {
    for (Node node : graph.nodes()) {
      if ((node.opType().equals("MatMul") || node.opType().equals("Gemm"))
          && node.inputCount() >= 2
          && node.hasInput(1)
          && node.input(1).name().equals(t.weight())
          && node.name().equals(t.node())) {
        return node;
      }
    }
    throw new IllegalArgumentException(
        "Expected a MatMul or Gemm node '"
            + t.node()
            + "' reading weight '"
            + t.weight()
            + "' for LoRA target "
            + t.key()
            + ", found none");
  }
}
