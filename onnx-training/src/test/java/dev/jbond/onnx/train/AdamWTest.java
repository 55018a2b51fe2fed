package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdamWTest {
  private static FloatBuffer direct(float... values) {
    FloatBuffer b =
        ByteBuffer.allocateDirect(values.length * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    b.put(values).flip();
    return b;
  }

  private static float[] toArray(FloatBuffer b) {
    float[] out = new float[b.limit()];
    b.get(0, out);
    return out;
  }

  @Test
  void step_firstStep_movesEachParameterByRateTimesSignAfterDecoupledDecay() {
    // step 1: m_hat = g and v_hat = g^2, so the Adam update is lr * g / (|g| + eps)
    AdamW adam = new AdamW(3, 0.9, 0.999, 1e-8, 0.01);
    FloatBuffer params = direct(1f, -2f, 0.5f);

    adam.step(params, direct(0.5f, -0.25f, 0f), 0.1, 1.0);

    assertArrayEquals(
        new float[] {1f * 0.999f - 0.1f, -2f * 0.999f + 0.1f, 0.5f * 0.999f},
        toArray(params),
        1e-6f);
    assertEquals(1, adam.stepCount());
  }

  @Test
  void step_threeSteps_matchTheAdamWFormulaInDouble() {
    double lr = 0.01;
    double b1 = 0.8;
    double b2 = 0.95;
    double eps = 1e-6;
    double wd = 0.1;
    double scale = 0.5;
    SplittableRandom random = new SplittableRandom(4);
    int n = 10_000; // spans several of the optimizer's blocks
    float[] p0 = new float[n];
    for (int i = 0; i < n; i++) {
      p0[i] = (float) random.nextGaussian();
    }
    AdamW adam = new AdamW(n, b1, b2, eps, wd);
    FloatBuffer params = direct(p0);
    double[] p = new double[n];
    double[] m = new double[n];
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      p[i] = p0[i];
    }
    for (int t = 1; t <= 3; t++) {
      float[] g = new float[n];
      for (int i = 0; i < n; i++) {
        g[i] = (float) (random.nextGaussian() * t);
      }
      adam.step(params, direct(g), lr, scale);
      for (int i = 0; i < n; i++) {
        double gi = scale * g[i];
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        double mHat = m[i] / (1 - Math.pow(b1, t));
        double denominator = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
        p[i] -= lr * mHat / denominator;
      }
    }
    float[] actual = toArray(params);
    for (int i = 0; i < n; i++) {
      assertEquals(p[i], actual[i], 1e-5 * (1 + Math.abs(p[i])), "parameter " + i);
    }
  }

  @Test
  void step_zeroGradient_onlyAppliesDecoupledWeightDecay() {
    AdamW adam = new AdamW(2, 0.9, 0.999, 1e-8, 0.5);
    FloatBuffer params = direct(2f, -4f);

    adam.step(params, direct(0f, 0f), 0.1, 1.0);

    assertArrayEquals(new float[] {2f * 0.95f, -4f * 0.95f}, toArray(params), 0f);
  }

  @Test
  void copy_sameSettingsFreshState_restoreReplacesState() {
    AdamW adam = new AdamW(2, 0.9, 0.999, 1e-8, 0.0);
    adam.step(direct(1f, 1f), direct(1f, -1f), 0.1, 1.0);

    AdamW copy = adam.copy();
    assertEquals(0, copy.stepCount());
    assertArrayEquals(new float[2], copy.firstMoment());
    assertEquals(
        "AdamW[size=2, beta1=0.9, beta2=0.999, epsilon=1.0E-8, weightDecay=0.0, step=0]",
        copy.toString());

    copy.restore(adam.stepCount(), adam.firstMoment(), adam.secondMoment());
    assertEquals(1, copy.stepCount());
    assertArrayEquals(adam.secondMoment(), copy.secondMoment());
  }

  @Test
  void constructorAndStep_badArguments_failClearly() {
    assertEquals(
        "Expected beta1 in [0, 1), found 1.0",
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1, 1.0, 0.9, 1e-8, 0))
            .getMessage());
    AdamW adam = new AdamW(3, 0.9, 0.999, 1e-8, 0);
    assertEquals(
        "Expected >= 3 gradient elements, found 2",
        assertThrows(
                IllegalArgumentException.class,
                () -> adam.step(direct(1, 2, 3), direct(1, 2), 0.1, 1))
            .getMessage());
    assertEquals(
        "Expected a finite learning rate >= 0, found NaN",
        assertThrows(
                IllegalArgumentException.class,
                () -> adam.step(direct(1, 2, 3), direct(1, 2, 3), Double.NaN, 1))
            .getMessage());
    assertEquals(
        "Expected 3 first-moment elements, found 1",
        assertThrows(
                IllegalArgumentException.class, () -> adam.restore(1, new float[1], new float[3]))
            .getMessage());
  }
}
