package dev.jbond.serving.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The LoRA request tensors against rows built here from the documented layout (TensorRT-LLM's
 * {@code lora.md}, {@code loraCache.cpp copyToPages}): per row A {@code [r, in]}, then B times
 * alpha/r {@code [out, r]}, then zeros; config {@code [module id, layer, r]}; every value rounded
 * once to the dtype with this test's own rounding, compared byte for byte.
 */
class LoraTensorsTest {
  /** An adapter of random A (sd 0.05) and B (sd 0.01), as the tests of this package use. */
  static LoraAdapter adapter(
      LoraModule module, int layer, int rank, int in, int out, SplittableRandom rng) {
    float[] a = new float[rank * in];
    float[] b = new float[out * rank];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (rng.nextGaussian() * 0.05);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (rng.nextGaussian() * 0.01);
    }
    return new LoraAdapter(module, layer, rank, in, out, a, b);
  }

  /** A Llama-like layer: q and o 64 -> 64, k and v 64 -> 32 (GQA), gate/up 64 -> 160, down back. */
  private static List<LoraAdapter> adapters() {
    SplittableRandom rng = new SplittableRandom(13);
    return List.of(
        adapter(LoraModule.ATTN_Q, 0, 8, 64, 64, rng),
        adapter(LoraModule.ATTN_K, 0, 8, 64, 32, rng),
        adapter(LoraModule.ATTN_V, 1, 8, 64, 32, rng),
        adapter(LoraModule.ATTN_DENSE, 1, 4, 64, 64, rng),
        adapter(LoraModule.MLP_H_TO_4H, 0, 8, 64, 160, rng),
        adapter(LoraModule.MLP_GATE, 0, 8, 64, 160, rng),
        adapter(LoraModule.MLP_4H_TO_H, 1, 2, 160, 64, rng));
  }

  @ParameterizedTest
  @EnumSource(LoraTensors.Dtype.class)
  void of_matchesRowsBuiltFromTheDocumentedLayout_byteForByte(LoraTensors.Dtype dtype) {
    List<LoraAdapter> adapters = adapters();
    double alpha = 16;
    LoraTensors tensors = LoraTensors.of(adapters, alpha, dtype);

    int width = 0;
    for (LoraAdapter a : adapters) {
      width = Math.max(width, a.rank() * (a.in() + a.out()));
    }
    int size = dtype == LoraTensors.Dtype.FP32 ? 4 : 2;
    ByteBuffer expected =
        ByteBuffer.allocate(adapters.size() * width * size).order(ByteOrder.LITTLE_ENDIAN);
    int[] config = new int[adapters.size() * 3];
    for (int row = 0; row < adapters.size(); row++) {
      LoraAdapter a = adapters.get(row);
      int written = 0;
      for (int i = 0; i < a.rank(); i++) {
        for (int j = 0; j < a.in(); j++) {
          put(expected, dtype, a.a()[i * a.in() + j]);
          written++;
        }
      }
      float scale = (float) (alpha / a.rank());
      for (int o = 0; o < a.out(); o++) {
        for (int i = 0; i < a.rank(); i++) {
          put(expected, dtype, a.b()[o * a.rank() + i] * scale);
          written++;
        }
      }
      for (; written < width; written++) {
        put(expected, dtype, 0f);
      }
      config[row * 3] = a.module().id();
      config[row * 3 + 1] = a.layer();
      config[row * 3 + 2] = a.rank();
    }

    TritonTensor weights = tensors.weights();
    assertEquals(LoraTensors.WEIGHTS, weights.name());
    assertEquals(dtype.datatype(), weights.datatype());
    assertArrayEquals(new long[] {1, adapters.size(), width}, weights.shape());
    assertArrayEquals(expected.array(), weights.raw().toByteArray());
    TritonTensor cfg = tensors.config();
    assertEquals(LoraTensors.CONFIG, cfg.name());
    assertEquals(TritonDatatype.INT32, cfg.datatype());
    assertArrayEquals(new long[] {1, adapters.size(), 3}, cfg.shape());
    assertArrayEquals(config, cfg.toInts());
    // the documented module ids: q 1, k 2, v 3, dense 4, h_to_4h 5, 4h_to_h 6, gate 7
    assertArrayEquals(
        new int[] {1, 2, 3, 4, 5, 7, 6},
        adapters.stream().mapToInt(x -> x.module().id()).toArray());
  }

  @Test
  void taskId_isOneUint64() {
    TritonTensor id = LoraTensors.taskId(0x8000_0000_0000_0001L);
    assertEquals(LoraTensors.TASK_ID, id.name());
    assertEquals(TritonDatatype.UINT64, id.datatype());
    assertArrayEquals(new long[] {1, 1}, id.shape());
    assertArrayEquals(new long[] {0x8000_0000_0000_0001L}, id.toLongs());
  }

  @Test
  void badInput_failsNamingWhatWasExpected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new LoraAdapter(LoraModule.ATTN_Q, 0, 4, 8, 8, new float[31], new float[32]));
    assertEquals(
        "Expected A of attn_q in layer 0 with 4 x 8 = 32 values, found 31", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LoraModule.ofTrtName("gate_proj"));
    assertTrue(
        e.getMessage()
            .equals(
                "Expected a LoRA target module of [attn_qkv, attn_q, attn_k, attn_v, attn_dense,"
                    + " mlp_h_to_4h, mlp_4h_to_h, mlp_gate], found 'gate_proj'"),
        e.getMessage());
    assertEquals(LoraModule.MLP_GATE, LoraModule.ofTrtName("mlp_gate"));
    assertThrows(
        IllegalArgumentException.class,
        () -> LoraTensors.of(List.of(), 16, LoraTensors.Dtype.FP16));
  }

  private static void put(ByteBuffer out, LoraTensors.Dtype dtype, float value) {
    switch (dtype) {
      case FP32 -> out.putFloat(value);
      case FP16 -> out.putShort(nearestHalf(value));
      case BF16 -> out.putShort(nearestBf16(value));
    }
  }

  /** Every finite FP16 value except -0, ascending, and its bits. */
  private static final double[] HALF_VALUES;

  private static final short[] HALF_BITS;

  static {
    java.util.TreeMap<Double, Short> table = new java.util.TreeMap<>();
    for (int bits = 0; bits < 0x10000; bits++) {
      int exponent = (bits >>> 10) & 0x1f;
      if (exponent == 0x1f || bits == 0x8000) {
        continue;
      }
      int mantissa = bits & 0x3ff;
      double magnitude =
          exponent == 0
              ? mantissa * Math.pow(2, -24)
              : (1 + mantissa / 1024.0) * Math.pow(2, exponent - 15);
      table.put((bits & 0x8000) != 0 ? -magnitude : magnitude, (short) bits);
    }
    HALF_VALUES = table.keySet().stream().mapToDouble(Double::doubleValue).toArray();
    HALF_BITS = new short[HALF_VALUES.length];
    int k = 0;
    for (short bits : table.values()) {
      HALF_BITS[k++] = bits;
    }
  }

  /**
   * The FP16 bits nearest to a finite value within range: the nearer neighbour in the table of all
   * halves, ties to the even one, zero keeping the value's sign.
   */
  static short nearestHalf(float value) {
    int at = java.util.Arrays.binarySearch(HALF_VALUES, value);
    int chosen;
    if (at >= 0) {
      chosen = at;
    } else {
      int hi = -at - 1;
      int lo = hi - 1;
      double dLo = value - HALF_VALUES[lo];
      double dHi = HALF_VALUES[hi] - value;
      chosen = dLo < dHi ? lo : dHi < dLo ? hi : (HALF_BITS[lo] & 1) == 0 ? lo : hi;
    }
    short bits = HALF_BITS[chosen];
    return bits == 0 && value < 0 ? (short) 0x8000 : bits;
  }

  /** The bfloat16 bits nearest to a finite value: the nearer of the two truncations around it. */
  static short nearestBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int down = bits & 0xffff0000;
    int up = down + 0x10000;
    double dDown = Math.abs((double) Float.intBitsToFloat(down) - value);
    double dUp = Math.abs((double) Float.intBitsToFloat(up) - value);
    int chosen = dDown < dUp ? down : dUp < dDown ? up : ((down >>> 16) & 1) == 0 ? down : up;
    return (short) (chosen >>> 16);
  }
}
