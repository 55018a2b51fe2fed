package dev.jbond.onnx.autodiff;

import static dev.jbond.onnx.testing.GradientCheck.random;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.testing.GradientCheck;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference check of every op with a gradient rule, in float64 where ONNX Runtime's CPU
 * kernels support it, with broadcasting and random shapes from fixed seeds.
 */
class OpGradientTest {
  private static final ElementType D = ElementType.DOUBLE;
  private static final double H = 1e-6;
  private static final double TOL = 1e-6;

  /** A graph under test: inputs with their values, then one output named "y". */
  private static final class Case {
    final Graph g;
    final Map<String, Tensor> params = new LinkedHashMap<>();
    final Map<String, Tensor> others = new LinkedHashMap<>();
    final SplittableRandom rng;

    Case(long opset, long seed) {
      g = Graph.create("op", opset);
      rng = new SplittableRandom(seed);
    }

    Value param(String name, double lo, double hi, long... shape) {
      return param(name, D, lo, hi, shape);
    }

    Value param(String name, ElementType t, double lo, double hi, long... shape) {
      params.put(name, random(t, rng, lo, hi, shape));
      return g.addInput(name, TensorType.of(t, shape));
    }

    Value other(String name, Tensor value) {
      others.put(name, value);
      return g.addInput(name, value.type());
    }

    void check(Value y) {
      check(y, H, TOL);
    }

    void check(Value y, double h, double tol) {
      Value named = g.node("Identity").input(y).output("y");
      g.addOutput(named);
      GradientCheck.check(g, "y", params, others, h, tol, rng.nextLong());
    }
  }

  @Test
  void add_sub_mul_div_withBroadcasting() {
    for (String op : List.of("Add", "Sub", "Mul", "Div")) {
      Case c = new Case(17, op.hashCode());
      Value a = c.param("a", 1, 2, 2, 3, 4);
      Value b = c.param("b", 1, 2, 3, 1);
      c.check(c.g.op(op, a, b));
      Case d = new Case(14, op.hashCode() + 1);
      Value x = d.param("x", 1, 2, 2, 1, 4);
      Value z = d.param("z", 1, 2, 3, 1);
      d.check(d.g.op(op, x, z));
    }
  }

  @Test
  void sum_threeOperands_broadcast() {
    Case c = new Case(17, 3);
    Value a = c.param("a", -1, 1, 2, 3);
    Value b = c.param("b", -1, 1, 3);
    Value d = c.param("d", -1, 1, 2, 1);
    c.check(c.g.node("Sum").inputs(a, b, d).output());
  }

  @Test
  void pow_constantExponent() {
    Case c = new Case(17, 4);
    Value a = c.param("a", 0.5, 1.5, 2, 3);
    c.check(c.g.ops().pow(a, c.g.constant(Tensor.doubleScalar(3.0))));
    Case f = new Case(14, 5);
    Value x = f.param("x", 0.5, 1.5, 4);
    f.check(f.g.ops().pow(x, f.g.constant(Tensor.doubleScalar(0.5))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Neg", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Relu", "Identity"})
  void unary_ops(String op) {
    Case c = new Case(17, op.hashCode());
    double lo = op.equals("Log") || op.equals("Sqrt") ? 0.5 : -2;
    Value x = c.param("x", lo, 2, 3, 4);
    c.check(c.g.op(op, x));
  }

  @Test
  void erf_float32() {
    // ONNX Runtime's CPU Erf kernel is float only
    Case c = new Case(17, 6);
    Value x = c.param("x", ElementType.FLOAT, -1.5, 1.5, 3, 4);
    c.check(c.g.op("Erf", x), 1e-2, 2e-2);
  }

  @Test
  void dropout_isIdentity() {
    Case c = new Case(17, 7);
    Value x = c.param("x", -1, 1, 3, 4);
    c.check(c.g.node("Dropout").input(x).output());
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 1, 0})
  void softmax_and_logSoftmax(int axis) {
    for (String op : List.of("Softmax", "LogSoftmax")) {
      Case c = new Case(17, op.hashCode() + axis);
      Value x = c.param("x", -2, 2, 2, 3, 4);
      c.check(c.g.node(op).input(x).intAttr("axis", axis).output());
    }
  }

  @Test
  void reduceMean_keepAndDrop() {
    Case c = new Case(17, 8);
    Value x = c.param("x", -1, 1, 2, 3, 4);
    c.check(c.g.ops().reduceMean(x, false, 1));
    Case d = new Case(14, 9);
    Value z = d.param("z", -1, 1, 2, 3, 4);
    d.check(d.g.ops().reduceMean(z, true, 0, -1));
    Case e = new Case(17, 10);
    Value w = e.param("w", -1, 1, 2, 3);
    e.check(e.g.node("ReduceMean").input(w).intAttr("keepdims", 0).output());
  }

  @Test
  void reduceSum_axesInput() {
    Case c = new Case(17, 11);
    Value x = c.param("x", -1, 1, 2, 3, 4);
    c.check(c.g.ops().reduceSum(x, false, 2, 0));
    Case d = new Case(14, 12);
    Value z = d.param("z", -1, 1, 2, 3);
    d.check(d.g.node("ReduceSum").input(z).intAttr("keepdims", 1).output());
  }

  @Test
  void matMul_ranksAndBroadcasting() {
    long[][][] shapes = {
      {{3, 4}, {4, 5}},
      {{2, 3, 4}, {4, 5}},
      {{2, 3, 4, 5}, {2, 3, 5, 6}},
      {{1, 3, 4, 5}, {2, 1, 5, 6}},
      {{2, 3, 4}, {1, 4, 2}},
      {{4, 5}, {2, 5, 3}}
    };
    int seed = 20;
    for (long[][] s : shapes) {
      Case c = new Case(17, seed++);
      Value a = c.param("a", -1, 1, s[0]);
      Value b = c.param("b", -1, 1, s[1]);
      c.check(c.g.ops().matMul(a, b));
    }
  }

  @Test
  void gemm_allTransposes_withBroadcastBias() {
    int seed = 30;
    for (int ta = 0; ta < 2; ta++) {
      for (int tb = 0; tb < 2; tb++) {
        Case c = new Case(17, seed++);
        Value a = c.param("a", -1, 1, ta == 1 ? new long[] {4, 3} : new long[] {3, 4});
        Value b = c.param("b", -1, 1, tb == 1 ? new long[] {5, 4} : new long[] {4, 5});
        Value bias = c.param("c", -1, 1, 5);
        c.check(
            c.g
                .node("Gemm")
                .inputs(a, b, bias)
                .intAttr("transA", ta)
                .intAttr("transB", tb)
                .floatAttr("alpha", 0.7f)
                .floatAttr("beta", 1.3f)
                .output());
      }
    }
  }

  @Test
  void shapeOps_reshapeTransposeSqueezeUnsqueezeFlatten() {
    Case c = new Case(17, 40);
    Value x = c.param("x", -1, 1, 2, 3, 4);
    c.check(c.g.ops().reshape(x, 6, 4));
    Case d = new Case(17, 41);
    Value z = d.param("z", -1, 1, 2, 3, 4);
    d.check(d.g.ops().transpose(z, 2, 0, 1));
    Case e = new Case(17, 42);
    Value w = e.param("w", -1, 1, 2, 3, 4);
    e.check(e.g.node("Transpose").input(w).output());
    Case f = new Case(14, 43);
    Value v = f.param("v", -1, 1, 2, 1, 4);
    f.check(f.g.ops().unsqueeze(f.g.ops().squeeze(v, 1), 0, 3));
    Case h = new Case(17, 44);
    Value u = h.param("u", -1, 1, 2, 3, 4);
    h.check(h.g.node("Flatten").input(u).intAttr("axis", 2).output());
  }

  @Test
  void concat_and_split() {
    Case c = new Case(17, 50);
    Value a = c.param("a", -1, 1, 2, 1, 4);
    Value b = c.param("b", -1, 1, 2, 3, 4);
    Value d = c.param("d", -1, 1, 2, 2, 4);
    c.check(c.g.ops().concat(1, a, b, d));
    Case s = new Case(17, 51);
    Value x = s.param("x", -1, 1, 2, 5);
    List<Value> parts = s.g.ops().split(x, 1, 2, 3);
    s.check(s.g.ops().mul(parts.get(0), s.g.ops().reduceSum(parts.get(1), true, 1)));
    Case t = new Case(14, 52);
    Value z = t.param("z", -1, 1, 4, 3);
    t.check(t.g.ops().split(z, 0, 1, 3).get(1)); // the first output gets no gradient
  }

  @Test
  void slice_singleAxis_multiAxis_steps_negative() {
    Case c = new Case(17, 60);
    Value x = c.param("x", -1, 1, 3, 5);
    c.check(
        c.g
            .node("Slice")
            .inputs(x, c.g.constantLongs(1), c.g.constantLongs(4), c.g.constantLongs(1))
            .output());
    Case d = new Case(17, 61);
    Value z = d.param("z", -1, 1, 4, 6, 3);
    d.check(
        d.g
            .node("Slice")
            .inputs(
                z,
                d.g.constantLongs(0, -5),
                d.g.constantLongs(4, Long.MAX_VALUE),
                d.g.constantLongs(0, 1),
                d.g.constantLongs(2, 2))
            .output());
  }

  @Test
  void where_and_expand() {
    Case c = new Case(17, 70);
    Value a = c.param("a", -1, 1, 2, 3);
    Value b = c.param("b", -1, 1, 3);
    Value cond =
        c.other("cond", Tensor.booleans(new long[] {2, 3}, true, false, true, false, false, true));
    c.check(c.g.ops().where(cond, a, b));
    Case e = new Case(17, 71);
    Value x = e.param("x", -1, 1, 3, 1);
    e.check(e.g.ops().expand(x, e.g.constantLongs(2, 3, 4)));
  }

  @Test
  void cast_floatRoundTrip() {
    Case c = new Case(17, 80);
    Value x = c.param("x", -1, 1, 3, 4);
    Value y = c.g.ops().cast(c.g.ops().cast(x, ElementType.FLOAT), ElementType.DOUBLE);
    c.check(c.g.ops().mul(y, y), 1e-3, 1e-4);
  }

  @Test
  void gather_embeddingWithRepeats_andOtherAxis() {
    Case c = new Case(17, 90);
    Value w = c.param("w", -1, 1, 7, 4);
    Value idx = c.other("idx", Tensor.longs(new long[] {2, 3}, 1, 5, 1, 6, 0, 5));
    c.check(c.g.ops().gather(w, idx, 0));
    Case d = new Case(14, 91);
    Value x = d.param("x", -1, 1, 3, 5, 2);
    Value i = d.other("i", Tensor.longs(new long[] {4}, 4, 0, -1, 2));
    d.check(d.g.ops().gather(x, i, 1));
  }

  @Test
  void layerNormalization_lastAxis_andTwoAxes() {
    Case c = new Case(17, 100);
    Value x = c.param("x", -2, 2, 2, 3, 4);
    Value gamma = c.param("gamma", 0.5, 1.5, 4);
    Value beta = c.param("beta", -1, 1, 4);
    c.check(
        c.g.node("LayerNormalization").inputs(x, gamma, beta).floatAttr("epsilon", 1e-5f).output(),
        1e-6,
        1e-5);
    Case d = new Case(17, 101);
    Value z = d.param("z", -2, 2, 2, 3, 4);
    Value g2 = d.param("g2", 0.5, 1.5, 3, 4);
    d.check(d.g.node("LayerNormalization").inputs(z, g2).intAttr("axis", 1).output(), 1e-6, 1e-5);
  }

  @Test
  void trilu_upperAndLower() {
    for (int upper = 0; upper < 2; upper++) {
      Case c = new Case(17, 110 + upper);
      Value x = c.param("x", -1, 1, 2, 4, 4);
      c.check(
          c.g
              .node("Trilu")
              .inputs(x, c.g.constantLong(upper == 1 ? 1 : 0))
              .intAttr("upper", upper)
              .output());
    }
  }

  @Test
  void fanOut_accumulates_andIntegerPathsGetNoGradient() {
    Case c = new Case(17, 120);
    Value x = c.param("x", -1, 1, 2, 6);
    // y = Reshape(x * x + x, [Shape(x)[0], 3, -1]): the shape path is integer-only
    Value sq = c.g.ops().add(c.g.ops().mul(x, x), x);
    Value shape =
        c.g
            .ops()
            .concat(
                0,
                c.g
                    .ops()
                    .unsqueeze(c.g.ops().gather(c.g.ops().shape(x), c.g.constantLong(0), 0), 0),
                c.g.constantLongs(3, -1));
    c.check(c.g.ops().reshape(sq, shape));
  }

  @Test
  void unsupportedOp_onGradientPath_namesOpNodeOpsetAndSupportedOps() {
    Case c = new Case(17, 130);
    Value x = c.param("x", -1, 1, 3);
    Value y = c.g.node("Sin").name("the_sin").input(x).output();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.check(y));
    assertTrue(
        e.getMessage().startsWith("Cannot differentiate op 'Sin' (node 'the_sin', opset 17)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("supported ops: [Add, Cast, Concat"), e.getMessage());
  }

  @Test
  void unsupportedOp_offGradientPath_isFine() {
    Case c = new Case(17, 131);
    Value x = c.param("x", -1, 1, 3);
    Value k = c.other("k", Tensor.doubles(new long[] {3}, 0.1, 0.2, 0.3));
    c.check(c.g.ops().mul(x, c.g.op("Sin", k)));
  }
}
