package dev.jbond.onnx.train;

import java.nio.FloatBuffer;

/**
 * Loops over flat float buffers (direct, so ONNX Runtime can use them in place), streamed through
 * small heap blocks so that the JIT vectorises the arithmetic.
 */
final class FlatBuffers {
  private static final int BLOCK = 4096;

  private FlatBuffers() {}

  /**
   * Returns {@code sum_i x[i]^2} over {@code x[0, n)} (absolute indices), accumulated in double.
   */
  static double sumOfSquares(FloatBuffer x, int n) {
    float[] block = new float[BLOCK];
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    for (int start = 0; start < n; start += BLOCK) {
      int length = Math.min(BLOCK, n - start);
      x.get(start, block, 0, length);
      int i = 0;
      for (; i + 3 < length; i += 4) {
        s0 += (double) block[i] * block[i];
        s1 += (double) block[i + 1] * block[i + 1];
        s2 += (double) block[i + 2] * block[i + 2];
        s3 += (double) block[i + 3] * block[i + 3];
      }
      for (; i < length; i++) {
        s0 += (double) block[i] * block[i];
      }
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Adds {@code source[0, n)} into {@code target[0, n)} (absolute indices), in float. */
  static void addInto(FloatBuffer target, FloatBuffer source, int n) {
    float[] a = new float[BLOCK];
    float[] b = new float[BLOCK];
    for (int start = 0; start < n; start += BLOCK) {
      int length = Math.min(BLOCK, n - start);
      target.get(start, a, 0, length);
      source.get(start, b, 0, length);
      for (int i = 0; i < length; i++) {
        a[i] += b[i];
      }
      target.put(start, a, 0, length);
    }
  }
}
