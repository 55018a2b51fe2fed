package dev.jbond.onnx.autodiff;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shape inference by execution: runs a copy of the graph that exposes every intermediate value as
 * an output, once per probe feed, and records each value's element type and concrete dimensions.
 *
 * <p>The gradient builder needs ranks (to transpose the last two axes of a batched MatMul, to
 * unsqueeze reduced axes) and the axes along which an operand was broadcast (to sum its gradient
 * back). ONNX files exported by torch carry no intermediate shapes, and ONNX Runtime's Java API
 * exposes no shape inference, so the builder asks the runtime itself. Two probes with different
 * dynamic sizes (for a language model, batch and sequence length of at least 2) tell static
 * dimensions from dynamic ones; a dimension that is 1 in every probe is treated as static 1.
 */
final class ShapeProbe {
  private ShapeProbe() {}

  static Map<String, ProbedValue> run(
      Graph graph, List<Map<String, Tensor>> feeds, SessionConfig config) {
    Checks.checkArgument(!feeds.isEmpty(), "Expected at least one probe feed, found none");
    Graph copy = Graph.fromModel(graph.toModel());
    Set<String> exposed = new LinkedHashSet<>();
    for (Value out : copy.outputs()) {
      exposed.add(out.name());
    }
    for (Node node : copy.nodes()) {
      for (Value v : node.presentOutputs()) {
        if (exposed.add(v.name())) {
          copy.addOutput(v);
        }
      }
    }
    Map<String, List<long[]>> dims = new HashMap<>();
    Map<String, Tensor> last = new HashMap<>();
    try (OrtModelSession session = OrtSessions.open(copy, config)) {
      for (Map<String, Tensor> feed : feeds) {
        Map<String, Tensor> out = session.run(feed, new ArrayList<>(exposed));
        out.putAll(feed);
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
          dims.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue().shape());
          last.put(e.getKey(), e.getValue());
        }
      }
    }
    Map<String, ProbedValue> result = new HashMap<>();
    for (Map.Entry<String, List<long[]>> e : dims.entrySet()) {
      result.put(e.getKey(), new ProbedValue(last.get(e.getKey()).elementType(), e.getValue()));
    }
    for (Map.Entry<String, Tensor> init : graph.initializers().entrySet()) {
      List<long[]> same = new ArrayList<>();
      for (int i = 0; i < feeds.size(); i++) {
        same.add(init.getValue().shape());
      }
      result.putIfAbsent(init.getKey(), new ProbedValue(init.getValue().elementType(), same));
    }
    return result;
  }
}
