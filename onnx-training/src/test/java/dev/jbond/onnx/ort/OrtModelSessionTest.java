package dev.jbond.onnx.ort;

import static dev.jbond.testing.Fixtures.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OrtModelSessionTest {
  private static final SessionConfig CONFIG = SessionConfig.builder().optIntraOpThreads(1).build();

  private static float[] random(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = random.nextFloat() * 2 - 1;
    }
    return out;
  }

  static double[] toDoubles(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  /** x [2, 3] @ w [3, 4] + b [4], then Relu and Tanh: the smallest model with parameters. */
  static Graph linear(float[] w, float[] b) {
    Graph g = Graph.create("linear", 17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 3));
    Value wv = g.addInitializer("w", Tensor.floats(new long[] {3, 4}, w));
    Value bv = g.addInitializer("b", Tensor.floats(new long[] {4}, b));
    Value y = g.ops().add(g.ops().matMul(x, wv), bv);
    g.addOutput(g.node("Relu").input(y).output("relu"));
    g.addOutput(g.node("Tanh").input(y).output("tanh"));
    return g;
  }

  static float[] linearReference(float[] x, float[] w, float[] b) {
    float[] y = new float[8];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 4; j++) {
        float sum = b[j];
        for (int k = 0; k < 3; k++) {
          sum += x[i * 3 + k] * w[k * 4 + j];
        }
        y[i * 4 + j] = sum;
      }
    }
    return y;
  }

  @Test
  void run_matMulAddGraph_matchesJava() {
    Random random = new Random(1);
    float[] w = random(random, 12);
    float[] b = random(random, 4);
    float[] x = random(random, 6);
    float[] y = linearReference(x, w, b);

    try (OrtModelSession session = OrtSessions.open(linear(w, b), CONFIG)) {
      Map<String, Tensor> out = session.run(Map.of("x", Tensor.floats(new long[] {2, 3}, x)));

      assertEquals(List.of("relu", "tanh"), List.copyOf(out.keySet()));
      double[] relu = new double[8];
      double[] tanh = new double[8];
      for (int i = 0; i < 8; i++) {
        relu[i] = Math.max(0, y[i]);
        tanh[i] = Math.tanh(y[i]);
      }
      assertArrayEquals(new long[] {2, 4}, out.get("relu").shape());
      assertAllClose(toDoubles(out.get("relu").toFloatArray()), relu, 1e-6, 1e-6);
      assertAllClose(toDoubles(out.get("tanh").toFloatArray()), tanh, 1e-6, 1e-6);
    }
  }

  /**
   * Split with two outputs plus every opset-dependent helper, run at each opset and compared with
   * the same computation in Java.
   */
  @ParameterizedTest
  @ValueSource(ints = {13, 14, 17, 18})
  void run_opsetDependentOps_matchJavaAtEachOpset(int opset) {
    Graph g = Graph.create("ops" + opset, opset);
    Ops ops = g.ops();
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2, 6));
    List<Value> parts = ops.split(x, 1, 2, 4);
    Value left = parts.get(0);
    Value right = parts.get(1);
    g.addOutput(g.node("Identity").input(left).output("left"));
    g.addOutput(g.node("Identity").input(ops.unsqueeze(left, 0)).output("unsqueezed"));
    Value mean = ops.reduceMean(right, true, -1);
    g.addOutput(g.node("Identity").input(mean).output("mean"));
    g.addOutput(g.node("Identity").input(ops.reduceSum(right, false, 1)).output("sum"));
    g.addOutput(g.node("Identity").input(ops.squeeze(mean, 1)).output("squeezed"));
    List<Value> thirds = ops.splitEqual(x, 1, 3);
    g.addOutput(g.node("Identity").input(thirds.get(2)).output("third"));
    Value soft = ops.softmax(ops.transpose(right, 1, 0), 0);
    g.addOutput(g.node("Identity").input(soft).output("softmax"));
    float[] xs = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};

    Map<String, Tensor> out;
    try (OrtModelSession session = OrtSessions.open(g, CONFIG)) {
      out = session.run(Map.of("x", Tensor.floats(new long[] {2, 6}, xs)));
    }

    assertEquals(Tensor.floats(new long[] {2, 2}, 1, 2, -1, -2), out.get("left"));
    assertEquals(Tensor.floats(new long[] {1, 2, 2}, 1, 2, -1, -2), out.get("unsqueezed"));
    assertEquals(Tensor.floats(new long[] {2, 1}, 4.5f, -4.5f), out.get("mean"));
    assertEquals(Tensor.floats(new long[] {2}, 18, -18), out.get("sum"));
    assertEquals(Tensor.floats(new long[] {2}, 4.5f, -4.5f), out.get("squeezed"));
    assertEquals(Tensor.floats(new long[] {2, 2}, 5, 6, -5, -6), out.get("third"));
    float[] softValues = out.get("softmax").toFloatArray();
    assertArrayEquals(new long[] {4, 2}, out.get("softmax").shape());
    double[] expected = new double[8];
    for (int col = 0; col < 2; col++) {
      double sum = 0;
      for (int row = 0; row < 4; row++) {
        sum += Math.exp(xs[col * 6 + 2 + row]);
      }
      for (int row = 0; row < 4; row++) {
        expected[row * 2 + col] = Math.exp(xs[col * 6 + 2 + row]) / sum;
      }
    }
    assertAllClose(toDoubles(softValues), expected, 1e-6, 1e-7);
  }

  @Test
  void run_subsetOfOutputs_returnsOnlyThose() {
    Random random = new Random(2);
    try (OrtModelSession session =
        OrtSessions.open(linear(random(random, 12), random(random, 4)), CONFIG)) {
      Map<String, Tensor> out =
          session.run(Map.of("x", Tensor.zeros(ElementType.FLOAT, 2, 3)), List.of("tanh"));

      assertEquals(List.of("tanh"), List.copyOf(out.keySet()));
    }
  }

  @Test
  void run_unknownInput_failsListingExpected() {
    try (OrtModelSession session = OrtSessions.open(linear(new float[12], new float[4]), CONFIG)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  session.run(
                      Map.of(
                          "x", Tensor.zeros(ElementType.FLOAT, 2, 3),
                          "y", Tensor.zeros(ElementType.FLOAT, 1))));

      assertEquals("Unknown input 'y' for model 'linear', expected [x]", e.getMessage());
    }
  }

  @Test
  void run_missingInput_fails() {
    try (OrtModelSession session = OrtSessions.open(linear(new float[12], new float[4]), CONFIG)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> session.run(Map.of()));

      assertEquals("Missing input 'x' for model 'linear', given []", e.getMessage());
    }
  }

  @Test
  void run_wrongElementType_failsAsBackendInvalidArgument() {
    try (OrtModelSession session = OrtSessions.open(linear(new float[12], new float[4]), CONFIG)) {
      dev.jbond.BackendException e =
          assertThrows(
              dev.jbond.BackendException.class,
              () -> session.run(Map.of("x", Tensor.zeros(ElementType.DOUBLE, 2, 3))));

      assertEquals(dev.jbond.BackendException.Code.INVALID_ARGUMENT, e.code());
      assertTrue(
          e.getMessage().startsWith("Failed to run model 'linear' on ONNX Runtime: "),
          e.getMessage());
      assertTrue(e.getCause() instanceof ai.onnxruntime.OrtException);
    }
  }

  @Test
  void close_twice_isIdempotentAndRunAfterCloseFails() {
    OrtModelSession session = OrtSessions.open(linear(new float[12], new float[4]), CONFIG);

    session.close();
    session.close();

    assertTrue(session.isClosed());
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> session.run(Map.of("x", Tensor.zeros(ElementType.FLOAT, 2, 3))));
    assertEquals("OrtModelSession is closed", e.getMessage());
  }
}
