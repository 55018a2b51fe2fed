package dev.jbond.onnx.graph;

import dev.jbond.internal.Checks;
import java.util.List;
import java.util.Objects;

/**
 * Typed helpers for the standard ops that graph builders use most, bound to one {@link Graph} and
 * aware of its standard-domain opset. Where an op's signature changed between opsets the helper
 * emits the form the graph's opset expects:
 *
 * <ul>
 *   <li>{@code Squeeze}, {@code Unsqueeze}, {@code ReduceSum}: {@code axes} is an attribute up to
 *       opset 12 and an input from 13;
 *   <li>{@code ReduceMean} and the other reductions: {@code axes} is an attribute up to opset 17
 *       and an input from 18;
 *   <li>{@code Split}: {@code split} sizes are an attribute up to opset 12 and an input from 13; an
 *       equal split gives the number of parts by its output count up to opset 17 and by the {@code
 *       num_outputs} attribute from 18.
 * </ul>
 *
 * <p>Axes given as {@code long...} become attributes or {@code Constant} inputs as needed. Outputs
 * get type notes where the inputs' notes allow (see {@link Value#type()}).
 */
public final class Ops {
  private final Graph graph;

  Ops(Graph graph) {
    this.graph = graph;
  }

  /**
   * Returns the graph's standard-domain opset.
   *
   * @return the opset version
   */
  public long opset() {
    return graph.opset();
  }

  /**
   * {@code Add}: elementwise {@code a + b} with broadcasting.
   *
   * @param a the first operand
   * @param b the second operand
   * @return the sum
   */
  public Value add(Value a, Value b) {
    return graph.op("Add", a, b);
  }

  /**
   * {@code Sub}: elementwise {@code a - b} with broadcasting.
   *
   * @param a the first operand
   * @param b the second operand
   * @return the difference
   */
  public Value sub(Value a, Value b) {
    return graph.op("Sub", a, b);
  }

  /**
   * {@code Mul}: elementwise {@code a * b} with broadcasting.
   *
   * @param a the first operand
   * @param b the second operand
   * @return the product
   */
  public Value mul(Value a, Value b) {
    return graph.op("Mul", a, b);
  }

  /**
   * {@code Div}: elementwise {@code a / b} with broadcasting.
   *
   * @param a the dividend
   * @param b the divisor
   * @return the quotient
   */
  public Value div(Value a, Value b) {
    return graph.op("Div", a, b);
  }

  /**
   * {@code Pow}: elementwise {@code a ^ b} with broadcasting.
   *
   * @param a the base
   * @param b the exponent
   * @return the power
   */
  public Value pow(Value a, Value b) {
    return graph.op("Pow", a, b);
  }

  /**
   * {@code MatMul}: numpy-style matrix product with batch broadcasting.
   *
   * @param a the left operand
   * @param b the right operand
   * @return the product
   */
  public Value matMul(Value a, Value b) {
    return graph.op("MatMul", a, b);
  }

  /**
   * {@code Gemm}: {@code alpha * op(a) * op(b) + beta * c} on 2-D operands, {@code alpha = beta =
   * 1}.
   *
   * @param a the left operand, {@code [M, K]} (or {@code [K, M]} when {@code transA})
   * @param b the right operand, {@code [K, N]} (or {@code [N, K]} when {@code transB})
   * @param c the bias, broadcastable to {@code [M, N]}, or null for none
   * @param transA whether to transpose {@code a}
   * @param transB whether to transpose {@code b}
   * @return the product
   */
  public Value gemm(Value a, Value b, Value c, boolean transA, boolean transB) {
    NodeBuilder node = graph.node("Gemm").inputs(a, b);
    if (c != null) {
      node.input(c);
    }
    if (transA) {
      node.intAttr("transA", 1);
    }
    if (transB) {
      node.intAttr("transB", 1);
    }
    return node.output();
  }

  /**
   * {@code Neg}: elementwise {@code -x}.
   *
   * @param x the operand
   * @return the negation
   */
  public Value neg(Value x) {
    return graph.op("Neg", x);
  }

  /**
   * {@code Sqrt}: elementwise square root.
   *
   * @param x the operand
   * @return the square root
   */
  public Value sqrt(Value x) {
    return graph.op("Sqrt", x);
  }

  /**
   * {@code Exp}: elementwise exponential.
   *
   * @param x the operand
   * @return {@code e^x}
   */
  public Value exp(Value x) {
    return graph.op("Exp", x);
  }

  /**
   * {@code Log}: elementwise natural logarithm.
   *
   * @param x the operand
   * @return {@code ln x}
   */
  public Value log(Value x) {
    return graph.op("Log", x);
  }

  /**
   * {@code Tanh}: elementwise hyperbolic tangent.
   *
   * @param x the operand
   * @return {@code tanh x}
   */
  public Value tanh(Value x) {
    return graph.op("Tanh", x);
  }

  /**
   * {@code Identity}.
   *
   * @param x the operand
   * @return a copy of {@code x}
   */
  public Value identity(Value x) {
    return graph.op("Identity", x);
  }

  /**
   * {@code Cast} to another element type.
   *
   * @param x the operand
   * @param to the target element type
   * @return the converted tensor
   */
  public Value cast(Value x, ElementType to) {
    return graph.node("Cast").input(x).intAttr("to", to.code()).output();
  }

  /**
   * {@code Shape}: the shape of {@code x} as a 1-D INT64 tensor.
   *
   * @param x the operand
   * @return its shape
   */
  public Value shape(Value x) {
    return graph.op("Shape", x);
  }

  /**
   * {@code Reshape} to a shape given as a 1-D INT64 value.
   *
   * @param x the operand
   * @param shape the target shape ({@code 0} copies the input dimension, {@code -1} is inferred)
   * @return the reshaped tensor
   */
  public Value reshape(Value x, Value shape) {
    return graph.op("Reshape", x, shape);
  }

  /**
   * {@code Reshape} to a constant shape.
   *
   * @param x the operand
   * @param shape the target shape ({@code 0} copies the input dimension, {@code -1} is inferred)
   * @return the reshaped tensor
   */
  public Value reshape(Value x, long... shape) {
    return reshape(x, graph.constantLongs(shape));
  }

  /**
   * {@code Transpose} by a permutation.
   *
   * @param x the operand
   * @param perm output axis {@code i} is input axis {@code perm[i]}
   * @return the transposed tensor
   */
  public Value transpose(Value x, long... perm) {
    return graph.node("Transpose").input(x).intsAttr("perm", perm).output();
  }

  /**
   * {@code Gather}: entries of {@code data} along {@code axis} picked by {@code indices}.
   *
   * @param data the source
   * @param indices INT32 or INT64 indices
   * @param axis the axis of {@code data} to index
   * @return the gathered tensor, of shape {@code data[:axis] + indices + data[axis+1:]}
   */
  public Value gather(Value data, Value indices, long axis) {
    return graph.node("Gather").inputs(data, indices).intAttr("axis", axis).output();
  }

  /**
   * {@code Concat} along {@code axis}.
   *
   * @param axis the axis to join along
   * @param parts the tensors to join, at least one
   * @return the concatenation
   */
  public Value concat(long axis, Value... parts) {
    Checks.checkArgument(parts.length > 0, "Expected at least one Concat input, found none");
    return graph.node("Concat").inputs(parts).intAttr("axis", axis).output();
  }

  /**
   * {@code Softmax} over one axis. Before opset 13 Softmax normalises over all axes from {@code
   * axis} on, so at those opsets only the last axis gives a per-axis softmax.
   *
   * @param x the operand
   * @param axis the axis to normalise
   * @return the softmax
   */
  public Value softmax(Value x, long axis) {
    return graph.node("Softmax").input(x).intAttr("axis", axis).output();
  }

  /**
   * {@code Expand}: broadcast {@code x} to {@code shape}.
   *
   * @param x the operand
   * @param shape a 1-D INT64 target shape
   * @return the expanded tensor
   */
  public Value expand(Value x, Value shape) {
    return graph.op("Expand", x, shape);
  }

  /**
   * {@code Where}: elementwise {@code condition ? a : b} with broadcasting.
   *
   * @param condition a BOOL tensor
   * @param a values where the condition holds
   * @param b values elsewhere
   * @return the selection
   */
  public Value where(Value condition, Value a, Value b) {
    return graph.op("Where", condition, a, b);
  }

  /**
   * {@code ConstantOfShape}: a tensor of {@code shape} filled with one value.
   *
   * @param shape a 1-D INT64 shape
   * @param fill a one-element tensor (its element type is the output's)
   * @return the filled tensor
   */
  public Value constantOfShape(Value shape, Tensor fill) {
    Checks.checkArgument(
        fill.elementCount() == 1,
        "Expected a one-element fill value for ConstantOfShape, found %s",
        fill);
    Tensor value = Tensor.of(fill.elementType(), new long[] {1}, fill.toByteArray());
    return graph.node("ConstantOfShape").input(shape).tensorAttr("value", value).output();
  }

  /**
   * {@code Unsqueeze}: insert axes of size 1.
   *
   * @param x the operand
   * @param axes the positions of the new axes in the output, at least one
   * @return the expanded tensor
   */
  public Value unsqueeze(Value x, long... axes) {
    Checks.checkArgument(axes.length > 0, "Expected at least one Unsqueeze axis, found none");
    return withAxes("Unsqueeze", x, axes, 13).output();
  }

  /**
   * {@code Squeeze}: remove axes of size 1.
   *
   * @param x the operand
   * @param axes the axes to remove; none removes every axis of size 1
   * @return the squeezed tensor
   */
  public Value squeeze(Value x, long... axes) {
    return withAxes("Squeeze", x, axes, 13).output();
  }

  /**
   * {@code ReduceSum} over constant axes.
   *
   * @param x the operand
   * @param keepDims whether reduced axes stay as size 1
   * @param axes the axes to sum over; none sums over all axes
   * @return the sum
   */
  public Value reduceSum(Value x, boolean keepDims, long... axes) {
    return reduce("ReduceSum", x, keepDims, axes);
  }

  /**
   * {@code ReduceSum} over axes computed at run time (opset 13 and later).
   *
   * @param x the operand
   * @param axes a 1-D INT64 value of axes
   * @param keepDims whether reduced axes stay as size 1
   * @param noopWithEmptyAxes whether empty {@code axes} returns {@code x} unchanged (else it sums
   *     over all axes)
   * @return the sum
   * @throws IllegalStateException when the graph's opset is below 13
   */
  public Value reduceSum(Value x, Value axes, boolean keepDims, boolean noopWithEmptyAxes) {
    Checks.checkState(
        opset() >= 13,
        "Expected opset >= 13 for ReduceSum with run-time axes, found opset %d in graph '%s'",
        opset(),
        graph.name());
    NodeBuilder node = graph.node("ReduceSum").inputs(x, Objects.requireNonNull(axes, "axes"));
    node.intAttr("keepdims", keepDims ? 1 : 0);
    if (noopWithEmptyAxes) {
      node.intAttr("noop_with_empty_axes", 1);
    }
    return node.output();
  }

  /**
   * {@code ReduceMean} over constant axes.
   *
   * @param x the operand
   * @param keepDims whether reduced axes stay as size 1
   * @param axes the axes to average over; none averages over all axes
   * @return the mean
   */
  public Value reduceMean(Value x, boolean keepDims, long... axes) {
    return reduce("ReduceMean", x, keepDims, axes);
  }

  /**
   * Any standard reduction ({@code ReduceSum}, {@code ReduceMean}, {@code ReduceMax}, ...) over
   * constant axes, in the form the opset expects.
   *
   * @param opType the reduction op type
   * @param x the operand
   * @param keepDims whether reduced axes stay as size 1
   * @param axes the axes to reduce; none reduces over all axes
   * @return the reduced tensor
   */
  public Value reduce(String opType, Value x, boolean keepDims, long... axes) {
    int axesAsInputFrom = opType.equals("ReduceSum") ? 13 : 18;
    NodeBuilder node = withAxes(opType, x, axes, axesAsInputFrom);
    node.intAttr("keepdims", keepDims ? 1 : 0);
    return node.output();
  }

  /**
   * {@code Split} into parts of the given sizes along {@code axis}.
   *
   * @param x the operand
   * @param axis the axis to split
   * @param sizes the size of each part, at least one
   * @return one value per part
   */
  public List<Value> split(Value x, long axis, long... sizes) {
    Checks.checkArgument(sizes.length > 0, "Expected at least one Split size, found none");
    NodeBuilder node = graph.node("Split").input(x).intAttr("axis", axis);
    if (opset() < 13) {
      node.intsAttr("split", sizes);
    } else {
      node.input(graph.constantLongs(sizes));
    }
    return node.outputs(sizes.length);
  }

  /**
   * {@code Split} into {@code parts} equal parts along {@code axis}.
   *
   * @param x the operand
   * @param axis the axis to split; its size must be divisible by {@code parts}
   * @param parts the number of parts, {@code >= 1}
   * @return one value per part
   */
  public List<Value> splitEqual(Value x, long axis, int parts) {
    Checks.checkAtLeast(parts, 1, "number of Split parts");
    NodeBuilder node = graph.node("Split").input(x).intAttr("axis", axis);
    if (opset() >= 18) {
      node.intAttr("num_outputs", parts);
    }
    return node.outputs(parts);
  }

  private NodeBuilder withAxes(String opType, Value x, long[] axes, int asInputFrom) {
    NodeBuilder node = graph.node(opType).input(x);
    if (axes.length > 0) {
      if (opset() < asInputFrom) {
        node.intsAttr("axes", axes);
      } else {
        node.input(graph.constantLongs(axes));
      }
    }
    return node;
  }
}
