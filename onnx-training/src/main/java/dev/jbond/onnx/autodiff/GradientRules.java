package dev.jbond.onnx.autodiff;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * The gradient rules, in standard ONNX ops only (opsets 14 to 17; ONNX Runtime's training-only
 * {@code com.microsoft} gradient ops are not available in its standard builds).
 *
 * <p>Symbols: {@code dY} is the gradient of the node's output, {@code unb(g, x)} sums {@code g}
 * back to the shape of a broadcast operand {@code x}.
 */
final class GradientRules {
  private GradientRules() {}

  /** Ops whose outputs never carry a gradient. */
  static final Set<String> NON_DIFFERENTIABLE =
      Set.of(
          "Shape",
          "Size",
          "Constant",
          "ConstantOfShape",
          "Range",
          "Equal",
          "Less",
          "LessOrEqual",
          "Greater",
          "GreaterOrEqual",
          "Not",
          "And",
          "Or",
          "Xor",
          "NonZero",
          "ArgMax",
          "ArgMin",
          "OneHot",
          "Floor",
          "Ceil",
          "Round",
          "Sign",
          "IsNaN",
          "IsInf",
          "RandomNormal",
          "RandomNormalLike",
          "RandomUniform",
          "RandomUniformLike",
          "EyeLike",
          "Bernoulli",
          "Multinomial");

  private static final Map<String, GradientRule> RULES = new TreeMap<>();

  /** Returns the rule of {@code opType}, or null. */
  static GradientRule rule(String opType) {
    return RULES.get(opType);
  }

  /** The differentiable ops, sorted. */
  static Set<String> supported() {
    return RULES.keySet();
  }

  private static void rule(String op, BiPredicate<Node, Integer> diff, Apply apply) {
    RULES.put(
        op,
        new GradientRule() {
          @Override
          public boolean differentiable(Node node, int index) {
            return diff.test(node, index);
          }

          @Override
          public void apply(Backward b, Node node, List<Value> dy) {
            apply.apply(b, node, dy);
          }
        });
  }

  @FunctionalInterface
  private interface Apply {
    void apply(Backward b, Node node, List<Value> dy);
  }

  private static final BiPredicate<Node, Integer> ALL = (n, i) -> true;
  private static final BiPredicate<Node, Integer> FIRST = (n, i) -> i == 0;

  /** Unary rule: dX = f(b, x, y, dY). */
  @FunctionalInterface
  private interface Unary {
    Value grad(Backward b, Value x, Value y, Value dy);
  }

  private static void unary(String op, Unary f) {
    rule(
        op,
        FIRST,
        (b, n, dy) -> {
          if (dy.get(0) != null) {
            b.accumulate(n.input(0), f.grad(b, n.input(0), n.output(0), dy.get(0)));
          }
        });
  }

  static {
    Graph unusedGraph = null; // rules get the graph from Backward
    assert unusedGraph == null;

    // ---- elementwise binary ops with broadcasting
    rule(
        "Add",
        ALL,
        (b, n, dy) -> {
          Value g = dy.get(0);
          b.accumulate(n.input(0), b.unbroadcast(g, n.output(0), n.input(0)));
          b.accumulate(n.input(1), b.unbroadcast(g, n.output(0), n.input(1)));
        });
    rule(
        "Sub",
        ALL,
        (b, n, dy) -> {
          Value g = dy.get(0);
          b.accumulate(n.input(0), b.unbroadcast(g, n.output(0), n.input(0)));
          if (b.needs(n.input(1))) {
            b.accumulate(n.input(1), b.unbroadcast(b.ops().neg(g), n.output(0), n.input(1)));
          }
        });
    rule(
        "Mul",
        ALL,
        (b, n, dy) -> {
          Value g = dy.get(0);
          Ops o = b.ops();
          if (b.needs(n.input(0))) {
            b.accumulate(n.input(0), b.unbroadcast(o.mul(g, n.input(1)), n.output(0), n.input(0)));
          }
          if (b.needs(n.input(1))) {
            b.accumulate(n.input(1), b.unbroadcast(o.mul(g, n.input(0)), n.output(0), n.input(1)));
          }
        });
    rule(
        "Div",
        ALL,
        (b, n, dy) -> {
          Value g = dy.get(0);
          Ops o = b.ops();
          if (b.needs(n.input(0))) {
            b.accumulate(n.input(0), b.unbroadcast(o.div(g, n.input(1)), n.output(0), n.input(0)));
          }
          if (b.needs(n.input(1))) {
            // d(a/b)/db = -y / b
            Value gb = o.neg(o.div(o.mul(g, n.output(0)), n.input(1)));
            b.accumulate(n.input(1), b.unbroadcast(gb, n.output(0), n.input(1)));
          }
        });
    rule(
        "Sum",
        ALL,
        (b, n, dy) -> {
          for (Value x : n.presentInputs()) {
            b.accumulate(x, b.unbroadcast(dy.get(0), n.output(0), x));
          }
        });
    rule(
        "Pow",
        FIRST,
        (b, n, dy) -> {
          // exponent p is not differentiated: dX = dY * p * X^(p - 1)
          Ops o = b.ops();
          Value x = n.input(0);
          Value p = n.input(1);
          Value pf = b.type(p) == b.type(x) ? p : o.cast(p, b.type(x));
          Value dx = o.mul(dy.get(0), o.mul(pf, o.pow(x, o.sub(pf, b.scalar(1, x)))));
          b.accumulate(x, b.unbroadcast(dx, n.output(0), x));
        });

    // ---- elementwise unary ops
    unary("Neg", (b, x, y, g) -> b.ops().neg(g));
    unary("Identity", (b, x, y, g) -> g);
    unary("Dropout", (b, x, y, g) -> g);
    unary("Exp", (b, x, y, g) -> b.ops().mul(g, y));
    unary("Log", (b, x, y, g) -> b.ops().div(g, x));
    unary("Sqrt", (b, x, y, g) -> b.ops().div(b.ops().mul(g, b.scalar(0.5, x)), y));
    unary("Tanh", (b, x, y, g) -> b.ops().mul(g, b.ops().sub(b.scalar(1, x), b.ops().mul(y, y))));
    unary(
        "Sigmoid", (b, x, y, g) -> b.ops().mul(g, b.ops().mul(y, b.ops().sub(b.scalar(1, x), y))));
    unary(
        "Relu",
        (b, x, y, g) ->
            b.ops().where(b.graph().op("Greater", x, b.scalar(0, x)), g, b.scalar(0, x)));
    unary(
        "Erf",
        (b, x, y, g) -> {
          Ops o = b.ops();
          Value e = o.exp(o.neg(o.mul(x, x)));
          return o.mul(g, o.mul(e, b.scalar(2 / Math.sqrt(Math.PI), x)));
        });
    rule(
        "Cast",
        FIRST,
        (b, n, dy) -> {
          // only float -> float casts carry a gradient (integer outputs never require grad)
          Value x = n.input(0);
          ElementType from = b.type(x);
          Value g = dy.get(0);
          b.accumulate(x, b.type(n.output(0)) == from ? g : b.ops().cast(g, from));
        });

    // ---- softmax family
    rule(
        "Softmax",
        FIRST,
        (b, n, dy) -> {
          Ops o = b.ops();
          Value y = n.output(0);
          long axis = Backward.normalize(n.intAttribute("axis", -1), b.rank(y));
          Value gy = o.mul(dy.get(0), y);
          b.accumulate(n.input(0), o.mul(y, o.sub(dy.get(0), o.reduceSum(gy, true, axis))));
        });
    rule(
        "LogSoftmax",
        FIRST,
        (b, n, dy) -> {
          Ops o = b.ops();
          Value y = n.output(0);
          long axis = Backward.normalize(n.intAttribute("axis", -1), b.rank(y));
          Value sum = o.reduceSum(dy.get(0), true, axis);
          b.accumulate(n.input(0), o.sub(dy.get(0), o.mul(o.exp(y), sum)));
        });

    // ---- reductions
    rule(
        "ReduceSum",
        FIRST,
        (b, n, dy) -> {
          Value x = n.input(0);
          long[] axes = b.constantLongs(n, 1);
          boolean keep = n.intAttribute("keepdims", 1) == 1;
          boolean noop = n.intAttribute("noop_with_empty_axes", 0) == 1;
          if ((axes == null || axes.length == 0) && noop) {
            b.accumulate(x, dy.get(0));
            return;
          }
          b.accumulate(x, expandReduced(b, dy.get(0), x, axes, keep, 1.0));
        });
    rule(
        "ReduceMean",
        FIRST,
        (b, n, dy) -> {
          Value x = n.input(0);
          long[] axes = n.intsAttribute("axes").orElse(null);
          if (axes == null && n.hasInput(1)) {
            axes = b.constantLongs(n, 1);
          }
          boolean keep = n.intAttribute("keepdims", 1) == 1;
          Ops o = b.ops();
          Value g = expandReduced(b, dy.get(0), x, axes, keep, 1.0);
          // divide by the number of reduced elements: Size(X) / Size(Y)
          ElementType t = b.type(x);
          Value count =
              o.div(
                  o.cast(b.graph().op("Size", x), t), o.cast(b.graph().op("Size", n.output(0)), t));
          b.accumulate(x, o.div(g, count));
        });

    // ---- matrix products
    rule("MatMul", ALL, GradientRules::matMul);
    rule("Gemm", ALL, GradientRules::gemm);

    // ---- shape ops
    rule(
        "Reshape",
        FIRST,
        (b, n, dy) -> b.accumulate(n.input(0), b.ops().reshape(dy.get(0), b.shape(n.input(0)))));
    rule(
        "Squeeze",
        FIRST,
        (b, n, dy) -> b.accumulate(n.input(0), b.ops().reshape(dy.get(0), b.shape(n.input(0)))));
    rule(
        "Unsqueeze",
        FIRST,
        (b, n, dy) -> b.accumulate(n.input(0), b.ops().reshape(dy.get(0), b.shape(n.input(0)))));
    rule(
        "Flatten",
        FIRST,
        (b, n, dy) -> b.accumulate(n.input(0), b.ops().reshape(dy.get(0), b.shape(n.input(0)))));
    rule(
        "Transpose",
        FIRST,
        (b, n, dy) -> {
          int r = b.rank(n.input(0));
          long[] perm = n.intsAttribute("perm").orElse(null);
          long[] inv = new long[r];
          for (int i = 0; i < r; i++) {
            long p = perm == null ? r - 1 - i : perm[i];
            inv[(int) p] = i;
          }
          b.accumulate(n.input(0), b.ops().transpose(dy.get(0), inv));
        });
    rule(
        "Expand",
        FIRST,
        (b, n, dy) -> b.accumulate(n.input(0), b.unbroadcast(dy.get(0), n.output(0), n.input(0))));
    rule(
        "Where",
        (n, i) -> i == 1 || i == 2,
        (b, n, dy) -> {
          Ops o = b.ops();
          Value c = n.input(0);
          Value g = dy.get(0);
          if (b.needs(n.input(1))) {
            Value z = b.scalar(0, n.input(1));
            b.accumulate(n.input(1), b.unbroadcast(o.where(c, g, z), n.output(0), n.input(1)));
          }
          if (b.needs(n.input(2))) {
            Value z = b.scalar(0, n.input(2));
            b.accumulate(n.input(2), b.unbroadcast(o.where(c, z, g), n.output(0), n.input(2)));
          }
        });
    rule(
        "Trilu",
        FIRST,
        (b, n, dy) -> {
          var nb = b.graph().node("Trilu").input(dy.get(0));
          if (n.hasInput(1)) {
            nb.input(n.input(1));
          }
          nb.intAttr("upper", n.intAttribute("upper", 1));
          b.accumulate(n.input(0), nb.output());
        });
    rule("Concat", ALL, GradientRules::concat);
    rule("Split", FIRST, GradientRules::split);
    rule("Slice", FIRST, GradientRules::slice);
    rule("Gather", FIRST, GradientRules::gather);
    rule("LayerNormalization", ALL, GradientRules::layerNorm);
  }

  /**
   * Broadcasts the gradient of a reduction back over the reduced axes (times {@code scale}). {@code
   * axes} null means all axes.
   */
  private static Value expandReduced(
      Backward b, Value g, Value x, long[] axes, boolean keep, double scale) {
    Ops o = b.ops();
    Value gu = g;
    if (!keep && axes != null && axes.length > 0) {
      int r = b.rank(x);
      long[] norm = new long[axes.length];
      for (int i = 0; i < axes.length; i++) {
        norm[i] = Backward.normalize(axes[i], r);
      }
      java.util.Arrays.sort(norm);
      gu = o.unsqueeze(g, norm);
    }
    Value out = o.expand(gu, b.shape(x));
    return scale == 1.0 ? out : o.mul(out, b.scalar(scale, x));
  }

  private static void matMul(Backward b, Node n, List<Value> dy) {
    Ops o = b.ops();
    Graph g = b.graph();
    Value a = n.input(0);
    Value w = n.input(1);
    Value y = n.output(0);
    Value d = dy.get(0);
    int ra = b.rank(a);
    int rb = b.rank(w);
    if (ra < 2 || rb < 2) {
      throw new IllegalArgumentException(
          "Cannot differentiate MatMul node '"
              + n.name()
              + "' with a 1-D operand (ranks "
              + ra
              + " and "
              + rb
              + "); expected ranks >= 2");
    }
    int ry = b.rank(y);
    if (rb == 2) {
      // [..., M, K] @ [K, N]: dA = dY @ B^T; dB = flat(A)^T @ flat(dY)
      if (b.needs(a)) {
        b.accumulate(a, o.matMul(d, o.transpose(w, 1, 0)));
      }
      if (b.needs(w)) {
        Value af = ra == 2 ? a : g.node("Flatten").input(a).intAttr("axis", ra - 1).output();
        Value df = ry == 2 ? d : g.node("Flatten").input(d).intAttr("axis", ry - 1).output();
        b.accumulate(w, o.gemm(af, df, null, true, false));
      }
      return;
    }
    List<long[]> yDims = b.info(y).dims();
    if (b.needs(a)) {
      Value ga = o.matMul(d, o.transpose(w, Backward.swapLastTwo(rb)));
      b.accumulate(a, b.unbroadcast(ga, withLastTwo(yDims, b.info(a).dims()), a));
    }
    if (b.needs(w)) {
      Value gw = o.matMul(o.transpose(a, Backward.swapLastTwo(ra)), d);
      b.accumulate(w, b.unbroadcast(gw, withLastTwo(yDims, b.info(w).dims()), w));
    }
  }

  /** Batch dims of {@code y} followed by the last two dims of {@code operand}, per probe. */
  private static List<long[]> withLastTwo(List<long[]> yDims, List<long[]> operandDims) {
    List<long[]> out = new ArrayList<>();
    for (int p = 0; p < yDims.size(); p++) {
      long[] yd = yDims.get(p);
      long[] od = operandDims.get(p);
      long[] r = yd.clone();
      r[r.length - 2] = od[od.length - 2];
      r[r.length - 1] = od[od.length - 1];
      out.add(r);
    }
    return out;
  }

  private static void gemm(Backward b, Node n, List<Value> dy) {
    Graph g = b.graph();
    Value a = n.input(0);
    Value w = n.input(1);
    Value d = dy.get(0);
    float alpha = n.floatAttribute("alpha", 1f);
    float beta = n.floatAttribute("beta", 1f);
    boolean ta = n.intAttribute("transA", 0) == 1;
    boolean tb = n.intAttribute("transB", 0) == 1;
    if (b.needs(a)) {
      Value ga =
          ta
              ? gemmNode(g, w, d, tb, true, alpha) // dA = alpha B' dY^T
              : gemmNode(g, d, w, false, !tb, alpha); // dA = alpha dY B'^T
      b.accumulate(a, ga);
    }
    if (b.needs(w)) {
      Value gw =
          tb
              ? gemmNode(g, d, a, true, ta, alpha) // dB = alpha dY^T A'
              : gemmNode(g, a, d, !ta, false, alpha); // dB = alpha A'^T dY
      b.accumulate(w, gw);
    }
    if (n.hasInput(2) && b.needs(n.input(2))) {
      Value gc = beta == 1f ? d : b.ops().mul(d, b.scalar(beta, n.output(0)));
      b.accumulate(n.input(2), b.unbroadcast(gc, n.output(0), n.input(2)));
    }
  }

  private static Value gemmNode(
      Graph g, Value x, Value y, boolean transA, boolean transB, float alpha) {
    return g.node("Gemm")
        .inputs(x, y)
        .intAttr("transA", transA ? 1 : 0)
        .intAttr("transB", transB ? 1 : 0)
        .floatAttr("alpha", alpha)
        .output();
  }

  private static void concat(Backward b, Node n, List<Value> dy) {
    Ops o = b.ops();
    List<Value> inputs = n.presentInputs();
    int r = b.rank(n.output(0));
    long axis = Backward.normalize(n.intAttribute("axis", 0), r);
    List<Value> sizes = new ArrayList<>();
    for (Value x : inputs) {
      sizes.add(b.slice(b.shape(x), b.longs(axis), b.longs(axis + 1), null, null));
    }
    Value split = o.concat(0, sizes.toArray(new Value[0]));
    List<Value> parts =
        b.graph()
            .node("Split")
            .inputs(dy.get(0), split)
            .intAttr("axis", axis)
            .outputs(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      b.accumulate(inputs.get(i), parts.get(i));
    }
  }

  private static void split(Backward b, Node n, List<Value> dy) {
    Value x = n.input(0);
    int r = b.rank(x);
    long axis = Backward.normalize(n.intAttribute("axis", 0), r);
    List<Value> parts = new ArrayList<>();
    for (int i = 0; i < n.outputCount(); i++) {
      Value gi = dy.get(i);
      parts.add(gi != null ? gi : b.zerosLike(n.output(i)));
    }
    b.accumulate(x, b.ops().concat(axis, parts.toArray(new Value[0])));
  }

  private static void slice(Backward b, Node n, List<Value> dy) {
    Ops o = b.ops();
    Value x = n.input(0);
    int r = b.rank(x);
    // starts and ends may be computed (rotate_half's x[..., : d // 2] with d read from the shape);
    // axes and steps must be constants, and fix the number of sliced axes with the starts
    long[] starts = b.graph().constantValue(n.input(1)).map(Tensor::toLongValues).orElse(null);
    long[] ends = b.graph().constantValue(n.input(2)).map(Tensor::toLongValues).orElse(null);
    long[] axes = b.constantLongs(n, 3);
    long[] steps = b.constantLongs(n, 4);
    int k =
        starts != null
            ? starts.length
            : ends != null ? ends.length : axes != null ? axes.length : -1;
    Checks.checkArgument(
        k >= 0,
        "Expected constant starts, ends or axes of Slice node '%s' for its gradient, found all"
            + " computed",
        n.name());
    // Slices along several axes compose; undo them one axis at a time, last first. The input of
    // the j-th single-axis slice has X's shape with axes 0..j-1 already sliced to Y's sizes.
    Value g = dy.get(0);
    for (int j = k - 1; j >= 0; j--) {
      int axis = Backward.normalize(axes == null ? j : axes[j], r);
      long step = steps == null ? 1 : steps[j];
      Value inShape = b.shape(x);
      if (j > 0) {
        long[] done = new long[j];
        for (int i = 0; i < j; i++) {
          done[i] = Backward.normalize(axes == null ? i : axes[i], r);
        }
        Value idx = b.longs(done);
        inShape =
            b.graph()
                .node("ScatterElements")
                .inputs(inShape, idx, o.gather(b.shape(n.output(0)), idx, 0))
                .intAttr("axis", 0)
                .output();
      }
      Value dim = o.gather(inShape, b.graph().constantLong(axis), 0);
      Value positions =
          b.slice(
              b.graph().op("Range", b.graph().constantLong(0), dim, b.graph().constantLong(1)),
              bound(b, n, 1, starts, j),
              bound(b, n, 2, ends, j),
              b.longs(0),
              b.longs(step));
      long[] bshape = new long[r];
      java.util.Arrays.fill(bshape, 1);
      bshape[axis] = -1;
      Value index = o.expand(o.reshape(positions, b.longs(bshape)), o.shape(g));
      Value zeros = b.zeros(inShape, x);
      g = b.graph().node("ScatterElements").inputs(zeros, index, g).intAttr("axis", axis).output();
    }
    b.accumulate(x, g);
  }

  /** Element {@code j} of a Slice bound as a one-element INT64 tensor, constant or computed. */
  private static Value bound(Backward b, Node n, int input, long[] constant, int j) {
    if (constant != null) {
      return b.longs(constant[j]);
    }
    Value v = n.input(input);
    Value one = b.slice(v, b.longs(j), b.longs(j + 1), b.longs(0), b.longs(1));
    return b.type(v) == ElementType.INT64 ? one : b.ops().cast(one, ElementType.INT64);
  }

  private static void gather(Backward b, Node n, List<Value> dy) {
    Ops o = b.ops();
    Graph graph = b.graph();
    Value data = n.input(0);
    Value idx = n.input(1);
    int rd = b.rank(data);
    int ri = b.rank(idx);
    int axis = Backward.normalize(n.intAttribute("axis", 0), rd);
    Value g = dy.get(0);
    // negative indices count from the end
    Value dim = o.gather(b.shape(data), graph.constantLong(axis), 0);
    Value fixed = o.where(graph.op("Less", idx, graph.constantLong(0)), o.add(idx, dim), idx);
    if (b.type(idx) != ElementType.INT64) {
      fixed = o.cast(fixed, ElementType.INT64);
    }
    Value zerosShape = b.shape(data);
    if (axis != 0) {
      // move the gathered axis to the front: dY dims [axis .. axis + ri) first
      int ry = rd - 1 + ri;
      long[] perm = new long[ry];
      int p = 0;
      for (int i = axis; i < axis + ri; i++) {
        perm[p++] = i;
      }
      for (int i = 0; i < axis; i++) {
        perm[p++] = i;
      }
      for (int i = axis + ri; i < ry; i++) {
        perm[p++] = i;
      }
      g = o.transpose(g, perm);
      long[] dperm = new long[rd];
      dperm[0] = axis;
      p = 1;
      for (int i = 0; i < rd; i++) {
        if (i != axis) {
          dperm[p++] = i;
        }
      }
      zerosShape = o.gather(b.shape(data), b.longs(dperm), 0);
      Value scattered = scatterAdd(b, data, zerosShape, fixed, g);
      long[] inv = new long[rd];
      for (int i = 0; i < rd; i++) {
        inv[(int) dperm[i]] = i;
      }
      b.accumulate(data, o.transpose(scattered, inv));
      return;
    }
    b.accumulate(data, scatterAdd(b, data, zerosShape, fixed, g));
  }

  private static Value scatterAdd(Backward b, Value like, Value shape, Value idx, Value updates) {
    Value zeros = b.zeros(shape, like);
    return b.graph()
        .node("ScatterND")
        .inputs(zeros, b.ops().unsqueeze(idx, -1), updates)
        .stringAttr("reduction", "add")
        .output();
  }

  private static void layerNorm(Backward b, Node n, List<Value> dy) {
    Ops o = b.ops();
    Value x = n.input(0);
    Value gamma = n.input(1);
    Value g = dy.get(0);
    if (g == null) {
      return; // gradients through the optional Mean / InvStdDev outputs are not supported
    }
    int r = b.rank(x);
    int axis = Backward.normalize(n.intAttribute("axis", -1), r);
    float eps = n.floatAttribute("epsilon", 1e-5f);
    long[] normAxes = new long[r - axis];
    for (int i = axis; i < r; i++) {
      normAxes[i - axis] = i;
    }
    long[] batchAxes = new long[axis];
    for (int i = 0; i < axis; i++) {
      batchAxes[i] = i;
    }
    // recompute mean and 1/sigma (the forward node's optional outputs may be absent)
    Value mean = o.reduceMean(x, true, normAxes);
    Value centred = o.sub(x, mean);
    Value variance = o.reduceMean(o.mul(centred, centred), true, normAxes);
    Value inv = o.div(b.scalar(1, x), o.sqrt(o.add(variance, b.scalar(eps, x))));
    Value xhat = o.mul(centred, inv);
    if (b.needs(x)) {
      Value gg = o.mul(g, gamma);
      Value m1 = o.reduceMean(gg, true, normAxes);
      Value m2 = o.reduceMean(o.mul(gg, xhat), true, normAxes);
      b.accumulate(x, o.mul(inv, o.sub(o.sub(gg, m1), o.mul(xhat, m2))));
    }
    if (b.needs(gamma)) {
      Value s =
          batchAxes.length == 0 ? o.mul(g, xhat) : o.reduceSum(o.mul(g, xhat), false, batchAxes);
      b.accumulate(gamma, b.unbroadcast(s, paramDims(b, x, axis), gamma));
    }
    if (n.hasInput(2) && b.needs(n.input(2))) {
      Value s = batchAxes.length == 0 ? g : o.reduceSum(g, false, batchAxes);
      b.accumulate(n.input(2), b.unbroadcast(s, paramDims(b, x, axis), n.input(2)));
    }
  }

  /** The normalised dims of {@code x} (from {@code axis} on), per probe. */
  private static List<long[]> paramDims(Backward b, Value x, int axis) {
    List<long[]> out = new ArrayList<>();
    for (long[] d : b.info(x).dims()) {
      out.add(java.util.Arrays.copyOfRange(d, axis, d.length));
    }
    return out;
  }
}
