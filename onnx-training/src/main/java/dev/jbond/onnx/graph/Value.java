package dev.jbond.onnx.graph;

import dev.jbond.onnx.proto.ValueInfoProto;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A named value of one {@link Graph}: a graph input, an initializer or a node output. Values are
 * created by their graph and compared by identity; a value's name never changes.
 *
 * <p>A value may carry a type note ({@link #type()}): element type and what is known of its shape.
 * Notes come from the model file (graph inputs, outputs and {@code value_info}), from the builder's
 * own rules for the ops it emits, or from {@link #setType}. They are hints for graph builders, not
 * the result of full shape inference; a missing note means nothing is known.
 */
public final class Value {
  private final Graph graph;
  private final String name;
  private ValueInfoProto info;
  private TensorType note;

  Value(Graph graph, String name) {
    this.graph = graph;
    this.name = name;
  }

  /**
   * Returns the name.
   *
   * @return the value name, unique in its graph
   */
  public String name() {
    return name;
  }

  /**
   * Returns the graph that owns this value.
   *
   * @return the graph
   */
  public Graph graph() {
    return graph;
  }

  /**
   * Returns the type note, when one is known.
   *
   * @return the tensor type, or empty
   */
  public Optional<TensorType> type() {
    return Optional.ofNullable(note);
  }

  /**
   * Returns the element type, when it is known.
   *
   * @return the element type, or empty
   */
  public Optional<ElementType> elementType() {
    return note == null ? Optional.empty() : Optional.of(note.elementType());
  }

  /**
   * Returns what is known of the shape.
   *
   * @return the shape, of unknown rank when nothing is known
   */
  public Shape shape() {
    return note == null ? Shape.unknownRank() : note.shape();
  }

  /**
   * Sets the type note. For graph inputs and outputs and values with a {@code value_info} entry,
   * the type written to the model changes too.
   *
   * @param type the type
   */
  public void setType(TensorType type) {
    Objects.requireNonNull(type, "type");
    note = type;
    if (info != null) {
      info = info.toBuilder().setType(TypeProtos.toProto(type)).build();
    }
  }

  /**
   * Returns the node that produces this value.
   *
   * @return the producer, or empty for graph inputs and initializers
   */
  public Optional<Node> producer() {
    return graph.producer(this);
  }

  /**
   * Returns the nodes that read this value, in the order their uses were added.
   *
   * @return the distinct consumers
   */
  public List<Node> consumers() {
    return graph.consumers(this);
  }

  /**
   * Whether this value is a graph input.
   *
   * @return true for graph inputs (including inputs that also have an initializer)
   */
  public boolean isGraphInput() {
    return graph.inputs().contains(this);
  }

  /**
   * Whether this value is a graph output.
   *
   * @return true for graph outputs
   */
  public boolean isGraphOutput() {
    return graph.outputs().contains(this);
  }

  /**
   * Whether this value has an initializer.
   *
   * @return true for initializers
   */
  public boolean isInitializer() {
    return graph.initializers().containsKey(name);
  }

  ValueInfoProto info() {
    return info;
  }

  void setInfo(ValueInfoProto info) {
    this.info = info;
    if (info != null && info.hasType()) {
      TypeProtos.parse(info.getType()).ifPresent(t -> note = t);
    }
  }

  void setNoteIfAbsent(TensorType type) {
    if (note == null && type != null) {
      note = type;
    }
  }

  /** Returns the name and type note, e.g. {@code 'logits' FLOAT [batch, sequence, 64]}. */
  @Override
  public String toString() {
    return "'" + name + "'" + (note == null ? "" : " " + note);
  }
}
