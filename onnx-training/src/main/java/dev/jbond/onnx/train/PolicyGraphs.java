package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.autodiff.GradientBuilder;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.proto.AttributeProto;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.proto.TensorProto;
import dev.jbond.onnx.proto.TypeProto;
import dev.jbond.onnx.proto.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds the graphs the learner runs from a {@link PolicyModel}: the log-probability graph and the
 * train graph, which {@link #split} cuts into the forward and backward part the learner runs. In
 * both, every trainable parameter becomes a graph input of the same name, so that the weights of
 * any role are fed (zero-copy) at run time, and so does every frozen input ({@link
 * PolicyModel#frozenInputs}), held once by the learner for all its sessions.
 *
 * <p>Log-probability graph: inputs of the policy plus {@value #TARGET_IDS} INT64 {@code [B, T]}
 * (the token at position {@code t + 1} for position {@code t}, 0 where there is none) and {@value
 * #TARGET_MASK} FLOAT {@code [B, T]} (1 where that token is a completion token, else 0):
 *
 * <pre>
 *   token_logprobs[b, t]  = sum_v LogSoftmax(logits)[b, t, v] * OneHot(target_ids, V)[b, t, v]
 *   sequence_logprobs[b]  = sum_t token_logprobs[b, t] * target_mask[b, t]
 * </pre>
 *
 * <p>Train graph: the same plus {@value #WEIGHTS} FLOAT {@code [B]}, {@code loss = sum_b
 * sequence_logprobs[b] * weights[b]} (a scalar), and the backward pass of {@link GradientBuilder}
 * with one output {@code <parameter>_grad} per trainable parameter. Its opset is raised to 16 when
 * lower (for {@code ScatterND} with {@code reduction="add"}).
 */
final class PolicyGraphs {
  static final String TARGET_IDS = "target_ids";
  static final String TARGET_MASK = "target_mask";
  static final String WEIGHTS = "weights";
  static final String SEQUENCE_LOGPROBS = "sequence_logprobs";
  static final String LOSS = "loss";

  private PolicyGraphs() {}

  /** The train graph and the gradient output of each parameter. */
  record TrainGraph(Graph graph, Map<String, String> gradients) {
    TrainGraph {
      gradients = Map.copyOf(gradients);
    }
  }

  static Graph logProbGraph(PolicyModel model) {
    Graph g = head(model);
    parametersToInputs(g, model);
    return g;
  }

  static TrainGraph trainGraph(PolicyModel model, SessionConfig probeConfig) {
    Graph g = head(model);
    Value weights = g.addInput(WEIGHTS, TensorType.of(ElementType.FLOAT, Dim.symbolic("batch")));
    Value weighted = g.ops().mul(g.value(SEQUENCE_LOGPROBS), weights);
    Value loss = g.node("ReduceSum").input(weighted).intAttr("keepdims", 0).output(LOSS);
    g.addOutput(loss, TensorType.scalar(ElementType.FLOAT));
    List<String> names = model.parameters().stream().map(ParameterSpec::name).toList();
    Map<String, String> gradients =
        GradientBuilder.on(g)
            .loss(LOSS)
            .parameters(names)
            .probe(probeFeed(model, 2, 3))
            .probe(probeFeed(model, 3, 4))
            .optSessionConfig(probeConfig)
            .build();
    parametersToInputs(g, model);
    return new TrainGraph(g, new LinkedHashMap<>(gradients));
  }

  private static Graph head(PolicyModel model) {
    Graph g = model.graph();
    for (String name : List.of(TARGET_IDS, TARGET_MASK, WEIGHTS, SEQUENCE_LOGPROBS, LOSS)) {
      Checks.checkArgument(
          g.findValue(name).isEmpty(),
          "Expected no value named '%s' in model '%s' (the learner adds it), found one",
          name,
          model.name());
    }
    for (Value out : List.copyOf(g.outputs())) {
      g.removeOutput(out);
    }
    Ops ops = g.ops();
    TensorType tokens =
        TensorType.of(ElementType.INT64, Dim.symbolic("batch"), Dim.symbolic("sequence"));
    Value targetIds = g.addInput(TARGET_IDS, tokens);
    Value targetMask =
        g.addInput(
            TARGET_MASK,
            TensorType.of(ElementType.FLOAT, Dim.symbolic("batch"), Dim.symbolic("sequence")));
    Value logits = g.value(PolicyModel.LOGITS);
    Value logp = g.node("LogSoftmax").input(logits).intAttr("axis", -1).output();
    Value oneHot =
        g.node("OneHot")
            .inputs(
                targetIds,
                g.constant(Tensor.longScalar(model.vocabularySize())),
                g.constantFloats(0f, 1f))
            .intAttr("axis", -1)
            .output();
    Value tokenLogprobs = ops.reduceSum(ops.mul(logp, oneHot), false, -1);
    Value masked = ops.mul(tokenLogprobs, targetMask);
    Value sequence =
        g.node("ReduceSum")
            .inputs(masked, g.constantLongs(1))
            .intAttr("keepdims", 0)
            .output(SEQUENCE_LOGPROBS);
    g.addOutput(sequence, TensorType.of(ElementType.FLOAT, Dim.symbolic("batch")));
    g.prune();
    return g;
  }

  private static void parametersToInputs(Graph g, PolicyModel model) {
    for (ParameterSpec p : model.parameters()) {
      g.convertInitializerToInput(p.name());
    }
    for (ParameterSpec p : model.frozenInputs()) {
      g.convertInitializerToInput(p.name());
    }
  }

  /** A probe feed for every non-parameter input of the train graph. */
  private static Map<String, Tensor> probeFeed(PolicyModel model, int batch, int steps) {
    Map<String, Tensor> feed =
        new LinkedHashMap<>(
            PolicyModel.probeFeed(batch, steps, model.hasAttentionMask(), model.hasPositionIds()));
    long[] shape = {batch, steps};
    long[] targets = new long[batch * steps];
    float[] mask = new float[batch * steps];
    float[] weights = new float[batch];
    for (int b = 0; b < batch; b++) {
      weights[b] = -1f / batch;
      for (int t = 0; t < steps; t++) {
        targets[b * steps + t] = (b + t + 1) % 2;
        mask[b * steps + t] = t == 0 ? 0f : 1f;
      }
    }
    feed.put(TARGET_IDS, Tensor.longs(shape, targets));
    feed.put(TARGET_MASK, Tensor.floats(shape, mask));
    feed.put(WEIGHTS, Tensor.floats(new long[] {batch}, weights));
    return feed;
  }

  /**
   * The train graph cut in two where the backward pass reads the forward pass, so that one forward
   * run serves both the policy's log-probabilities and, later, the gradient of a loss whose weights
   * were computed from them.
   *
   * <p>Forward: every node {@value #SEQUENCE_LOGPROBS} depends on, with the train graph's inputs
   * except {@value #WEIGHTS}; its outputs are {@value #SEQUENCE_LOGPROBS} and then {@code carried},
   * the values its nodes produce that a backward node reads. Backward: every other node (constants
   * the forward part also uses are copied), with the train graph's inputs its nodes read, {@code
   * carried} as further inputs (typed by {@link #backward}), and the gradient outputs.
   *
   * @param forward the forward model
   * @param carried the values handed from the forward run to the backward run, in order
   * @param backward the backward model without the carried inputs' declarations
   * @param backwardInputs the train graph's inputs the backward nodes read
   */
  record Split(
      ModelProto forward, List<String> carried, ModelProto backward, List<String> backwardInputs) {
    Split {
      carried = List.copyOf(carried);
      backwardInputs = List.copyOf(backwardInputs);
    }

    /**
     * Returns the backward model with the carried values declared as inputs.
     *
     * @param types each carried value's element type (a {@code TensorProto.DataType} number), as
     *     the forward session reports its outputs, first in each array
     * @return the model
     */
    ModelProto backward(Map<String, int[]> types) {
      GraphProto.Builder graph = backward.getGraph().toBuilder();
      for (String name : carried) {
        int[] type = types.get(name);
        Checks.verify(type != null, "Expected the type of carried value '%s', found none", name);
        // no shape: the forward session's reported rank is empty where its inference stopped
        graph.addInput(
            ValueInfoProto.newBuilder()
                .setName(name)
                .setType(
                    TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type[0]))));
      }
      return backward.toBuilder().setGraph(graph).build();
    }
  }

  /**
   * Cuts the train graph in two (see {@link Split}).
   *
   * @param train the train graph
   * @return the two parts, or empty when the graph has control flow (subgraphs), which this cut
   *     does not follow
   */
  static Optional<Split> split(TrainGraph train) {
    ModelProto model = train.graph().toModel();
    GraphProto g = model.getGraph();
    List<NodeProto> nodes = g.getNodeList();
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (AttributeProto a : nodes.get(i).getAttributeList()) {
        if (a.hasG() || a.getGraphsCount() > 0) {
          return Optional.empty();
        }
      }
      for (String out : nodes.get(i).getOutputList()) {
        if (!out.isEmpty()) {
          producer.put(out, i);
        }
      }
    }
    BitSet forward = new BitSet(nodes.size());
    Deque<String> work = new ArrayDeque<>(List.of(SEQUENCE_LOGPROBS));
    while (!work.isEmpty()) {
      Integer i = producer.get(work.pop());
      if (i != null && !forward.get(i)) {
        forward.set(i);
        nodes.get(i).getInputList().forEach(work::push);
      }
    }
    // the backward part: what the gradients need, up to the forward part's values
    BitSet backward = new BitSet(nodes.size());
    BitSet copied = new BitSet(nodes.size());
    Set<String> gradients = new HashSet<>(train.gradients().values());
    work.addAll(gradients);
    while (!work.isEmpty()) {
      Integer i = producer.get(work.pop());
      if (i != null && !backward.get(i) && !copied.get(i)) {
        if (!forward.get(i)) {
          backward.set(i);
          nodes.get(i).getInputList().forEach(work::push);
        } else if (nodes.get(i).getInputCount() == 0) {
          copied.set(i);
        }
      }
    }
    for (String gradient : gradients) {
      Integer i = producer.get(gradient);
      if (i == null || forward.get(i) && !copied.get(i)) {
        return Optional.empty(); // a gradient the forward part computes: leave the graph whole
      }
    }
    Set<String> carried = new LinkedHashSet<>();
    Set<String> backwardReads = new HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (!backward.get(i)) {
        continue;
      }
      for (String in : nodes.get(i).getInputList()) {
        Integer p = producer.get(in);
        if (p != null && forward.get(p) && !copied.get(p)) {
          carried.add(in);
        } else if (!in.isEmpty()) {
          backwardReads.add(in);
        }
      }
    }
    // the forward part: SEQUENCE_LOGPROBS first, then the carried values
    GraphProto.Builder fwd =
        g.toBuilder().clearNode().clearInput().clearOutput().clearValueInfo().clearInitializer();
    Set<String> forwardReads = new HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (forward.get(i)) {
        fwd.addNode(nodes.get(i));
        forwardReads.addAll(nodes.get(i).getInputList());
      }
    }
    for (ValueInfoProto in : g.getInputList()) {
      if (forwardReads.contains(in.getName())) {
        fwd.addInput(in);
      }
    }
    for (TensorProto init : g.getInitializerList()) {
      if (forwardReads.contains(init.getName())) {
        fwd.addInitializer(init);
      }
    }
    for (ValueInfoProto out : g.getOutputList()) {
      if (out.getName().equals(SEQUENCE_LOGPROBS)) {
        fwd.addOutput(out);
      }
    }
    for (String name : carried) {
      fwd.addOutput(ValueInfoProto.newBuilder().setName(name));
    }
    // the backward part: the gradient outputs
    GraphProto.Builder bwd =
        g.toBuilder().clearNode().clearInput().clearOutput().clearValueInfo().clearInitializer();
    for (int i = 0; i < nodes.size(); i++) {
      if (backward.get(i) || copied.get(i)) {
        bwd.addNode(nodes.get(i));
      }
    }
    List<String> backwardInputs = new ArrayList<>();
    for (ValueInfoProto in : g.getInputList()) {
      if (backwardReads.contains(in.getName())) {
        bwd.addInput(in);
        backwardInputs.add(in.getName());
      }
    }
    for (TensorProto init : g.getInitializerList()) {
      if (backwardReads.contains(init.getName())) {
        bwd.addInitializer(init);
      }
    }
    for (ValueInfoProto out : g.getOutputList()) {
      if (gradients.contains(out.getName())) {
        bwd.addOutput(out);
      }
    }
    return Optional.of(
        new Split(
            model.toBuilder().setGraph(fwd).build(),
            List.copyOf(carried),
            model.toBuilder().setGraph(bwd).build(),
            backwardInputs));
  }

  /** Names of the gradient outputs, in parameter order. */
  static List<String> gradientNames(TrainGraph train, PolicyModel model) {
    List<String> out = new ArrayList<>();
    for (ParameterSpec p : model.parameters()) {
      out.add(train.gradients().get(p.name()));
    }
    return out;
  }
}
