package dev.jbond.onnx.graph;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.proto.GraphProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Emits one node into a {@link Graph}: set inputs, attributes, and optionally a domain and name,
 * then call one of the {@code output}/{@code outputs} methods, which add the node and return its
 * output values. A builder adds at most one node.
 *
 * <pre>{@code
 * Value y = g.node("Gemm").inputs(a, b, c).intAttr("transB", 1).output();
 * List<Value> qkv = g.node("Split").input(x).intAttr("axis", 2).outputs(3);
 * }</pre>
 *
 * <p>Unnamed nodes are named after their op type ({@code "MatMul"}, {@code "MatMul_1"}, ...) and
 * unnamed outputs after their node ({@code "MatMul_1_output_0"}).
 */
public final class NodeBuilder {
  private final Graph graph;
  private final String opType;
  private String domain = "";
  private String name;
  private final List<Value> inputs = new ArrayList<>();
  private final Map<String, Attribute> attributes = new LinkedHashMap<>();
  private boolean built;

  NodeBuilder(Graph graph, String opType) {
    Objects.requireNonNull(opType, "opType");
    Checks.checkArgument(!opType.isEmpty(), "Expected a non-empty op type, found ''");
    this.graph = graph;
    this.opType = opType;
  }

  /**
   * Sets the operator domain (default: the standard domain {@code ""}).
   *
   * @param domain the domain, e.g. {@code "com.microsoft"}
   * @return this builder
   */
  public NodeBuilder domain(String domain) {
    this.domain = Objects.requireNonNull(domain, "domain");
    return this;
  }

  /**
   * Sets the node name (default: a unique name derived from the op type).
   *
   * @param name the name, unique among the graph's nodes
   * @return this builder
   */
  public NodeBuilder name(String name) {
    this.name = Objects.requireNonNull(name, "name");
    return this;
  }

  /**
   * Appends an input.
   *
   * @param value the input value, from the same graph
   * @return this builder
   */
  public NodeBuilder input(Value value) {
    inputs.add(Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Appends inputs.
   *
   * @param values the input values, from the same graph
   * @return this builder
   */
  public NodeBuilder inputs(Value... values) {
    for (Value value : values) {
      input(value);
    }
    return this;
  }

  /**
   * Appends inputs.
   *
   * @param values the input values, from the same graph
   * @return this builder
   */
  public NodeBuilder inputs(List<Value> values) {
    values.forEach(this::input);
    return this;
  }

  /**
   * Appends an absent optional input (an empty name in the model).
   *
   * @return this builder
   */
  public NodeBuilder noInput() {
    inputs.add(null);
    return this;
  }

  /**
   * Sets an INT attribute.
   *
   * @param name the attribute name
   * @param value the value
   * @return this builder
   */
  public NodeBuilder intAttr(String name, long value) {
    return attr(Attribute.ofInt(name, value));
  }

  /**
   * Sets a FLOAT attribute.
   *
   * @param name the attribute name
   * @param value the value
   * @return this builder
   */
  public NodeBuilder floatAttr(String name, float value) {
    return attr(Attribute.ofFloat(name, value));
  }

  /**
   * Sets an INTS attribute.
   *
   * @param name the attribute name
   * @param values the values
   * @return this builder
   */
  public NodeBuilder intsAttr(String name, long... values) {
    return attr(Attribute.ofInts(name, values));
  }

  /**
   * Sets a FLOATS attribute.
   *
   * @param name the attribute name
   * @param values the values
   * @return this builder
   */
  public NodeBuilder floatsAttr(String name, float... values) {
    return attr(Attribute.ofFloats(name, values));
  }

  /**
   * Sets a STRING attribute.
   *
   * @param name the attribute name
   * @param value the value
   * @return this builder
   */
  public NodeBuilder stringAttr(String name, String value) {
    return attr(Attribute.ofString(name, value));
  }

  /**
   * Sets a TENSOR attribute.
   *
   * @param name the attribute name
   * @param value the tensor
   * @return this builder
   */
  public NodeBuilder tensorAttr(String name, Tensor value) {
    return attr(Attribute.ofTensor(name, value));
  }

  /**
   * Sets a GRAPH attribute.
   *
   * @param name the attribute name
   * @param value the subgraph
   * @return this builder
   */
  public NodeBuilder graphAttr(String name, GraphProto value) {
    return attr(Attribute.ofGraph(name, value));
  }

  /**
   * Sets an attribute.
   *
   * @param attribute the attribute; one with the same name is replaced
   * @return this builder
   */
  public NodeBuilder attr(Attribute attribute) {
    attributes.put(attribute.name(), attribute);
    return this;
  }

  /**
   * Adds the node with one output, named automatically.
   *
   * @return the output
   * @throws IllegalArgumentException when an input is not in the graph or the node name is taken
   * @throws IllegalStateException when this builder already added its node
   */
  public Value output() {
    return outputs(1).get(0);
  }

  /**
   * Adds the node with one output named {@code outputName}.
   *
   * @param outputName the output name, not yet used in the graph
   * @return the output
   * @throws IllegalArgumentException when the name is already used, an input is not in the graph or
   *     the node name is taken
   * @throws IllegalStateException when this builder already added its node
   */
  public Value output(String outputName) {
    return outputs(outputName).get(0);
  }

  /**
   * Adds the node with {@code count} outputs, named automatically.
   *
   * @param count the number of outputs, {@code >= 1}
   * @return the outputs in order
   * @throws IllegalArgumentException when an input is not in the graph or the node name is taken
   * @throws IllegalStateException when this builder already added its node
   */
  public List<Value> outputs(int count) {
    Checks.checkAtLeast(count, 1, "output count of " + opType);
    String[] names = new String[count];
    return build(names);
  }

  /**
   * Adds the node with outputs named {@code outputNames}; an empty name leaves that optional output
   * absent (its place in the returned list is null).
   *
   * @param outputNames the output names, not yet used in the graph
   * @return the outputs in order
   * @throws IllegalArgumentException when a name is already used, an input is not in the graph or
   *     the node name is taken
   * @throws IllegalStateException when this builder already added its node
   */
  public List<Value> outputs(String... outputNames) {
    Checks.checkArgument(
        outputNames.length > 0, "Expected at least one output name for %s, found none", opType);
    for (String outputName : outputNames) {
      Objects.requireNonNull(outputName, "outputName");
    }
    return build(Arrays.copyOf(outputNames, outputNames.length));
  }

  private List<Value> build(String[] outputNames) {
    Checks.checkState(
        !built, "Expected a fresh NodeBuilder for %s, found one already used", opType);
    built = true;
    Node node = graph.addNode(opType, domain, name, inputs, Arrays.asList(outputNames), attributes);
    return node.rawOutputs();
  }
}
