package dev.jbond.onnx.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The shape of a tensor value as far as it is known: either an unknown rank, or one {@link Dim} per
 * axis (each fixed, symbolic or unknown). Immutable.
 */
public final class Shape {
  private static final Shape UNKNOWN_RANK = new Shape(null);
  private static final Shape SCALAR = new Shape(List.of());

  private final List<Dim> dims;

  private Shape(List<Dim> dims) {
    this.dims = dims;
  }

  /**
   * Returns a static shape.
   *
   * @param sizes the size of each axis, each {@code >= 0}
   * @return the shape
   * @throws IllegalArgumentException when a size is negative
   */
  public static Shape of(long... sizes) {
    List<Dim> dims = new ArrayList<>(sizes.length);
    for (long size : sizes) {
      dims.add(Dim.of(size));
    }
    return new Shape(List.copyOf(dims));
  }

  /**
   * Returns a shape of known rank.
   *
   * @param dims one dimension per axis
   * @return the shape
   */
  public static Shape of(Dim... dims) {
    return new Shape(List.of(dims));
  }

  /**
   * Returns a shape of known rank.
   *
   * @param dims one dimension per axis
   * @return the shape
   */
  public static Shape of(List<Dim> dims) {
    return new Shape(List.copyOf(dims));
  }

  /**
   * Returns the shape of a scalar (rank 0).
   *
   * @return the shape
   */
  public static Shape scalar() {
    return SCALAR;
  }

  /**
   * Returns the shape whose rank is unknown.
   *
   * @return the shape
   */
  public static Shape unknownRank() {
    return UNKNOWN_RANK;
  }

  /**
   * Returns a shape of known rank whose dimensions are all unknown.
   *
   * @param rank the rank, {@code >= 0}
   * @return the shape
   */
  public static Shape unknownDims(int rank) {
    Dim[] dims = new Dim[rank];
    Arrays.fill(dims, Dim.unknown());
    return of(dims);
  }

  /**
   * Whether the rank is known.
   *
   * @return true when {@link #dims()} may be called
   */
  public boolean isRankKnown() {
    return dims != null;
  }

  /**
   * Returns the rank, or -1 when it is unknown.
   *
   * @return the number of axes, or -1
   */
  public int rank() {
    return dims == null ? -1 : dims.size();
  }

  /**
   * Returns the dimensions.
   *
   * @return one dimension per axis
   * @throws IllegalStateException when the rank is unknown
   */
  public List<Dim> dims() {
    checkRankKnown();
    return dims;
  }

  /**
   * Returns the dimension of {@code axis}; negative axes count from the end.
   *
   * @param axis an axis in {@code [-rank, rank)}
   * @return the dimension
   * @throws IllegalStateException when the rank is unknown
   * @throws IllegalArgumentException when the axis is out of range
   */
  public Dim dim(int axis) {
    return dims.get(normalizeAxis(axis));
  }

  /**
   * Returns {@code axis} as a non-negative axis.
   *
   * @param axis an axis in {@code [-rank, rank)}
   * @return the axis in {@code [0, rank)}
   * @throws IllegalStateException when the rank is unknown
   * @throws IllegalArgumentException when the axis is out of range
   */
  public int normalizeAxis(long axis) {
    checkRankKnown();
    int rank = dims.size();
    if (axis < -rank || axis >= rank) {
      throw new IllegalArgumentException(
          "Expected an axis in ["
              + -rank
              + ", "
              + rank
              + ") for shape "
              + this
              + ", found "
              + axis);
    }
    return (int) (axis < 0 ? axis + rank : axis);
  }

  /**
   * Whether every dimension is fixed.
   *
   * @return true when the rank is known and all dimensions are {@link Dim.Fixed}
   */
  public boolean isStatic() {
    return dims != null && dims.stream().allMatch(Dim::isFixed);
  }

  /**
   * Returns the sizes of a static shape.
   *
   * @return one size per axis
   * @throws IllegalStateException when the shape is not static
   */
  public long[] toArray() {
    if (!isStatic()) {
      throw new IllegalStateException("Expected a static shape, found " + this);
    }
    return dims.stream().mapToLong(d -> ((Dim.Fixed) d).size()).toArray();
  }

  /**
   * Returns the number of elements of a static shape.
   *
   * @return the product of the sizes (1 for a scalar)
   * @throws IllegalStateException when the shape is not static
   */
  public long elementCount() {
    long count = 1;
    for (long size : toArray()) {
      count = Math.multiplyExact(count, size);
    }
    return count;
  }

  private void checkRankKnown() {
    if (dims == null) {
      throw new IllegalStateException("Expected a shape of known rank, found an unknown rank");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape other && Objects.equals(dims, other.dims);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(dims);
  }

  /** Returns the shape as {@code [batch, 7, ?]}, or {@code [*]} when the rank is unknown. */
  @Override
  public String toString() {
    return dims == null ? "[*]" : dims.toString();
  }
}
