package dev.jbond.onnx.graph;

import dev.jbond.onnx.proto.AttributeProto.AttributeType;
import dev.jbond.onnx.proto.NodeProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One operator application in a {@link Graph}: op type and domain, positional inputs and outputs
 * (either of which may be absent, as ONNX's empty names allow for optional ones), and attributes.
 * Nodes are created through {@link Graph#node(String)} or by loading a model; inputs and attributes
 * can be changed afterwards, outputs cannot.
 */
public final class Node {
  private final Graph graph;
  private NodeProto header;
  private final List<Value> inputs;
  private final List<Value> outputs;
  private final Map<String, Attribute> attributes = new LinkedHashMap<>();
  private List<Value> implicitInputs = List.of();

  Node(Graph graph, NodeProto header, List<Value> outputs) {
    this.graph = graph;
    this.header = header;
    this.inputs = new ArrayList<>();
    this.outputs = Collections.unmodifiableList(new ArrayList<>(outputs));
  }

  /**
   * Returns the graph that owns this node.
   *
   * @return the graph
   */
  public Graph graph() {
    return graph;
  }

  /**
   * Returns the operator type, e.g. {@code "MatMul"}.
   *
   * @return the op type
   */
  public String opType() {
    return header.getOpType();
  }

  /**
   * Returns the operator domain; the empty string is the standard ONNX domain.
   *
   * @return the domain
   */
  public String domain() {
    return header.getDomain();
  }

  /**
   * Returns the node name (unique within graphs built by this API; may be empty in loaded models).
   *
   * @return the name
   */
  public String name() {
    return header.getName();
  }

  /**
   * Returns the number of input positions, absent ones included.
   *
   * @return the input count
   */
  public int inputCount() {
    return inputs.size();
  }

  /**
   * Whether input {@code index} is present.
   *
   * @param index an input position
   * @return false when the position is absent or beyond {@link #inputCount()}
   */
  public boolean hasInput(int index) {
    return index >= 0 && index < inputs.size() && inputs.get(index) != null;
  }

  /**
   * Returns input {@code index}.
   *
   * @param index an input position
   * @return the value
   * @throws IllegalArgumentException when the input is absent or out of range
   */
  public Value input(int index) {
    if (!hasInput(index)) {
      throw new IllegalArgumentException(
          "Expected input "
              + index
              + " of "
              + this
              + ", found it absent (inputs: "
              + inputNames()
              + ")");
    }
    return inputs.get(index);
  }

  /**
   * Returns the present inputs in order.
   *
   * @return the inputs, absent positions skipped
   */
  public List<Value> presentInputs() {
    return inputs.stream().filter(Objects::nonNull).toList();
  }

  /**
   * Returns the input names, with {@code ""} for absent positions.
   *
   * @return one name per position
   */
  public List<String> inputNames() {
    return inputs.stream().map(v -> v == null ? "" : v.name()).toList();
  }

  /**
   * Returns the number of output positions, absent ones included.
   *
   * @return the output count
   */
  public int outputCount() {
    return outputs.size();
  }

  /**
   * Whether output {@code index} is present.
   *
   * @param index an output position
   * @return false when the position is absent or beyond {@link #outputCount()}
   */
  public boolean hasOutput(int index) {
    return index >= 0 && index < outputs.size() && outputs.get(index) != null;
  }

  /**
   * Returns output {@code index}.
   *
   * @param index an output position
   * @return the value
   * @throws IllegalArgumentException when the output is absent or out of range
   */
  public Value output(int index) {
    if (!hasOutput(index)) {
      throw new IllegalArgumentException(
          "Expected output "
              + index
              + " of "
              + this
              + ", found it absent (outputs: "
              + outputNames()
              + ")");
    }
    return outputs.get(index);
  }

  /**
   * Returns the present outputs in order.
   *
   * @return the outputs, absent positions skipped
   */
  public List<Value> presentOutputs() {
    return outputs.stream().filter(Objects::nonNull).toList();
  }

  /**
   * Returns the output names, with {@code ""} for absent positions.
   *
   * @return one name per position
   */
  public List<String> outputNames() {
    return outputs.stream().map(v -> v == null ? "" : v.name()).toList();
  }

  /**
   * Returns the values that subgraph attributes (of {@code If}, {@code Loop}, {@code Scan}) read
   * from this graph's scope.
   *
   * @return the outer-scope values the node reads implicitly
   */
  public List<Value> implicitInputs() {
    return implicitInputs;
  }

  /**
   * Returns the attribute named {@code name}.
   *
   * @param name the attribute name
   * @return the attribute, or empty
   */
  public Optional<Attribute> attribute(String name) {
    return Optional.ofNullable(attributes.get(name));
  }

  /**
   * Returns all attributes in order.
   *
   * @return the attributes
   */
  public List<Attribute> attributes() {
    return List.copyOf(attributes.values());
  }

  /**
   * Returns an INT attribute, or {@code defaultValue} when it is absent.
   *
   * @param name the attribute name
   * @param defaultValue the op's default
   * @return the value
   * @throws IllegalStateException when the attribute exists with another type
   */
  public long intAttribute(String name, long defaultValue) {
    Attribute attribute = attributes.get(name);
    return attribute == null ? defaultValue : attribute.asInt();
  }

  /**
   * Returns a FLOAT attribute, or {@code defaultValue} when it is absent.
   *
   * @param name the attribute name
   * @param defaultValue the op's default
   * @return the value
   * @throws IllegalStateException when the attribute exists with another type
   */
  public float floatAttribute(String name, float defaultValue) {
    Attribute attribute = attributes.get(name);
    return attribute == null ? defaultValue : attribute.asFloat();
  }

  /**
   * Returns an INTS attribute, or empty when it is absent.
   *
   * @param name the attribute name
   * @return a new array, or empty
   * @throws IllegalStateException when the attribute exists with another type
   */
  public Optional<long[]> intsAttribute(String name) {
    Attribute attribute = attributes.get(name);
    return attribute == null ? Optional.empty() : Optional.of(attribute.asInts());
  }

  /**
   * Adds or replaces an attribute.
   *
   * @param attribute the attribute
   */
  public void setAttribute(Attribute attribute) {
    graph.checkOwns(this);
    attributes.put(attribute.name(), attribute);
    graph.attributesChanged(this);
  }

  /**
   * Removes an attribute, if present.
   *
   * @param name the attribute name
   */
  public void removeAttribute(String name) {
    graph.checkOwns(this);
    if (attributes.remove(name) != null) {
      graph.attributesChanged(this);
    }
  }

  /**
   * Replaces input {@code index}, or clears it when {@code value} is null.
   *
   * @param index an input position in {@code [0, inputCount()]}; {@code inputCount()} appends
   * @param value the new input, or null for an absent optional input
   * @throws IllegalArgumentException when the index is out of range or the value is not in the
   *     graph
   */
  public void setInput(int index, Value value) {
    graph.checkOwns(this);
    if (index < 0 || index > inputs.size()) {
      throw new IllegalArgumentException(
          "Expected an input index in [0, " + inputs.size() + "] for " + this + ", found " + index);
    }
    if (value != null) {
      graph.checkOwns(value);
    }
    Value old = index < inputs.size() ? inputs.get(index) : null;
    if (index == inputs.size()) {
      inputs.add(value);
    } else {
      inputs.set(index, value);
    }
    graph.useChanged(this, old, value);
  }

  /**
   * Returns this node as ONNX's proto, with the name, doc string and metadata it was loaded with.
   *
   * @return the proto
   */
  public NodeProto toProto() {
    NodeProto.Builder proto = header.toBuilder();
    inputNames().forEach(proto::addInput);
    outputNames().forEach(proto::addOutput);
    attributes.values().forEach(a -> proto.addAttribute(a.toProto()));
    return proto.build();
  }

  NodeProto header() {
    return header;
  }

  void setHeader(NodeProto header) {
    this.header = header;
  }

  List<Value> rawInputs() {
    return inputs;
  }

  List<Value> rawOutputs() {
    return outputs;
  }

  Map<String, Attribute> rawAttributes() {
    return attributes;
  }

  void setImplicitInputs(List<Value> values) {
    implicitInputs = List.copyOf(values);
  }

  boolean hasGraphAttribute() {
    for (Attribute attribute : attributes.values()) {
      if (attribute.type() == AttributeType.GRAPH || attribute.type() == AttributeType.GRAPHS) {
        return true;
      }
    }
    return false;
  }

  /** Returns the node for messages, e.g. {@code node '/h.0/Add' (Add)}. */
  @Override
  public String toString() {
    String domain = header.getDomain().isEmpty() ? "" : header.getDomain() + ":";
    return "node '" + header.getName() + "' (" + domain + header.getOpType() + ")";
  }
}
