package dev.jbond.onnx.autodiff;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OptimizationLevel;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reverse-mode automatic differentiation over an ONNX graph, in standard ONNX ops only.
 *
 * <p>Given a graph, a scalar (or any float) loss value and the parameters to differentiate (graph
 * inputs or initializers of float type), {@link #build()} appends the backward pass to the graph
 * and adds one output {@code <parameter>_grad} per parameter: the gradient of the sum of the loss
 * elements with respect to that parameter.
 *
 * <ol>
 *   <li>Shapes: the graph is run once per probe feed with every intermediate exposed ({@link
 *       ShapeProbe}), giving element types, ranks and which axes were broadcast.
 *   <li>Requires-grad: forward from the parameters through differentiable inputs of known ops;
 *       integer and boolean values, shapes, indices and masks never require a gradient.
 *   <li>Reverse pass: from the loss (seeded with ones) back through the nodes in reverse
 *       topological order; each rule emits the gradients of its inputs in standard ops, and fan-out
 *       (residual connections, tied embeddings) accumulates with {@code Sum}.
 * </ol>
 *
 * <p>An op without a rule on a path that needs a gradient is an error naming the op, the node, the
 * opset and the supported ops. Rules cover opsets 14 to 17; {@code ScatterND} with {@code
 * reduction="add"} (embedding gradients) needs opset 16, so the graph's opset is raised to 16 when
 * it is lower (the forward ops in scope keep their semantics from 14 to 17).
 */
public final class GradientBuilder {
  /** The suffix of gradient outputs. */
  public static final String GRAD_SUFFIX = "_grad";

  private final Graph graph;
  private final String loss;
  private final List<String> parameters;
  private final List<Map<String, Tensor>> probes;
  private final SessionConfig config;

  private GradientBuilder(Builder b) {
    this.graph = b.graph;
    this.loss = b.loss;
    this.parameters = List.copyOf(b.parameters);
    this.probes = List.copyOf(b.probes);
    this.config = b.config;
  }

  /**
   * Starts building gradients on {@code graph} (which is modified in place).
   *
   * @param graph the forward graph
   * @return the builder
   */
  public static Builder on(Graph graph) {
    return new Builder(graph);
  }

  /** The ops with gradient rules. */
  public static Set<String> supportedOps() {
    return GradientRules.supported();
  }

  /**
   * Returns those of {@code candidates} on which {@code target} depends through differentiable
   * inputs: the parameters that {@link #build()} would give a non-zero gradient path. A candidate
   * that reaches {@code target} only through non-differentiable ops or inputs (a causal-mask buffer
   * read by {@code Slice} then {@code Equal}, a shape, an index) is left out. An op without a
   * gradient rule counts as differentiable in all its inputs, so that {@link #build()} later names
   * it in its error. The graph is not modified.
   *
   * @param graph the graph
   * @param target the float value that must depend on the parameters (e.g. {@code "logits"})
   * @param candidates names of graph inputs or initializers
   * @param probes feeds for every graph input, as for {@link Builder#probe}
   * @param config the ONNX Runtime options of the shape probe
   * @return the candidates that reach {@code target}, in the order given
   * @throws IllegalArgumentException when {@code target} or a candidate is not a value of the graph
   * @since 0.1.0
   */
  public static List<String> parametersReaching(
      Graph graph,
      String target,
      Collection<String> candidates,
      List<Map<String, Tensor>> probes,
      SessionConfig config) {
    return parametersReaching(graph, target, candidates, probes, config, Set.of());
  }

  /**
   * Like {@link #parametersReaching(Graph, String, Collection, List, SessionConfig)}, with ops that
   * count as non-differentiable for this question only: a candidate that reaches {@code target}
   * only through them is left out (for example {@code Cos} and {@code Sin}, which compute a causal
   * LM's rotary position tables from a frequency buffer that PyTorch does not train).
   *
   * @param graph the graph
   * @param target the float value that must depend on the parameters
   * @param candidates names of graph inputs or initializers
   * @param probes feeds for every graph input
   * @param config the ONNX Runtime options of the shape probe
   * @param barriers op types whose inputs do not count as paths
   * @return the candidates that reach {@code target}, in the order given
   * @throws IllegalArgumentException when {@code target} or a candidate is not a value of the graph
   */
  public static List<String> parametersReaching(
      Graph graph,
      String target,
      Collection<String> candidates,
      List<Map<String, Tensor>> probes,
      SessionConfig config,
      Set<String> barriers) {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(barriers, "barriers");
    Checks.checkArgument(!probes.isEmpty(), "Expected at least one probe feed, found none");
    Value targetValue = graph.value(target);
    for (String name : candidates) {
      graph.value(name);
    }
    Map<String, ProbedValue> probed = ShapeProbe.run(graph, probes, config);
    List<Node> order = graph.topologicalOrder();
    Set<Value> leads = new HashSet<>();
    leads.add(targetValue);
    for (int k = order.size() - 1; k >= 0; k--) {
      Node node = order.get(k);
      if (GradientRules.NON_DIFFERENTIABLE.contains(node.opType())
          || barriers.contains(node.opType())) {
        continue;
      }
      boolean relevant = false;
      for (Value out : node.presentOutputs()) {
        relevant |= leads.contains(out);
      }
      if (!relevant) {
        continue;
      }
      GradientRule rule = GradientRules.rule(node.opType());
      for (int i = 0; i < node.inputCount(); i++) {
        if (node.hasInput(i) && (rule == null || rule.differentiable(node, i))) {
          ProbedValue info = probed.get(node.input(i).name());
          if (info != null && info.isFloat()) {
            leads.add(node.input(i));
          }
        }
      }
    }
    List<String> out = new ArrayList<>();
    for (String name : candidates) {
      if (leads.contains(graph.value(name))) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * Appends the backward pass and the gradient outputs.
   *
   * @return parameter name to gradient output name, in parameter order
   * @throws IllegalArgumentException when an op on the gradient path has no rule, a parameter is
   *     unknown or not float, or the loss does not depend on any parameter
   */
  public Map<String, String> build() {
    Map<String, ProbedValue> probed = ShapeProbe.run(graph, probes, config);
    if (graph.opset() < 16) {
      graph.setOpset("", 16);
    }
    Value lossValue = graph.value(loss);
    List<Node> order = new ArrayList<>(graph.topologicalOrder());

    Set<Value> params = new HashSet<>();
    for (String name : parameters) {
      Value p =
          graph
              .findValue(name)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "Expected a parameter named '"
                              + name
                              + "' in graph '"
                              + graph.name()
                              + "', found none"));
      ProbedValue info = probed.get(name);
      Checks.checkArgument(
          info != null && info.isFloat(),
          "Expected parameter '%s' to be a float tensor, found %s",
          name,
          info == null ? "no value" : info.elementType());
      params.add(p);
    }

    // forward: which values require a gradient
    Set<Value> requires = new HashSet<>(params);
    for (Node node : order) {
      if (GradientRules.NON_DIFFERENTIABLE.contains(node.opType())) {
        continue;
      }
      GradientRule rule = GradientRules.rule(node.opType());
      boolean any = false;
      for (int i = 0; i < node.inputCount(); i++) {
        if (node.hasInput(i)
            && requires.contains(node.input(i))
            && (rule == null || rule.differentiable(node, i))) {
          any = true;
          break;
        }
      }
      if (!any) {
        continue;
      }
      for (Value out : node.presentOutputs()) {
        ProbedValue info = probed.get(out.name());
        if (info != null && info.isFloat()) {
          requires.add(out);
        }
      }
    }
    Checks.checkArgument(
        requires.contains(lossValue),
        "Expected loss '%s' to depend on a parameter through differentiable ops, found it does not",
        loss);

    // reverse pass
    Backward b = new Backward(graph, probed, requires);
    Value one = b.scalar(1, lossValue);
    b.accumulate(lossValue, graph.ops().expand(one, b.shape(lossValue)));
    for (int k = order.size() - 1; k >= 0; k--) {
      Node node = order.get(k);
      List<Value> dy = new ArrayList<>();
      boolean flowing = false;
      for (int i = 0; i < node.outputCount(); i++) {
        Value g = node.hasOutput(i) ? b.gradient(node.output(i)) : null;
        dy.add(g);
        flowing |= g != null;
      }
      if (!flowing) {
        continue;
      }
      GradientRule rule = GradientRules.rule(node.opType());
      if (rule == null) {
        throw new IllegalArgumentException(
            "Cannot differentiate op '"
                + node.opType()
                + "' (node '"
                + node.name()
                + "', opset "
                + graph.opset()
                + ") on the path from the parameters to '"
                + loss
                + "'; supported ops: "
                + GradientRules.supported());
      }
      rule.apply(b, node, dy);
    }

    Map<String, String> out = new LinkedHashMap<>();
    for (String name : parameters) {
      Value p = graph.value(name);
      Value g = b.gradient(p);
      if (g == null) {
        g = b.zerosLike(p);
      }
      String gradName = graph.uniqueName(name + GRAD_SUFFIX);
      Value named = graph.node("Identity").input(g).output(gradName);
      graph.addOutput(named);
      out.put(name, named.name());
    }
    return out;
  }

  /** Configures a {@link GradientBuilder}. */
  public static final class Builder {
    private final Graph graph;
    private String loss;
    private final List<String> parameters = new ArrayList<>();
    private final List<Map<String, Tensor>> probes = new ArrayList<>();
    private SessionConfig config =
        SessionConfig.builder().optOptimizationLevel(OptimizationLevel.BASIC).build();

    private Builder(Graph graph) {
      this.graph = Objects.requireNonNull(graph, "graph");
    }

    /**
     * Sets the value to differentiate (its elements are summed).
     *
     * @param name a float value of the graph
     * @return this builder
     */
    public Builder loss(String name) {
      this.loss = Objects.requireNonNull(name, "loss");
      return this;
    }

    /**
     * Adds parameters to differentiate with respect to.
     *
     * @param names graph inputs or initializers of float type
     * @return this builder
     */
    public Builder parameters(Collection<String> names) {
      parameters.addAll(names);
      return this;
    }

    /**
     * Adds a probe feed: a value for every graph input. Give two feeds with different dynamic sizes
     * (each at least 2) so that dynamic dimensions are told from static ones.
     *
     * @param feed input name to tensor
     * @return this builder
     */
    public Builder probe(Map<String, Tensor> feed) {
      probes.add(Map.copyOf(feed));
      return this;
    }

    /**
     * Sets the ONNX Runtime session options of the shape probe.
     *
     * @param config the options; default {@link SessionConfig#defaults()}
     * @return this builder
     */
    public Builder optSessionConfig(SessionConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Builds the gradients (see {@link GradientBuilder#build()}).
     *
     * @return parameter name to gradient output name
     */
    public Map<String, String> build() {
      Checks.checkState(loss != null, "Expected a loss value, found none (call loss(name))");
      Checks.checkArgument(!parameters.isEmpty(), "Expected at least one parameter, found none");
      Checks.checkArgument(!probes.isEmpty(), "Expected at least one probe feed, found none");
      return new GradientBuilder(this).build();
    }
  }
}
