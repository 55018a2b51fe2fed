package dev.jbond.serving.triton;

/**
 * Conversions between {@code float} and the IEEE 754 binary16 (FP16) and bfloat16 (BF16) bit
 * patterns, for Java 17, which has no {@code Float.floatToFloat16}.
 *
 * <p>Narrowing rounds to nearest, ties to even; values beyond the FP16 range become infinities,
 * values below half the smallest subnormal become signed zeros, and NaN stays NaN (quiet). Widening
 * is exact.
 */
final class Float16 {
  private Float16() {}

  /**
   * Returns the FP16 bits nearest to {@code value}.
   *
   * @param value the value
   * @return the 16 bits, in the low half of the result
   */
  static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xff;
    int mantissa = bits & 0x7fffff;
    if (exponent == 0xff) {
      // infinity keeps a zero mantissa; NaN becomes a quiet NaN with the top payload bits
      return (short) (sign | 0x7c00 | (mantissa == 0 ? 0 : 0x200 | (mantissa >>> 13)));
    }
    int halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (halfExponent <= 0) {
      if (halfExponent < -10) {
        return (short) sign;
      }
      // subnormal result: the 24-bit significand scaled to units of 2^-24
      int significand = mantissa | 0x800000;
      int shift = 14 - halfExponent;
      int half = significand >>> shift;
      int rest = significand & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
        half++; // may carry into the smallest normal, which is the right answer
      }
      return (short) (sign | half);
    }
    int half = (halfExponent << 10) | (mantissa >>> 13);
    int rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
      half++; // may carry into the exponent, up to infinity, which is the right answer
    }
    return (short) (sign | half);
  }

  /**
   * Returns the value of FP16 bits.
   *
   * @param half the 16 bits
   * @return the value, exactly
   */
  static float toFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /**
   * Returns the BF16 bits nearest to {@code value}: its upper half, rounded to nearest with ties to
   * even; NaN stays a quiet NaN.
   *
   * @param value the value
   * @return the 16 bits
   */
  static short bf16FromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40); // NaN: keep the sign and make it quiet
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1); // may carry up to infinity, as it should
    return (short) (rounded >>> 16);
  }

  /**
   * Returns the value of BF16 bits (the upper half of a {@code float}).
   *
   * @param bf16 the 16 bits
   * @return the value, exactly
   */
  static float bf16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }
}
