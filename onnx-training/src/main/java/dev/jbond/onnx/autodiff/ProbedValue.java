package dev.jbond.onnx.autodiff;

import dev.jbond.onnx.graph.ElementType;
import java.util.Arrays;
import java.util.List;

/**
 * What shape probing learned about one value: its element type and its concrete dimensions in each
 * probe run. Dimensions that differ between probes are dynamic; the rank never changes.
 */
final class ProbedValue {
  private final ElementType elementType;
  private final List<long[]> dims;

  ProbedValue(ElementType elementType, List<long[]> dims) {
    this.elementType = elementType;
    this.dims = List.copyOf(dims);
  }

  ElementType elementType() {
    return elementType;
  }

  int rank() {
    return dims.get(0).length;
  }

  /** Dimensions in each probe, one array per probe. */
  List<long[]> dims() {
    return dims;
  }

  boolean isFloat() {
    return elementType == ElementType.FLOAT
        || elementType == ElementType.DOUBLE
        || elementType == ElementType.FLOAT16
        || elementType == ElementType.BFLOAT16;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(elementType.toString());
    for (long[] d : dims) {
      sb.append(Arrays.toString(d));
    }
    return sb.toString();
  }
}
