package dev.jbond.onnx.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.autodiff.GradientBuilder;
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
 * Finite-difference checks of {@link GradientBuilder}: appends {@code loss = ReduceSum(output * R)}
 * with R a fixed random tensor, builds the gradients of the parameters, and compares each checked
 * entry's analytic gradient with the central difference {@code (loss(p + h) - loss(p - h)) / 2h}
 * computed by ONNX Runtime. Graphs are DOUBLE (see {@link DoublePrecision}), or FLOAT with a coarse
 * step and tolerance.
 */
public final class GradientCheck {
  /** Graph fusions such as FusedMatMul have float kernels only; float64 checks skip them. */
  private static final SessionConfig BASIC =
      SessionConfig.builder().optOptimizationLevel(OptimizationLevel.BASIC).build();

  private GradientCheck() {}

  /**
   * Returns a random tensor of {@code type} (FLOAT or DOUBLE) with values in {@code [lo, hi)}.
   *
   * @param type FLOAT or DOUBLE
   * @param rng the random source
   * @param lo the lower bound
   * @param hi the upper bound
   * @param shape the shape
   * @return the tensor
   */
  public static Tensor random(
      ElementType type, SplittableRandom rng, double lo, double hi, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * rng.nextDouble();
    }
    return tensor(type, shape, v);
  }

  /**
   * Checks every entry of every parameter.
   *
   * @param graph the forward graph, whose inputs are {@code params} plus {@code others}
   * @param output the float output to differentiate
   * @param params the inputs to differentiate, with their values
   * @param others further inputs (e.g. indices), with their values
   * @param h the finite-difference step
   * @param tol the tolerance on {@code |analytic - numeric| / (1 + |numeric|)}
   * @param seed the seed of R
   * @return the largest error seen
   */
  public static double check(
      Graph graph,
      String output,
      Map<String, Tensor> params,
      Map<String, Tensor> others,
      double h,
      double tol,
      long seed) {
    return check(graph, output, params, others, h, tol, seed, Integer.MAX_VALUE);
  }

  /**
   * Checks {@code maxPerParam} random entries of every parameter; fails on the first entry with
   * {@code |analytic - numeric| > tol * (1 + |numeric|)}.
   *
   * @param graph the forward graph (DOUBLE, or FLOAT with a coarse step and tolerance), whose
   *     inputs are {@code params} plus {@code others}
   * @param output the float output to differentiate
   * @param params the inputs to differentiate, with their values
   * @param others further inputs (e.g. indices), with their values
   * @param h the finite-difference step
   * @param tol the tolerance on {@code |analytic - numeric| / (1 + |numeric|)}
   * @param seed the seed of R and of the entries checked
   * @param maxPerParam the most entries checked per parameter
   * @return the largest {@code |analytic - numeric| / (1 + |numeric|)} seen
   */
  public static double check(
      Graph graph,
      String output,
      Map<String, Tensor> params,
      Map<String, Tensor> others,
      double h,
      double tol,
      long seed,
      int maxPerParam) {
    Map<String, Tensor> feed = new HashMap<>(params);
    feed.putAll(others);
    Tensor y;
    try (OrtModelSession s = OrtSessions.open(graph, BASIC)) {
      y = s.run(feed, List.of(output)).get(output);
    }
    SplittableRandom random = new SplittableRandom(seed);
    double[] r = new double[Math.toIntExact(y.elementCount())];
    for (int i = 0; i < r.length; i++) {
      r[i] = 2 * random.nextDouble() - 1;
    }
    Value weighted =
        graph.ops().mul(graph.value(output), graph.constant(tensor(y.elementType(), y.shape(), r)));
    graph.addOutput(graph.node("ReduceSum").input(weighted).intAttr("keepdims", 0).output("loss"));
    Graph lossOnly = Graph.fromModel(graph.toModel());
    Map<String, String> grads =
        GradientBuilder.on(graph).loss("loss").parameters(params.keySet()).probe(feed).build();
    Map<String, Tensor> analytic;
    try (OrtModelSession s = OrtSessions.open(graph, BASIC)) {
      analytic = s.run(feed, grads.values());
    }
    double worst = 0;
    try (OrtModelSession s = OrtSessions.open(lossOnly, BASIC)) {
      for (Map.Entry<String, Tensor> p : params.entrySet()) {
        String name = p.getKey();
        Tensor value = p.getValue();
        Tensor gradient = analytic.get(grads.get(name));
        assertArrayEquals(value.shape(), gradient.shape(), "gradient shape of " + name);
        double[] base = doubles(value);
        double[] an = doubles(gradient);
        SplittableRandom pick = new SplittableRandom(seed ^ name.hashCode());
        int checks = Math.min(base.length, maxPerParam);
        for (int c = 0; c < checks; c++) {
          int i = checks == base.length ? c : pick.nextInt(base.length);
          double numeric =
              (lossAt(s, feed, name, value, base, i, h) - lossAt(s, feed, name, value, base, i, -h))
                  / (2 * h);
          double error = Math.abs(an[i] - numeric) / (1 + Math.abs(numeric));
          worst = Math.max(worst, error);
          assertTrue(
              error <= tol,
              "d loss / d " + name + "[" + i + "]: analytic " + an[i] + ", numeric " + numeric);
        }
      }
    }
    return worst;
  }

  private static double lossAt(
      OrtModelSession s,
      Map<String, Tensor> feed,
      String name,
      Tensor like,
      double[] base,
      int index,
      double step) {
    double[] values = base.clone();
    values[index] += step;
    Map<String, Tensor> f = new HashMap<>(feed);
    f.put(name, tensor(like.elementType(), like.shape(), values));
    return doubles(s.run(f, List.of("loss")).get("loss"))[0];
  }

  private static Tensor tensor(ElementType type, long[] shape, double[] values) {
    if (type == ElementType.DOUBLE) {
      return Tensor.doubles(shape, values);
    }
    float[] floats = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      floats[i] = (float) values[i];
    }
    return Tensor.floats(shape, floats);
  }

  private static double[] doubles(Tensor t) {
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
}
