package dev.jbond.onnx.graph;

import com.google.protobuf.ByteString;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.proto.AttributeProto;
import dev.jbond.onnx.proto.AttributeProto.AttributeType;
import dev.jbond.onnx.proto.GraphProto;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * An immutable, named node attribute. It wraps ONNX's {@code AttributeProto}, so attributes read
 * from a file (including graph-valued and sparse ones) are written back unchanged, and offers typed
 * factories and accessors for the common kinds.
 */
public final class Attribute {
  private final AttributeProto proto;

  private Attribute(AttributeProto proto) {
    this.proto = proto;
  }

  /**
   * Wraps an attribute read from a model.
   *
   * @param proto the attribute
   * @return the attribute
   * @throws IllegalArgumentException when it has no name
   */
  public static Attribute fromProto(AttributeProto proto) {
    Checks.checkArgument(
        !proto.getName().isEmpty(), "Expected a named attribute, found %s", proto.getType());
    return new Attribute(proto);
  }

  /**
   * Returns an INT attribute.
   *
   * @param name the attribute name
   * @param value the value
   * @return the attribute
   */
  public static Attribute ofInt(String name, long value) {
    return new Attribute(build(name, AttributeType.INT).setI(value).build());
  }

  /**
   * Returns a FLOAT attribute.
   *
   * @param name the attribute name
   * @param value the value
   * @return the attribute
   */
  public static Attribute ofFloat(String name, float value) {
    return new Attribute(build(name, AttributeType.FLOAT).setF(value).build());
  }

  /**
   * Returns an INTS attribute.
   *
   * @param name the attribute name
   * @param values the values
   * @return the attribute
   */
  public static Attribute ofInts(String name, long... values) {
    AttributeProto.Builder builder = build(name, AttributeType.INTS);
    for (long value : values) {
      builder.addInts(value);
    }
    return new Attribute(builder.build());
  }

  /**
   * Returns a FLOATS attribute.
   *
   * @param name the attribute name
   * @param values the values
   * @return the attribute
   */
  public static Attribute ofFloats(String name, float... values) {
    AttributeProto.Builder builder = build(name, AttributeType.FLOATS);
    for (float value : values) {
      builder.addFloats(value);
    }
    return new Attribute(builder.build());
  }

  /**
   * Returns a STRING attribute, encoded as UTF-8.
   *
   * @param name the attribute name
   * @param value the value
   * @return the attribute
   */
  public static Attribute ofString(String name, String value) {
    return new Attribute(
        build(name, AttributeType.STRING)
            .setS(ByteString.copyFromUtf8(Objects.requireNonNull(value, "value")))
            .build());
  }

  /**
   * Returns a STRINGS attribute, each encoded as UTF-8.
   *
   * @param name the attribute name
   * @param values the values
   * @return the attribute
   */
  public static Attribute ofStrings(String name, String... values) {
    AttributeProto.Builder builder = build(name, AttributeType.STRINGS);
    for (String value : values) {
      builder.addStrings(ByteString.copyFromUtf8(value));
    }
    return new Attribute(builder.build());
  }

  /**
   * Returns a TENSOR attribute.
   *
   * @param name the attribute name
   * @param value the tensor
   * @return the attribute
   */
  public static Attribute ofTensor(String name, Tensor value) {
    return new Attribute(build(name, AttributeType.TENSOR).setT(value.toProto("")).build());
  }

  /**
   * Returns a GRAPH attribute (a subgraph, as in {@code If} or {@code Loop}).
   *
   * @param name the attribute name
   * @param value the subgraph
   * @return the attribute
   */
  public static Attribute ofGraph(String name, GraphProto value) {
    return new Attribute(build(name, AttributeType.GRAPH).setG(value).build());
  }

  private static AttributeProto.Builder build(String name, AttributeType type) {
    Objects.requireNonNull(name, "name");
    Checks.checkArgument(!name.isEmpty(), "Expected a non-empty attribute name, found ''");
    return AttributeProto.newBuilder().setName(name).setType(type);
  }

  /**
   * Returns the name.
   *
   * @return the attribute name
   */
  public String name() {
    return proto.getName();
  }

  /**
   * Returns the kind of value this attribute holds.
   *
   * @return the ONNX attribute type
   */
  public AttributeType type() {
    return proto.getType();
  }

  /**
   * Returns the value of an INT attribute.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is not INT
   */
  public long asInt() {
    checkType(AttributeType.INT);
    return proto.getI();
  }

  /**
   * Returns the value of a FLOAT attribute.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is not FLOAT
   */
  public float asFloat() {
    checkType(AttributeType.FLOAT);
    return proto.getF();
  }

  /**
   * Returns the values of an INTS attribute.
   *
   * @return a new array
   * @throws IllegalStateException when the attribute is not INTS
   */
  public long[] asInts() {
    checkType(AttributeType.INTS);
    return proto.getIntsList().stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Returns the values of a FLOATS attribute.
   *
   * @return a new array
   * @throws IllegalStateException when the attribute is not FLOATS
   */
  public float[] asFloats() {
    checkType(AttributeType.FLOATS);
    float[] out = new float[proto.getFloatsCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = proto.getFloats(i);
    }
    return out;
  }

  /**
   * Returns the value of a STRING attribute, decoded as UTF-8.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is not STRING
   */
  public String asString() {
    checkType(AttributeType.STRING);
    return proto.getS().toString(StandardCharsets.UTF_8);
  }

  /**
   * Returns the values of a STRINGS attribute, decoded as UTF-8.
   *
   * @return the values
   * @throws IllegalStateException when the attribute is not STRINGS
   */
  public List<String> asStrings() {
    checkType(AttributeType.STRINGS);
    return proto.getStringsList().stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList();
  }

  /**
   * Returns the value of a TENSOR attribute.
   *
   * @return the tensor
   * @throws IllegalStateException when the attribute is not TENSOR
   * @throws IllegalArgumentException when the tensor cannot be read (see {@link Tensor#fromProto})
   */
  public Tensor asTensor() {
    checkType(AttributeType.TENSOR);
    return Tensor.fromProto(proto.getT());
  }

  /**
   * Returns the value of a GRAPH attribute.
   *
   * @return the subgraph
   * @throws IllegalStateException when the attribute is not GRAPH
   */
  public GraphProto asGraph() {
    checkType(AttributeType.GRAPH);
    return proto.getG();
  }

  /**
   * Returns the attribute as ONNX's proto.
   *
   * @return the proto
   */
  public AttributeProto toProto() {
    return proto;
  }

  private void checkType(AttributeType expected) {
    if (proto.getType() != expected) {
      throw new IllegalStateException(
          "Expected attribute '"
              + proto.getName()
              + "' of type "
              + expected
              + ", found "
              + proto.getType());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attribute other && proto.equals(other.proto);
  }

  @Override
  public int hashCode() {
    return proto.hashCode();
  }

  /** Returns the name and type, e.g. {@code axis:INT}. */
  @Override
  public String toString() {
    return proto.getName() + ":" + proto.getType();
  }
}
