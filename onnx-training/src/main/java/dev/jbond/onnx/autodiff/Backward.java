package dev.jbond.onnx.autodiff;

import dev.jbond.VerificationException;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The state of one reverse pass and the helpers gradient rules share: gradient accumulation, typed
 * constants, shape plumbing, and "unbroadcast" (summing a gradient back to the shape of an operand
 * that was broadcast).
 */
final class Backward {
  private final Graph graph;
  private final Ops ops;
  private final Map<String, ProbedValue> probed;
  private final Set<Value> requiresGrad;
  private final Map<Value, List<Value>> contributions = new HashMap<>();
  private final Map<Value, Value> shapes = new HashMap<>();

  Backward(Graph graph, Map<String, ProbedValue> probed, Set<Value> requiresGrad) {
    this.graph = graph;
    this.ops = graph.ops();
    this.probed = probed;
    this.requiresGrad = requiresGrad;
  }

  Graph graph() {
    return graph;
  }

  Ops ops() {
    return ops;
  }

  /** Whether {@code v} carries a gradient (depends on a parameter through differentiable ops). */
  boolean needs(Value v) {
    return requiresGrad.contains(v);
  }

  /** Adds {@code grad} to the gradient of {@code v}, if {@code v} needs one. */
  void accumulate(Value v, Value grad) {
    if (needs(v)) {
      contributions.computeIfAbsent(v, k -> new ArrayList<>()).add(grad);
    }
  }

  boolean hasGradient(Value v) {
    return contributions.containsKey(v);
  }

  /** The summed gradient of {@code v}, or null when nothing flowed into it. */
  Value gradient(Value v) {
    List<Value> parts = contributions.get(v);
    if (parts == null) {
      return null;
    }
    if (parts.size() > 1) {
      Value sum = graph.node("Sum").inputs(parts).output();
      parts.clear();
      parts.add(sum);
    }
    return parts.get(0);
  }

  ProbedValue info(Value v) {
    ProbedValue p = probed.get(v.name());
    if (p == null) {
      throw new VerificationException(
          "Expected probed shape information for value '" + v.name() + "', found none");
    }
    return p;
  }

  int rank(Value v) {
    return info(v).rank();
  }

  ElementType type(Value v) {
    return info(v).elementType();
  }

  /** A scalar constant of {@code like}'s float type. */
  Value scalar(double value, Value like) {
    ElementType t = type(like);
    return switch (t) {
      case DOUBLE -> graph.constant(Tensor.doubleScalar(value));
      case FLOAT -> graph.constant(Tensor.floatScalar((float) value));
      default ->
          throw new IllegalArgumentException(
              "Expected a FLOAT or DOUBLE value for a gradient, found "
                  + t
                  + " for '"
                  + like.name()
                  + "'");
    };
  }

  /** {@code Shape(v)}, emitted once per value. */
  Value shape(Value v) {
    return shapes.computeIfAbsent(v, ops::shape);
  }

  /** Zeros shaped like {@code v}. */
  Value zerosLike(Value v) {
    return zeros(shape(v), v);
  }

  /** Zeros of shape {@code shape} (an int64 shape value) and of {@code like}'s float type. */
  Value zeros(Value shape, Value like) {
    Tensor fill =
        type(like) == ElementType.DOUBLE
            ? Tensor.doubles(new long[] {1}, 0.0)
            : Tensor.floats(new long[] {1}, 0f);
    return ops.constantOfShape(shape, fill);
  }

  /** {@code Slice(x, starts, ends[, axes[, steps]])}; trailing nulls are omitted. */
  Value slice(Value x, Value starts, Value ends, Value axes, Value steps) {
    var node = graph.node("Slice").inputs(x, starts, ends);
    if (axes != null) {
      node.input(axes);
      if (steps != null) {
        node.input(steps);
      }
    }
    return node.output();
  }

  /** Int64 1-D constant. */
  Value longs(long... values) {
    return graph.constantLongs(values);
  }

  /**
   * Sums {@code grad} (whose dimensions per probe are {@code gradDims}) back to the shape of
   * operand {@code x}: over the leading axes {@code x} lacks and over the axes where {@code x} has
   * size 1 but the gradient does not.
   */
  Value unbroadcast(Value grad, List<long[]> gradDims, Value x) {
    List<long[]> xDims = info(x).dims();
    int ry = gradDims.get(0).length;
    int rx = xDims.get(0).length;
    if (rx > ry) {
      throw new VerificationException(
          "Expected operand '" + x.name() + "' of rank <= " + ry + ", found rank " + rx);
    }
    TreeSet<Long> axes = new TreeSet<>();
    for (int i = 0; i < ry - rx; i++) {
      axes.add((long) i);
    }
    for (int i = 0; i < rx; i++) {
      int gi = i + ry - rx;
      for (int p = 0; p < gradDims.size(); p++) {
        if (xDims.get(p)[i] == 1 && gradDims.get(p)[gi] != 1) {
          axes.add((long) gi);
        }
      }
    }
    if (axes.isEmpty()) {
      return grad;
    }
    long[] a = axes.stream().mapToLong(Long::longValue).toArray();
    Value reduced = ops.reduceSum(grad, true, a);
    return rx == ry ? reduced : ops.reshape(reduced, shape(x));
  }

  /** Unbroadcast for a gradient shaped like the forward value {@code y}. */
  Value unbroadcast(Value grad, Value y, Value x) {
    return unbroadcast(grad, info(y).dims(), x);
  }

  /** Permutation swapping the last two axes of a rank-{@code r} tensor. */
  static long[] swapLastTwo(int r) {
    long[] perm = new long[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return perm;
  }

  /** An axis attribute normalised against {@code rank}. */
  static int normalize(long axis, int rank) {
    return (int) (axis < 0 ? axis + rank : axis);
  }

  /** The constant int64 values of an optional input, or null when absent. */
  long[] constantLongs(Node node, int index) {
    if (!node.hasInput(index)) {
      return null;
    }
    Value v = node.input(index);
    return graph
        .constantValue(v)
        .map(Tensor::toLongValues)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "Expected a constant input "
                        + index
                        + " ('"
                        + v.name()
                        + "') of "
                        + node.opType()
                        + " node '"
                        + node.name()
                        + "' for its gradient, found a computed value"));
  }
}
