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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the two graphs the learner runs from a {@link PolicyModel}: the log-probability graph and
 * the train graph. In both, every trainable parameter becomes a graph input of the same name, so
 * that the weights of any role are fed (zero-copy) at run time.
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

  /** Names of the gradient outputs, in parameter order. */
  static List<String> gradientNames(TrainGraph train, PolicyModel model) {
    List<String> out = new ArrayList<>();
    for (ParameterSpec p : model.parameters()) {
      out.add(train.gradients().get(p.name()));
    }
    return out;
  }
}
