package dev.jbond.serving.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.onnx.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safetensors files against the format as specified (huggingface/safetensors README): an 8-byte
 * little-endian header length, a JSON header padded with spaces to 8-byte alignment, and tensors
 * back to back in the data section, here checked by reading the bytes in the test.
 */
class SafeTensorsTest {
  @TempDir Path dir;

  private static float[] randoms(int n, SplittableRandom rng) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return v;
  }

  private static Map<String, float[]> tensors() {
    SplittableRandom rng = new SplittableRandom(7);
    Map<String, float[]> t = new LinkedHashMap<>();
    t.put("z.weight", randoms(6, rng));
    t.put("a.lora_B.weight", randoms(12, rng));
    t.put("m.scalar", new float[] {3.5f});
    t.put("b.empty", new float[0]);
    t.put("a.lora_A.weight", randoms(20, rng));
    return t;
  }

  private static Map<String, long[]> shapes() {
    return Map.of(
        "z.weight", new long[] {2, 3},
        "a.lora_B.weight", new long[] {3, 4},
        "m.scalar", new long[] {},
        "b.empty", new long[] {0, 5},
        "a.lora_A.weight", new long[] {4, 5});
  }

  @Test
  void write_thenRead_returnsTheSameTensorsAndMetadata() throws IOException {
    Path file = dir.resolve("t.safetensors");
    SafeTensors.write(file, tensors(), shapes(), Map.of("format", "pt"));

    Map<String, SafeTensors.Tensor> read = SafeTensors.read(file);
    assertEquals(
        List.of("a.lora_A.weight", "a.lora_B.weight", "b.empty", "m.scalar", "z.weight"),
        new ArrayList<>(read.keySet()));
    for (Map.Entry<String, float[]> e : tensors().entrySet()) {
      assertArrayEquals(e.getValue(), read.get(e.getKey()).values(), e.getKey());
      assertArrayEquals(shapes().get(e.getKey()), read.get(e.getKey()).shape(), e.getKey());
    }
    assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(file));
  }

  @Test
  void write_layout_matchesTheSpecificationByteForByte() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Map<String, float[]> tensors = tensors();
    SafeTensors.write(file, tensors, shapes(), Map.of("format", "pt"));
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);

    long n = buffer.getLong(0);
    assertTrue(n > 0 && 8 + n <= bytes.length, "header length " + n);
    assertEquals(0, (8 + n) % 8, "8 + N is a multiple of 8");
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    String json = header.stripTrailing();
    assertTrue(json.endsWith("}"), header);
    for (int i = json.length(); i < header.length(); i++) {
      assertEquals(' ', header.charAt(i), "padding is spaces");
    }
    assertTrue(header.length() - json.length() < 8, "padding is minimal");

    Map<String, Object> members = Json.parseObject(json);
    List<String> keys = new ArrayList<>(members.keySet());
    assertEquals(SafeTensors.METADATA_KEY, keys.get(0));
    assertEquals(Map.of("format", "pt"), members.get(SafeTensors.METADATA_KEY));
    List<String> names = keys.subList(1, keys.size());
    assertEquals(names.stream().sorted().toList(), names, "tensors sorted by name");

    long dataStart = 8 + n;
    long expectedBegin = 0;
    for (String name : names) {
      Map<?, ?> entry = (Map<?, ?>) members.get(name);
      assertEquals("F32", entry.get("dtype"));
      long[] shape = ((List<?>) entry.get("shape")).stream().mapToLong(x -> (Long) x).toArray();
      assertArrayEquals(shapes().get(name), shape, name);
      List<?> offsets = (List<?>) entry.get("data_offsets");
      long begin = (Long) offsets.get(0);
      long end = (Long) offsets.get(1);
      assertEquals(expectedBegin, begin, "contiguous from 0: " + name);
      float[] values = tensors.get(name);
      assertEquals(4L * values.length, end - begin, name);
      for (int i = 0; i < values.length; i++) {
        assertEquals(
            Float.floatToRawIntBits(values[i]),
            buffer.getInt((int) (dataStart + begin + 4L * i)),
            name + "[" + i + "]");
      }
      expectedBegin = end;
    }
    assertEquals(bytes.length - dataStart, expectedBegin, "the data section is covered exactly");
  }

  @Test
  void write_oneSmallTensor_isTheExpectedBytes() throws IOException {
    Path file = dir.resolve("x.safetensors");
    SafeTensors.write(
        file, Map.of("x", new float[] {1f, -2f}), Map.of("x", new long[] {2}), Map.of());

    String json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    assertEquals(54, json.length());
    ByteBuffer expected = ByteBuffer.allocate(8 + 56 + 8).order(ByteOrder.LITTLE_ENDIAN);
    expected.putLong(56).put(json.getBytes(StandardCharsets.US_ASCII)).put((byte) ' ');
    expected.put((byte) ' ').putFloat(1f).putFloat(-2f);
    assertArrayEquals(expected.array(), Files.readAllBytes(file));
  }

  @Test
  void write_replacesAnExistingFileAndLeavesNoTemporaryFile() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Files.writeString(file, "old");
    SafeTensors.write(
        file, Map.of("x", new float[] {1f}), Map.of("x", new long[] {1}), Map.of("k", "v"));

    assertArrayEquals(new float[] {1f}, SafeTensors.read(file).get("x").values());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(file), files.toList());
    }
  }

  @Test
  void write_givesTheFileTheDefaultPermissionsNotOwnerOnly() throws IOException {
    Assumptions.assumeTrue(
        dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
    Path reference = Files.createFile(dir.resolve("reference"));
    Path file = dir.resolve("t.safetensors");
    SafeTensors.write(file, Map.of("x", new float[] {1f}), Map.of("x", new long[] {1}), Map.of());

    assertEquals(
        Files.getPosixFilePermissions(reference),
        Files.getPosixFilePermissions(file),
        "readable by whom the umask allows, e.g. an inference server's user");
  }

  @Test
  void write_badArguments_failsNamingWhatWasExpected() {
    Path file = dir.resolve("t.safetensors");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SafeTensors.write(
                    file, Map.of("x", new float[3]), Map.of("x", new long[] {2, 2}), Map.of()));
    assertEquals("Expected 4 values for shape [2, 2] of tensor 'x', found 3", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SafeTensors.write(
                    file, Map.of("x", new float[1]), Map.of("y", new long[] {1}), Map.of()));
    assertEquals(
        "Expected a shape for each tensor and no other, found tensors [x] and shapes [y]",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SafeTensors.write(
                    file,
                    Map.of(SafeTensors.METADATA_KEY, new float[1]),
                    Map.of(SafeTensors.METADATA_KEY, new long[] {1}),
                    Map.of()));
    assertEquals(
        "Expected a tensor name other than '' and '__metadata__', found '__metadata__'",
        e.getMessage());
    assertTrue(Files.notExists(file));
  }

  /** A file with the given header text (padded to 8) and data bytes. */
  private Path handMade(String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) & ~7;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(json);
    while (b.position() < 8 + padded) {
      b.put((byte) ' ');
    }
    Path file = dir.resolve("hand.safetensors");
    Files.write(file, b.array());
    return file;
  }

  @Test
  void read_headerLengthBeyondTheFile_fails() throws IOException {
    Path file = dir.resolve("short.safetensors");
    ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
    Files.write(file, b.array());
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertEquals(
        "Expected a safetensors header length of at most 12 bytes, found 1000 in " + file,
        e.getMessage());

    Files.write(file, new byte[] {1, 2, 3});
    e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertEquals(
        "Expected a safetensors file of at least 8 bytes, found 3 in " + file, e.getMessage());
  }

  @Test
  void read_otherDtype_fails() throws IOException {
    Path file = handMade("{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertEquals(
        "Expected dtype \"F32\" for tensor 'x', found \"BF16\" in " + file, e.getMessage());
  }

  @Test
  void read_offsetsOutOfRange_fails() throws IOException {
    Path file = handMade("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertEquals(
        "Expected data_offsets of tensor 'x' within [0, 4] spanning 8 bytes for shape [2],"
            + " found [0, 8] in "
            + file,
        e.getMessage());
  }

  @Test
  void read_gapBetweenTensors_fails() throws IOException {
    Path file =
        handMade(
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
            12);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertEquals(
        "Expected tensor 'y' to start at data offset 4 (tensors back to back without gaps or"
            + " overlaps), found [8, 12] in "
            + file,
        e.getMessage());
  }

  @Test
  void read_headerNotJson_fails() throws IOException {
    Path file = handMade("{\"x\":", 0);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensors.read(file));
    assertTrue(
        e.getMessage().startsWith("Expected a JSON object as the safetensors header of " + file),
        e.getMessage());
  }
}
