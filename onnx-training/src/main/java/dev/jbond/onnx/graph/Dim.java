package dev.jbond.onnx.graph;

import java.util.Objects;

/**
 * One axis of a {@link Shape}: a fixed size, a symbolic name that stands for a size fixed at run
 * time (such as {@code "batch"}), or unknown.
 */
public sealed interface Dim permits Dim.Fixed, Dim.Symbolic, Dim.Unknown {
  /**
   * Returns a fixed size.
   *
   * @param size the size, {@code >= 0}
   * @return the dimension
   * @throws IllegalArgumentException when {@code size} is negative
   */
  static Dim of(long size) {
    return new Fixed(size);
  }

  /**
   * Returns a symbolic dimension.
   *
   * @param name the symbol, non-empty
   * @return the dimension
   * @throws IllegalArgumentException when {@code name} is empty
   */
  static Dim symbolic(String name) {
    return new Symbolic(name);
  }

  /**
   * Returns the unknown dimension.
   *
   * @return the dimension
   */
  static Dim unknown() {
    return Unknown.INSTANCE;
  }

  /**
   * Whether the size is a known number.
   *
   * @return true for {@link Fixed}
   */
  default boolean isFixed() {
    return this instanceof Fixed;
  }

  /**
   * A dimension of known size.
   *
   * @param size the size, {@code >= 0}
   */
  record Fixed(long size) implements Dim {
    /**
     * Validates the size.
     *
     * @param size see the record description
     * @throws IllegalArgumentException when {@code size} is negative
     */
    public Fixed {
      if (size < 0) {
        throw new IllegalArgumentException("Expected a dimension size >= 0, found " + size);
      }
    }

    @Override
    public String toString() {
      return Long.toString(size);
    }
  }

  /**
   * A dimension named by a symbol; equal symbols in one graph stand for equal sizes.
   *
   * @param name the symbol, non-empty
   */
  record Symbolic(String name) implements Dim {
    /**
     * Validates the name.
     *
     * @param name see the record description
     * @throws IllegalArgumentException when {@code name} is empty
     */
    public Symbolic {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("Expected a non-empty dimension symbol, found ''");
      }
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A dimension about which nothing is known. */
  final class Unknown implements Dim {
    private static final Unknown INSTANCE = new Unknown();

    private Unknown() {}

    @Override
    public String toString() {
      return "?";
    }
  }
}
