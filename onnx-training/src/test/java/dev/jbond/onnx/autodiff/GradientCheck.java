package dev.jbond.onnx.autodiff;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OptimizationLevel;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Finite-difference gradient checks: appends {@code loss = ReduceSum(output * R)} (R a fixed random
 * tensor) to a graph, builds its gradients, and compares each parameter's analytic gradient with
 * central differences of the loss computed by ONNX Runtime.
 */
final class GradientCheck {
  /** Graph fusions such as FusedMatMul have float kernels only; float64 checks skip them. */
  private static final SessionConfig BASIC =
      SessionConfig.builder().optOptimizationLevel(OptimizationLevel.BASIC).build();

  private GradientCheck() {}

  /** Random tensor of {@code type} (FLOAT or DOUBLE) with values in {@code [lo, hi)}. */
  static Tensor random(
      ElementType type, SplittableRandom rng, double lo, double hi, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    if (type == ElementType.DOUBLE) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = lo + (hi - lo) * rng.nextDouble();
      }
      return Tensor.doubles(shape, v);
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
    }
    return Tensor.floats(shape, v);
  }

  /**
   * Checks the gradient of {@code output} with respect to the graph inputs named in {@code params}.
   *
   * @param graph the forward graph; its inputs are {@code params} plus {@code others}
   * @param output the float output to differentiate
   * @param params the inputs to differentiate, with their values
   * @param others further inputs (e.g. indices), with their values
   * @param h the finite-difference step
   * @param tol the tolerance: |analytic - numeric| <= tol * (1 + |numeric|)
   * @param seed the seed of R
   */
  static void check(
      Graph graph,
      String output,
      Map<String, Tensor> params,
      Map<String, Tensor> others,
      double h,
      double tol,
      long seed) {
    check(graph, output, params, others, h, tol, seed, Integer.MAX_VALUE);
  }

  /**
   * As {@link #check(Graph, String, Map, Map, double, double, long)}, checking at most {@code
   * maxPerParam} randomly chosen elements of each parameter.
   */
  static void check(
      Graph graph,
      String output,
      Map<String, Tensor> params,
      Map<String, Tensor> others,
      double h,
      double tol,
      long seed,
      int maxPerParam) {
    Value out = graph.value(output);
    Map<String, Tensor> feed = new HashMap<>(params);
    feed.putAll(others);
    Map<String, Tensor> probeOut;
    try (OrtModelSession s = OrtSessions.open(graph, BASIC)) {
      probeOut = s.run(feed, List.of(output));
    }
    Tensor y = probeOut.get(output);
    Tensor r = random(y.elementType(), new SplittableRandom(seed), -1, 1, y.shape());
    Value weighted = graph.ops().mul(out, graph.constant(r));
    Value loss = graph.node("ReduceSum").input(weighted).intAttr("keepdims", 0).output("loss");
    graph.addOutput(loss);
    Graph lossOnly = Graph.fromModel(graph.toModel());
    Map<String, String> grads =
        GradientBuilder.on(graph).loss("loss").parameters(params.keySet()).probe(feed).build();
    Map<String, Tensor> analytic;
    try (OrtModelSession s = OrtSessions.open(graph, BASIC)) {
      analytic = s.run(feed, grads.values());
    }
    try (OrtModelSession s = OrtSessions.open(lossOnly, BASIC)) {
      for (Map.Entry<String, Tensor> p : params.entrySet()) {
        Tensor t = p.getValue();
        double[] base = asDoubles(t);
        double[] an = asDoubles(analytic.get(grads.get(p.getKey())));
        assertTrue(
            java.util.Arrays.equals(t.shape(), analytic.get(grads.get(p.getKey())).shape()),
            "gradient shape of " + p.getKey());
        SplittableRandom pick = new SplittableRandom(seed ^ p.getKey().hashCode());
        int checks = Math.min(base.length, maxPerParam);
        for (int c = 0; c < checks; c++) {
          int i = checks == base.length ? c : pick.nextInt(base.length);
          double[] plus = base.clone();
          plus[i] += h;
          double[] minus = base.clone();
          minus[i] -= h;
          double lp = lossAt(s, feed, p.getKey(), t, plus);
          double lm = lossAt(s, feed, p.getKey(), t, minus);
          double numeric = (lp - lm) / (2 * h);
          assertTrue(
              Math.abs(an[i] - numeric) <= tol * (1 + Math.abs(numeric)),
              "d loss / d "
                  + p.getKey()
                  + "["
                  + i
                  + "]: analytic "
                  + an[i]
                  + ", numeric "
                  + numeric);
        }
      }
    }
  }

  private static double lossAt(
      OrtModelSession s, Map<String, Tensor> feed, String name, Tensor like, double[] values) {
    Map<String, Tensor> f = new HashMap<>(feed);
    f.put(
        name,
        like.elementType() == ElementType.DOUBLE
            ? Tensor.doubles(like.shape(), values)
            : Tensor.floats(like.shape(), toFloats(values)));
    return asDoubles(s.run(f, List.of("loss")).get("loss"))[0];
  }

  static double[] asDoubles(Tensor t) {
    if (t.elementType() == ElementType.DOUBLE) {
      return t.toDoubleArray();
    }
    float[] f = t.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static float[] toFloats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }
}
