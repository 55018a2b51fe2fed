package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import java.util.List;
import java.util.Objects;

/**
 * One trainable parameter of a policy: its initializer name and static shape.
 *
 * @param name the initializer name, e.g. {@code "h.0.attn.c_attn.weight"}
 * @param shape the size of each axis, each {@code >= 1}; copied
 */
public record ParameterSpec(String name, List<Long> shape) {
  /**
   * Validates and copies the components.
   *
   * @param name see the record description
   * @param shape see the record description
   * @throws IllegalArgumentException when the name is empty or a size below 1
   */
  public ParameterSpec {
    Objects.requireNonNull(name, "name");
    Checks.checkArgument(!name.isEmpty(), "Expected a non-empty parameter name, found ''");
    shape = List.copyOf(shape);
    for (Long size : shape) {
      Checks.checkArgument(
          size >= 1, "Expected sizes >= 1 for parameter '%s', found %s", name, shape);
    }
  }

  /**
   * Returns a spec from an array of sizes.
   *
   * @param name the initializer name
   * @param dims the sizes
   * @return the spec
   */
  public static ParameterSpec of(String name, long... dims) {
    Long[] boxed = new Long[dims.length];
    for (int i = 0; i < dims.length; i++) {
      boxed[i] = dims[i];
    }
    return new ParameterSpec(name, List.of(boxed));
  }

  /**
   * Returns the sizes as an array.
   *
   * @return a new array
   */
  public long[] dims() {
    return shape.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Returns the number of elements.
   *
   * @return the product of the sizes (1 for a scalar)
   */
  public long elementCount() {
    long count = 1;
    for (long size : shape) {
      count = Math.multiplyExact(count, size);
    }
    return count;
  }
}
