package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TritonTensorTest {
  private static final long[] PAIR = {2};

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  @Test
  void ofInt32_littleEndian_exactBytes() {
    TritonTensor t = TritonTensor.ofInt32("ids", PAIR, 1, -2);
    assertArrayEquals(bytes(1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff), t.raw().toByteArray());
    assertArrayEquals(new int[] {1, -2}, t.toInts());
    assertArrayEquals(new long[] {1, -2}, t.toLongs());
  }

  @Test
  void ofInt64AndUint64_littleEndian_exactBytes() {
    assertArrayEquals(
        bytes(0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01),
        TritonTensor.ofInt64("x", new long[] {1}, 0x0102030405060708L).raw().toByteArray());
    TritonTensor seed = TritonTensor.ofUint64("seed", new long[] {1, 1}, -1L);
    assertArrayEquals(
        bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), seed.raw().toByteArray());
    assertEquals(TritonDatatype.UINT64, seed.datatype());
  }

  @Test
  void ofFp32Fp16Fp64_littleEndian_exactBytes() {
    assertArrayEquals(
        bytes(0, 0, 0x80, 0x3f),
        TritonTensor.ofFp32("x", new long[] {1}, 1.0f).raw().toByteArray());
    assertArrayEquals(
        bytes(0x00, 0x3c, 0x00, 0xc0),
        TritonTensor.ofFp16("x", PAIR, 1.0f, -2.0f).raw().toByteArray());
    assertArrayEquals(
        bytes(0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
        TritonTensor.ofFp64("x", new long[] {1}, 1.0).raw().toByteArray());
    assertArrayEquals(
        new float[] {1.0f, -2.0f}, TritonTensor.ofFp16("x", PAIR, 1.0f, -2.0f).toFloats());
    assertArrayEquals(
        new double[] {0.25}, TritonTensor.ofFp64("x", new long[] {}, 0.25).toDoubles());
  }

  @Test
  void ofBools_oneBytePerElement() {
    TritonTensor t = TritonTensor.ofBools("flags", new long[] {3}, true, false, true);
    assertArrayEquals(bytes(1, 0, 1), t.raw().toByteArray());
    assertArrayEquals(new boolean[] {true, false, true}, t.toBooleans());
  }

  @Test
  void ofStrings_fourByteLittleEndianLengthPrefixes() {
    TritonTensor t = TritonTensor.ofStrings("text", new long[] {2}, List.of("ab", ""));
    assertArrayEquals(bytes(2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0), t.raw().toByteArray());
    assertEquals(List.of("ab", ""), t.toStrings());
    assertEquals(2, t.elementCount());
  }

  @Test
  void ofRaw_bytesWithBadPrefix_namesTensor() {
    ByteString truncated = ByteString.copyFrom(bytes(5, 0, 0, 0, 'a'));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TritonTensor.ofRaw("text", TritonDatatype.BYTES, new long[] {1}, truncated));
    assertEquals("Expected 5 bytes for element 0 of BYTES tensor 'text', found 1", e.getMessage());
  }

  @Test
  void ofRaw_wrongByteSize_namesTensorAndShape() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TritonTensor.ofRaw(
                    "logits",
                    TritonDatatype.FP32,
                    new long[] {2, 2},
                    ByteString.copyFrom(new byte[12])));
    assertEquals(
        "Expected 16 bytes of FP32 data for shape [2, 2] of tensor 'logits', found 12",
        e.getMessage());
  }

  @Test
  void factories_countMismatch_oneLineMessageNamingTensor() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TritonTensor.ofInt32("input_ids", new long[] {2, 3}, 1, 2, 3, 4, 5));
    assertEquals(
        "Expected 6 elements for shape [2, 3] of tensor 'input_ids', found 5", e.getMessage());
    IllegalArgumentException negative =
        assertThrows(
            IllegalArgumentException.class, () -> TritonTensor.ofInt32("x", new long[] {-1}, 1));
    assertEquals(
        "Expected dimensions >= 0 in shape [-1] of tensor 'x', found -1", negative.getMessage());
  }

  @Test
  void accessor_wrongDatatype_throwsIllegalState() {
    TritonTensor t = TritonTensor.ofFp32("scores", new long[] {1}, 1f);
    IllegalStateException e = assertThrows(IllegalStateException.class, t::toInts);
    assertTrue(e.getMessage().startsWith("Expected tensor 'scores' to have datatype in [INT8"));
  }

  @Test
  void equalsAndCopies_valueSemantics() {
    long[] shape = {2};
    int[] data = {3, 4};
    TritonTensor t = TritonTensor.ofInt32("x", shape, data);
    shape[0] = 99;
    data[0] = 99;
    assertEquals(TritonTensor.ofInt32("x", new long[] {2}, 3, 4), t);
    t.shape()[0] = 7;
    assertArrayEquals(new long[] {2}, t.shape());
    assertEquals("TritonTensor[x INT32 [2]]", t.toString());
  }

  @Test
  void datatype_unknownWireName_listsKnownOnes() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> TritonDatatype.fromWireName("INT33", "x"));
    assertTrue(
        e.getMessage()
            .startsWith("Unknown datatype 'INT33' for tensor 'x', expected one of [BOOL,"),
        e.getMessage());
  }

  @Test
  void float16_knownValues_roundToNearestEven() {
    assertEquals((short) 0x3c00, Float16.fromFloat(1.0f));
    assertEquals((short) 0xc000, Float16.fromFloat(-2.0f));
    assertEquals((short) 0x7bff, Float16.fromFloat(65504f)); // largest finite
    assertEquals((short) 0x7bff, Float16.fromFloat(65519f));
    assertEquals((short) 0x7c00, Float16.fromFloat(65520f)); // tie to even: infinity
    assertEquals((short) 0x2e66, Float16.fromFloat(0.1f));
    assertEquals((short) 0x0001, Float16.fromFloat(0x1p-24f)); // smallest subnormal
    assertEquals((short) 0x0000, Float16.fromFloat(0x1p-25f)); // tie to even: zero
    assertEquals((short) 0x0001, Float16.fromFloat(0x1.8p-25f));
    assertEquals((short) 0x8000, Float16.fromFloat(-0.0f));
    assertEquals((short) 0x3c00, Float16.fromFloat(1.0f + 0x1p-11f)); // tie: down to even
    assertEquals((short) 0x3c02, Float16.fromFloat(1.0f + 0x3p-11f)); // tie: up to even
    assertEquals((short) 0xfc00, Float16.fromFloat(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(Float16.toFloat(Float16.fromFloat(Float.NaN))));
  }

  @Test
  void float16_everyHalf_roundTripsExactly() {
    for (int bits = 0; bits <= 0xffff; bits++) {
      short half = (short) bits;
      float value = Float16.toFloat(half);
      if (Float.isNaN(value)) {
        assertTrue(Float.isNaN(Float16.toFloat(Float16.fromFloat(value))));
      } else {
        assertEquals(half, Float16.fromFloat(value), "half bits " + Integer.toHexString(bits));
      }
    }
  }

  @Test
  void bf16_decodesUpperHalfOfFloat() {
    TritonTensor t =
        TritonTensor.ofRaw(
            "x", TritonDatatype.BF16, new long[] {1}, ByteString.copyFrom(bytes(0x80, 0x3f)));
    assertArrayEquals(new float[] {1.0f}, t.toFloats());
  }

  @Test
  void ofBytes_arbitraryBytes_roundTrip() {
    byte[] blob = "\u00e9".getBytes(StandardCharsets.UTF_8);
    TritonTensor t = TritonTensor.ofBytes("b", new long[] {1}, List.of(blob));
    assertArrayEquals(blob, t.toByteArrays().get(0));
    assertEquals(t, TritonTensor.ofRaw("b", TritonDatatype.BYTES, new long[] {1}, t.raw()));
  }
}
