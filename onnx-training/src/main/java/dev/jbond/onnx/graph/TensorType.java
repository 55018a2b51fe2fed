package dev.jbond.onnx.graph;

import java.util.Objects;

/**
 * The type of a tensor value: its element type and what is known of its shape.
 *
 * @param elementType the element type
 * @param shape the shape, possibly of unknown rank
 */
public record TensorType(ElementType elementType, Shape shape) {
  /**
   * Validates the components.
   *
   * @param elementType see the record description
   * @param shape see the record description
   * @throws NullPointerException when a component is null
   */
  public TensorType {
    Objects.requireNonNull(elementType, "elementType");
    Objects.requireNonNull(shape, "shape");
  }

  /**
   * Returns a tensor type with a static shape.
   *
   * @param elementType the element type
   * @param sizes the size of each axis
   * @return the type
   */
  public static TensorType of(ElementType elementType, long... sizes) {
    return new TensorType(elementType, Shape.of(sizes));
  }

  /**
   * Returns a tensor type of known rank.
   *
   * @param elementType the element type
   * @param dims one dimension per axis
   * @return the type
   */
  public static TensorType of(ElementType elementType, Dim... dims) {
    return new TensorType(elementType, Shape.of(dims));
  }

  /**
   * Returns the type of a scalar (rank 0).
   *
   * @param elementType the element type
   * @return the type
   */
  public static TensorType scalar(ElementType elementType) {
    return new TensorType(elementType, Shape.scalar());
  }

  /**
   * Returns a tensor type of unknown rank.
   *
   * @param elementType the element type
   * @return the type
   */
  public static TensorType unknownShape(ElementType elementType) {
    return new TensorType(elementType, Shape.unknownRank());
  }

  @Override
  public String toString() {
    return elementType + " " + shape;
  }
}
