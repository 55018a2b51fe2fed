package dev.jbond.serving.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.TritonTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code .npy} files against NEP 1 (format 1.0): magic {@code \x93NUMPY}, version {@code 1, 0},
 * a little-endian 16-bit header length, a Python dict literal padded with spaces and ended by a
 * newline so that the data starts at a multiple of 64, then the raw little-endian elements.
 */
class NpyFilesTest {
  @TempDir Path dir;

  @Test
  void write_smallFp32Array_isTheExpectedBytes() throws IOException {
    Path file = dir.resolve("a.npy");
    float[] values = {0f, 1f, 2f, 3f, 4f, -5.5f};
    NpyFiles.write(file, TritonTensor.ofFp32("a", new long[] {2, 3}, values));

    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // 10 bytes of magic, version and length, the dict, spaces, '\n': 128 bytes in all
    int headerLength = 128 - 10;
    ByteBuffer expected = ByteBuffer.allocate(128 + 24).order(ByteOrder.LITTLE_ENDIAN);
    expected.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    expected.putShort((short) headerLength);
    expected.put(dict.getBytes(StandardCharsets.US_ASCII));
    expected.put(" ".repeat(headerLength - dict.length() - 1).getBytes(StandardCharsets.US_ASCII));
    expected.put((byte) '\n');
    for (float v : values) {
      expected.putFloat(v);
    }
    assertArrayEquals(expected.array(), Files.readAllBytes(file));
  }

  static Stream<long[]> shapes() {
    return Stream.of(
        new long[] {},
        new long[] {5},
        new long[] {1, 12, 64},
        new long[] {0, 3},
        new long[] {1, 123456789, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void preamble_anyShape_isAlignedTo64AndEndsTheDictWithANewline(long[] shape) {
    for (NpyFiles.Dtype dtype : NpyFiles.Dtype.values()) {
      byte[] preamble = NpyFiles.preamble(dtype, shape);
      assertEquals(0, preamble.length % 64, Arrays.toString(shape));
      int headerLength =
          ByteBuffer.wrap(preamble, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
      assertEquals(preamble.length - 10, headerLength);
      String header = new String(preamble, 10, headerLength, StandardCharsets.US_ASCII);
      assertEquals('\n', header.charAt(header.length() - 1));
      String tuple =
          shape.length == 1
              ? "(" + shape[0] + ",)"
              : Arrays.stream(shape)
                  .mapToObj(Long::toString)
                  .collect(java.util.stream.Collectors.joining(", ", "(", ")"));
      assertEquals(
          "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + tuple + ", }",
          header.stripTrailing());
    }
  }

  @Test
  void write_thenRead_roundTripsFp16Fp32AndInt32() throws IOException {
    List<TritonTensor> tensors =
        List.of(
            TritonTensor.ofFp16("h", new long[] {1, 2, 3}, 1f, -2f, 0.5f, 65504f, 0f, -0.25f),
            TritonTensor.ofFp32("f", new long[] {4}, 1e-30f, -3f, Float.MAX_VALUE, 7f),
            TritonTensor.ofInt32("i", new long[] {1, 2, 3}, 1, 0, 4, 2, 5, 8),
            TritonTensor.ofFp32("s", new long[] {}, 42f));
    for (TritonTensor t : tensors) {
      Path file = dir.resolve(t.name() + ".npy");
      NpyFiles.write(file, t);
      NpyFiles.NpyArray read = NpyFiles.read(file);
      assertEquals(NpyFiles.dtypeOf(t), read.dtype(), t.name());
      assertArrayEquals(t.shape(), read.shape(), t.name());
      assertArrayEquals(t.raw().toByteArray(), read.data(), t.name());
    }
    assertEquals("<f2", NpyFiles.read(dir.resolve("h.npy")).descr());
    assertEquals("<i4", NpyFiles.read(dir.resolve("i.npy")).descr());
  }

  @Test
  void write_bf16_isRejectedSayingWhy() {
    TritonTensor bf16 = TritonTensor.ofBf16("lora_weights", new long[] {1, 1, 2}, 1f, 2f);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> NpyFiles.write(dir.resolve("w.npy"), bf16));
    assertEquals(
        "Expected a tensor of FP16, FP32 or INT32 for a .npy file, found BF16 for 'lora_weights'"
            + " (NumPy has no bfloat16 dtype and TensorRT-LLM's loadNpy reads only"
            + " ?, u1, i1, i4, i8, f2 and f4)",
        e.getMessage());
    assertEquals(false, Files.exists(dir.resolve("w.npy")));
  }

  @Test
  void write_dataOfAnotherSize_fails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                NpyFiles.write(
                    dir.resolve("w.npy"), NpyFiles.Dtype.FP16, new long[] {2, 2}, new byte[6]));
    assertEquals("Expected 8 bytes of <f2 data for shape [2, 2], found 6", e.getMessage());
  }

  /** A version 1.0 file with the given dict (padded to 64) and data bytes. */
  private Path handMade(String dict, int dataBytes) throws IOException {
    int total = (10 + dict.length() + 1 + 63) / 64 * 64;
    ByteBuffer b = ByteBuffer.allocate(total + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (total - 10));
    b.put(dict.getBytes(StandardCharsets.US_ASCII));
    while (b.position() < total - 1) {
      b.put((byte) ' ');
    }
    b.put((byte) '\n');
    Path file = dir.resolve("hand.npy");
    Files.write(file, b.array());
    return file;
  }

  @Test
  void read_malformedFiles_failNamingWhatWasExpected() throws IOException {
    Path f8 = handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> NpyFiles.read(f8));
    assertEquals("Expected descr '<f2', '<f4' or '<i4', found '<f8' in " + f8, e.getMessage());

    Path v2 = handMade("{'descr': '|V2', 'fortran_order': False, 'shape': (2,), }", 4);
    e = assertThrows(ModelLoadException.class, () -> NpyFiles.read(v2));
    assertEquals("Expected descr '<f2', '<f4' or '<i4', found '|V2' in " + v2, e.getMessage());

    Path shortData = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8);
    e = assertThrows(ModelLoadException.class, () -> NpyFiles.read(shortData));
    assertEquals(
        "Expected 12 data bytes for <f4 shape [3], found 8 in " + shortData, e.getMessage());

    Path fortran = handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4);
    e = assertThrows(ModelLoadException.class, () -> NpyFiles.read(fortran));
    assertEquals("Expected 'fortran_order': False, found true in " + fortran, e.getMessage());

    Path magic = dir.resolve("magic.npy");
    Files.write(magic, "PK\u0003\u0004 not numpy".getBytes(StandardCharsets.ISO_8859_1));
    e = assertThrows(ModelLoadException.class, () -> NpyFiles.read(magic));
    assertEquals("Expected the .npy magic \\x93NUMPY at the start of " + magic, e.getMessage());
  }
}
