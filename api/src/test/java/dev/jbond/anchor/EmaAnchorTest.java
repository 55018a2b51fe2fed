package dev.jbond.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmaAnchorTest {
  private static final long SEED = 20250122L;

  /** Values whose bits an arithmetic update would change: signed zero, NaN payloads, extremes. */
  private static final float[] SPECIAL_FLOATS = {
    -0.0f,
    0.0f,
    Float.intBitsToFloat(0x7fc00123),
    Float.POSITIVE_INFINITY,
    Float.NEGATIVE_INFINITY,
    Float.MIN_VALUE,
    -Float.MAX_VALUE,
    1.0f
  };

  @Test
  void constructor_noArguments_usesPaperDefault() {
    assertEquals(0.02, new EmaAnchor().eta(), 0.0);
    assertEquals(0.02, EmaAnchor.DEFAULT_ETA, 0.0);
  }

  @ParameterizedTest
  @ValueSource(doubles = {1.5, -0.1, Double.NaN, Double.POSITIVE_INFINITY})
  void constructor_etaOutsideUnitInterval_throws(double eta) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new EmaAnchor(eta));
    assertEquals("Expected eta in [0.0, 1.0], found " + eta, e.getMessage());
  }

  @Test
  void update_floatArrays_matchesDoubleComputationWithinOneUlp() {
    SplittableRandom random = new SplittableRandom(SEED);
    for (double eta : new double[] {0.02, 0.3, 0.5, 0.999}) {
      float[] anchor = randomFloats(random, 1000);
      float[] policy = randomFloats(random, 1000);
      float[] before = anchor.clone();

      new EmaAnchor(eta).update(anchor, policy);

      for (int i = 0; i < anchor.length; i++) {
        double exact = (1 - eta) * before[i] + eta * policy[i];
        double scale = Math.max(Math.abs(before[i]), Math.abs(policy[i]));
        assertEquals(
            exact,
            anchor[i],
            Math.ulp((float) exact) + 4 * Math.ulp(scale),
            "eta " + eta + " element " + i);
      }
    }
  }

  @Test
  void update_doubleArrays_matchesDoubleComputationWithinRounding() {
    SplittableRandom random = new SplittableRandom(SEED);
    double eta = 0.02;
    double[] anchor = randomDoubles(random, 1000);
    double[] policy = randomDoubles(random, 1000);
    double[] before = anchor.clone();

    new EmaAnchor(eta).update(anchor, policy);

    for (int i = 0; i < anchor.length; i++) {
      double exact = (1 - eta) * before[i] + eta * policy[i];
      double scale = Math.max(Math.abs(before[i]), Math.abs(policy[i]));
      assertEquals(exact, anchor[i], 4 * Math.ulp(scale), "element " + i);
    }
  }

  @Test
  void update_etaOne_copiesPolicyBitExactly() {
    float[] anchor = randomFloats(new SplittableRandom(SEED), SPECIAL_FLOATS.length);
    float[] policy = SPECIAL_FLOATS.clone();

    new EmaAnchor(1.0).update(anchor, policy);

    assertArrayEquals(bits(SPECIAL_FLOATS), bits(anchor));
  }

  @Test
  void update_etaZero_leavesAnchorBitsUnchanged() {
    float[] anchor = SPECIAL_FLOATS.clone();
    float[] policy = randomFloats(new SplittableRandom(SEED), SPECIAL_FLOATS.length);
    policy[0] = Float.NaN;
    policy[1] = Float.POSITIVE_INFINITY;

    new EmaAnchor(0.0).update(anchor, policy);

    assertArrayEquals(bits(SPECIAL_FLOATS), bits(anchor));
  }

  @Test
  void update_doubleEtaOneAndZero_areBitExact() {
    double[] special = {-0.0, Double.longBitsToDouble(0x7ff8000000000abcL), Double.MIN_VALUE, 3.0};
    double[] anchor = {1, 2, 3, 4};

    new EmaAnchor(1.0).update(anchor, special);
    assertArrayEquals(bits(special), bits(anchor));

    new EmaAnchor(0.0).update(anchor, new double[] {9, 9, 9, 9});
    assertArrayEquals(bits(special), bits(anchor));
  }

  @Test
  void update_equalAnchorAndPolicy_isAFixedPoint() {
    float[] anchor = randomFloats(new SplittableRandom(SEED), 100);
    double[] anchorDoubles = randomDoubles(new SplittableRandom(SEED), 100);
    float[] expected = anchor.clone();
    double[] expectedDoubles = anchorDoubles.clone();

    EmaAnchor ema = new EmaAnchor(0.37);
    ema.update(anchor, anchor.clone());
    ema.update(anchorDoubles, anchorDoubles.clone());

    assertArrayEquals(bits(expected), bits(anchor));
    assertArrayEquals(bits(expectedDoubles), bits(anchorDoubles));
  }

  @Test
  void update_floatRanges_touchesOnlyTheRange() {
    float[] anchor = {1, 1, 1, 1, 1, 1};
    float[] policy = {0, 0, 3, 5, 0};

    new EmaAnchor(0.5).update(anchor, 3, policy, 2, 2);

    assertArrayEquals(new float[] {1, 1, 1, 2, 3, 1}, anchor);
    assertArrayEquals(new float[] {0, 0, 3, 5, 0}, policy);
  }

  @Test
  void update_doubleRanges_touchesOnlyTheRange() {
    double[] anchor = {1, 1, 1, 1};
    double[] policy = {3, 5};

    new EmaAnchor(0.25).update(anchor, 1, policy, 0, 2);

    assertArrayEquals(new double[] {1, 1.5, 2, 1}, anchor);
  }

  @Test
  void update_rangeOutsideArray_throwsIndexOutOfBounds() {
    EmaAnchor ema = new EmaAnchor();
    float[] anchor = new float[4];
    float[] policy = new float[4];
    double[] anchorDoubles = new double[4];

    assertThrows(IndexOutOfBoundsException.class, () -> ema.update(anchor, 3, policy, 0, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> ema.update(anchor, 0, policy, -1, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> ema.update(anchor, 0, policy, 0, -1));
    assertThrows(
        IndexOutOfBoundsException.class, () -> ema.update(anchorDoubles, 0, new double[1], 0, 2));
  }

  @Test
  void update_lengthsDiffer_throws() {
    EmaAnchor ema = new EmaAnchor();

    IllegalArgumentException floats =
        assertThrows(IllegalArgumentException.class, () -> ema.update(new float[4], new float[3]));
    IllegalArgumentException doubles =
        assertThrows(
            IllegalArgumentException.class, () -> ema.update(new double[2], new double[5]));

    assertEquals("Expected 4 policy parameters, found 3", floats.getMessage());
    assertEquals("Expected 2 policy parameters, found 5", doubles.getMessage());
  }

  @Test
  void update_nullArray_throwsNullPointer() {
    NullPointerException e =
        assertThrows(NullPointerException.class, () -> new EmaAnchor().update(null, new float[1]));
    assertEquals("anchor", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"LITTLE_ENDIAN", "BIG_ENDIAN"})
  void update_directBuffers_matchesArrayUpdateAndKeepsPositions(String order) {
    ByteOrder byteOrder =
        order.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    SplittableRandom random = new SplittableRandom(SEED);
    float[] anchorValues = randomFloats(random, 64);
    float[] policyValues = randomFloats(random, 64);
    FloatBuffer anchor = directBuffer(anchorValues, byteOrder);
    FloatBuffer policy = directBuffer(policyValues, byteOrder);
    anchor.position(5).limit(60);
    policy.position(5).limit(60);
    EmaAnchor ema = new EmaAnchor(0.02);

    ema.update(anchor, policy);
    float[] expected = anchorValues.clone();
    ema.update(expected, 5, policyValues, 5, 55);

    assertTrue(anchor.isDirect());
    assertEquals(5, anchor.position());
    assertEquals(5, policy.position());
    assertEquals(60, anchor.limit());
    assertArrayEquals(bits(expected), bits(contents(anchor)));
    assertArrayEquals(bits(policyValues), bits(contents(policy)));
  }

  @Test
  void update_bufferAbsoluteIndices_updatesOnlyTheRange() {
    FloatBuffer anchor = directBuffer(new float[] {1, 1, 1, 1, 1}, ByteOrder.nativeOrder());
    FloatBuffer policy = FloatBuffer.wrap(new float[] {3, 5, 9});
    anchor.position(4);

    new EmaAnchor(0.5).update(anchor, 1, policy, 0, 2);

    assertEquals(4, anchor.position());
    assertEquals(0, policy.position());
    assertArrayEquals(new float[] {1, 2, 3, 1, 1}, contents(anchor));
  }

  @Test
  void update_buffersEtaOneAndZero_areBitExact() {
    FloatBuffer anchor = directBuffer(new float[SPECIAL_FLOATS.length], ByteOrder.nativeOrder());
    FloatBuffer policy = directBuffer(SPECIAL_FLOATS, ByteOrder.nativeOrder());
    policy.position(1);
    anchor.position(1);

    new EmaAnchor(1.0).update(anchor, policy);
    new EmaAnchor(0.0).update(anchor, FloatBuffer.allocate(SPECIAL_FLOATS.length).position(1));

    float[] expected = SPECIAL_FLOATS.clone();
    expected[0] = 0.0f;
    assertArrayEquals(bits(expected), bits(contents(anchor)));
    assertEquals(1, policy.position());
  }

  @Test
  void update_remainingCountsDiffer_throws() {
    FloatBuffer anchor = FloatBuffer.allocate(4);
    FloatBuffer policy = FloatBuffer.allocate(4).position(1);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new EmaAnchor().update(anchor, policy));
    assertEquals("Expected 4 remaining policy parameters, found 3", e.getMessage());
  }

  @Test
  void update_readOnlyAnchorBuffer_throws() {
    FloatBuffer anchor = FloatBuffer.allocate(2).asReadOnlyBuffer();

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new EmaAnchor().update(anchor, FloatBuffer.allocate(2)));
    assertEquals("Expected a writable anchor buffer, found a read-only one", e.getMessage());
  }

  @Test
  void update_bufferRangeBeyondLimit_throwsIndexOutOfBounds() {
    FloatBuffer anchor = FloatBuffer.allocate(8).limit(4);

    assertThrows(
        IndexOutOfBoundsException.class,
        () -> new EmaAnchor().update(anchor, 2, FloatBuffer.allocate(8), 0, 3));
  }

  @Test
  void update_repeatedTowardFixedPolicy_residualShrinksAsOneMinusEtaToTheT() {
    SplittableRandom random = new SplittableRandom(SEED);
    double eta = 0.02;
    double[] anchor = randomDoubles(random, 16);
    double[] policy = randomDoubles(random, 16);
    double[] initialResidual = new double[anchor.length];
    for (int i = 0; i < anchor.length; i++) {
      initialResidual[i] = anchor[i] - policy[i];
    }
    EmaAnchor ema = new EmaAnchor(eta);

    for (int t = 1; t <= 200; t++) {
      ema.update(anchor, policy);
      double factor = Math.pow(1 - eta, t);
      for (int i = 0; i < anchor.length; i++) {
        assertEquals(
            initialResidual[i] * factor,
            anchor[i] - policy[i],
            1e-12 * Math.abs(initialResidual[i]) + 1e-15,
            "step " + t + " element " + i);
      }
    }
  }

  @Test
  void update_repeatedFloatUpdates_convergeToPolicy() {
    SplittableRandom random = new SplittableRandom(SEED);
    float[] anchor = randomFloats(random, 32);
    float[] policy = randomFloats(random, 32);
    EmaAnchor ema = new EmaAnchor(0.5);

    for (int t = 0; t < 200; t++) {
      ema.update(anchor, policy);
    }

    for (int i = 0; i < anchor.length; i++) {
      assertEquals(policy[i], anchor[i], Math.ulp(policy[i]), "element " + i);
    }
  }

  @Test
  void copy_returnsNewInstanceWithSameEta() {
    EmaAnchor ema = new EmaAnchor(0.1);

    EmaAnchor copy = ema.copy();

    assertNotSame(ema, copy);
    assertEquals(0.1, copy.eta(), 0.0);
  }

  @Test
  void toString_printsEta() {
    assertEquals("EmaAnchor[eta=0.02]", new EmaAnchor().toString());
  }

  private static float[] randomFloats(SplittableRandom random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4)));
    }
    return values;
  }

  private static double[] randomDoubles(SplittableRandom random, int n) {
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4));
    }
    return values;
  }

  private static FloatBuffer directBuffer(float[] values, ByteOrder order) {
    FloatBuffer buffer =
        ByteBuffer.allocateDirect(values.length * Float.BYTES).order(order).asFloatBuffer();
    buffer.put(0, values);
    return buffer;
  }

  private static float[] contents(FloatBuffer buffer) {
    float[] values = new float[buffer.capacity()];
    buffer.duplicate().clear().get(values);
    return values;
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  private static long[] bits(double[] values) {
    long[] bits = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Double.doubleToRawLongBits(values[i]);
    }
    return bits;
  }
}
