package dev.jbond.serving.lora;

import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.onnx.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reads and writes float32 tensors in the <a href="https://github.com/huggingface/safetensors">
 * safetensors</a> format, the format of PEFT's {@code adapter_model.safetensors}:
 *
 * <ol>
 *   <li>8 bytes: N, the header length, an unsigned little-endian 64-bit integer;
 *   <li>N bytes: the header, a UTF-8 JSON object. It maps each tensor name to {@code
 *       {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}} (byte offsets relative to the
 *       start of the data section, end exclusive), plus an optional {@code "__metadata__"} object
 *       of string values. It may end in spaces;
 *   <li>the data section: each tensor's elements, row-major, little-endian.
 * </ol>
 *
 * <p>{@link #write} sorts the tensors by name, lays them out back to back from offset 0 in that
 * order, and pads the header with spaces (0x20) so that {@code 8 + N} is a multiple of 8, as the
 * reference implementation does. The file is written to a temporary file in the same directory and
 * then renamed over the target, so readers see either the old file or the complete new one.
 *
 * <p>{@link #read} accepts what the reference reader accepts for {@code F32} tensors: a header
 * within the file and at most {@value #MAX_HEADER_BYTES} bytes long, and tensors that cover the
 * data section exactly, without gaps or overlaps.
 */
public final class SafeTensors {
  /** The header key of the string-to-string metadata map. */
  public static final String METADATA_KEY = "__metadata__";

  /** The largest header {@link #read} accepts, the limit of the reference reader. */
  public static final int MAX_HEADER_BYTES = 100_000_000;

  private static final String F32 = "F32";
  private static final int CHUNK_FLOATS = 1 << 16;

  private SafeTensors() {}

  /** One float32 tensor read from a file: its shape and its values. */
  public static final class Tensor {
    private final long[] shape;
    private final float[] values;

    private Tensor(long[] shape, float[] values) {
      this.shape = shape;
      this.values = values;
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions, each {@code >= 0}; empty for a scalar
     */
    public long[] shape() {
      return shape.clone();
    }

    /**
     * Returns a copy of the values.
     *
     * @return the elements, row-major
     */
    public float[] values() {
      return values.clone();
    }

    @Override
    public String toString() {
      return "Tensor[F32 " + Arrays.toString(shape) + "]";
    }
  }

  /**
   * Writes float32 tensors to {@code file} atomically, replacing it if it exists.
   *
   * @param file the file to write; its directory must exist
   * @param tensors the values of each tensor by name, row-major
   * @param shapes the shape of each tensor by name: the same names as {@code tensors}, each
   *     dimension {@code >= 0}, and the product equal to the tensor's number of values
   * @param metadata string metadata for the header's {@value #METADATA_KEY} entry; when empty the
   *     entry is left out
   * @throws IllegalArgumentException when the names of {@code tensors} and {@code shapes} differ, a
   *     name is empty or {@value #METADATA_KEY}, or a shape does not fit its values
   * @throws IOException when writing fails; the target is then left as it was
   */
  public static void write(
      Path file,
      Map<String, float[]> tensors,
      Map<String, long[]> shapes,
      Map<String, String> metadata)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(metadata, "metadata");
    TreeMap<String, float[]> sorted = new TreeMap<>(tensors);
    if (!sorted.keySet().equals(shapes.keySet())) {
      throw new IllegalArgumentException(
          "Expected a shape for each tensor and no other, found tensors "
              + sorted.keySet()
              + " and shapes "
              + new TreeMap<>(shapes).keySet());
    }
    Map<String, Object> header = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      Map<String, Object> meta = new TreeMap<>();
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        meta.put(
            Objects.requireNonNull(e.getKey(), "metadata key"),
            Objects.requireNonNull(e.getValue(), "metadata value"));
      }
      header.put(METADATA_KEY, meta);
    }
    long offset = 0;
    for (Map.Entry<String, float[]> e : sorted.entrySet()) {
      String name = e.getKey();
      Checks.checkArgument(
          !name.isEmpty() && !name.equals(METADATA_KEY),
          "Expected a tensor name other than '' and '%s', found '%s'",
          METADATA_KEY,
          name);
      long[] shape = shapes.get(name);
      float[] values = Objects.requireNonNull(e.getValue(), name);
      long count = elementCount(name, shape);
      Checks.checkArgument(
          count == values.length,
          "Expected %d values for shape %s of tensor '%s', found %d",
          count,
          Arrays.toString(shape),
          name,
          values.length);
      List<Long> dims = new ArrayList<>(shape.length);
      for (long d : shape) {
        dims.add(d);
      }
      long end = offset + 4L * values.length;
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", F32);
      entry.put("shape", dims);
      entry.put("data_offsets", List.of(offset, end));
      header.put(name, entry);
      offset = end;
    }
    byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) & ~7;
    ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(padded).put(json);
    while (prefix.hasRemaining()) {
      prefix.put((byte) ' ');
    }
    prefix.flip();
    writeAtomically(
        file,
        channel -> {
          writeFully(channel, prefix);
          ByteBuffer chunk = ByteBuffer.allocate(4 * CHUNK_FLOATS).order(ByteOrder.LITTLE_ENDIAN);
          for (float[] values : sorted.values()) {
            for (int from = 0; from < values.length; from += CHUNK_FLOATS) {
              int n = Math.min(CHUNK_FLOATS, values.length - from);
              chunk.clear();
              chunk.asFloatBuffer().put(values, from, n);
              chunk.limit(4 * n);
              writeFully(channel, chunk);
            }
          }
        });
  }

  /**
   * Reads every tensor of a safetensors file whose tensors are all float32.
   *
   * @param file the file
   * @return the tensors by name, sorted by name, unmodifiable
   * @throws ModelLoadException when the file is not a well-formed safetensors file, a tensor is not
   *     {@code F32}, or its offsets lie outside the data section or leave gaps; the message names
   *     the file and what was found
   * @throws IOException when reading fails
   */
  public static Map<String, Tensor> read(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      Header header = readHeader(file, channel);
      Map<String, Tensor> tensors = new TreeMap<>();
      for (Entry entry : header.entries) {
        tensors.put(entry.name, new Tensor(entry.shape, readFloats(file, channel, header, entry)));
      }
      return Collections.unmodifiableMap(tensors);
    }
  }

  /**
   * Reads the {@value #METADATA_KEY} map of a safetensors file, checking the header as {@link
   * #read} does.
   *
   * @param file the file
   * @return the metadata, empty when the header has none, unmodifiable
   * @throws ModelLoadException when the header is not well formed (see {@link #read})
   * @throws IOException when reading fails
   */
  public static Map<String, String> readMetadata(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(file, channel).metadata;
    }
  }

  /** A tensor's header entry. */
  private static final class Entry {
    final String name;
    final long[] shape;
    final long begin;
    final long end;

    Entry(String name, long[] shape, long begin, long end) {
      this.name = name;
      this.shape = shape;
      this.begin = begin;
      this.end = end;
    }
  }

  /** A parsed, checked header. */
  private static final class Header {
    final long dataStart;
    final List<Entry> entries;
    final Map<String, String> metadata;

    Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {
      this.dataStart = dataStart;
      this.entries = entries;
      this.metadata = metadata;
    }
  }

  private static Header readHeader(Path file, FileChannel channel) throws IOException {
    long size = channel.size();
    if (size < 8) {
      throw new ModelLoadException(
          "Expected a safetensors file of at least 8 bytes, found " + size + " in " + file);
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, channel, prefix, 0);
    long length = prefix.getLong(0);
    if (length < 0 || length > size - 8 || length > MAX_HEADER_BYTES) {
      throw new ModelLoadException(
          "Expected a safetensors header length of at most "
              + Math.min(size - 8, MAX_HEADER_BYTES)
              + " bytes, found "
              + Long.toUnsignedString(length)
              + " in "
              + file);
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) length);
    readFully(file, channel, bytes, 8);
    bytes.flip();
    String text;
    try {
      CharBuffer chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(bytes);
      text = chars.toString();
    } catch (CharacterCodingException e) {
      throw new ModelLoadException(
          "Expected a UTF-8 safetensors header, found invalid bytes in " + file, e);
    }
    Map<String, Object> json;
    try {
      json = Json.parseObject(text);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(
          "Expected a JSON object as the safetensors header of " + file + ": " + e.getMessage(), e);
    }
    long dataLength = size - 8 - length;
    Map<String, String> metadata = Map.of();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, Object> member : json.entrySet()) {
      if (member.getKey().equals(METADATA_KEY)) {
        metadata = metadata(file, member.getValue());
      } else {
        entries.add(entry(file, member.getKey(), member.getValue(), dataLength));
      }
    }
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
    long expected = 0;
    for (Entry e : byOffset) {
      if (e.begin != expected) {
        throw new ModelLoadException(
            "Expected tensor '"
                + e.name
                + "' to start at data offset "
                + expected
                + " (tensors back to back without gaps or overlaps), found ["
                + e.begin
                + ", "
                + e.end
                + "] in "
                + file);
      }
      expected = e.end;
    }
    if (expected != dataLength) {
      throw new ModelLoadException(
          "Expected the tensors to cover the "
              + dataLength
              + " data bytes, found "
              + expected
              + " covered in "
              + file);
    }
    return new Header(8 + length, entries, metadata);
  }

  private static Map<String, String> metadata(Path file, Object value) throws ModelLoadException {
    if (!(value instanceof Map<?, ?> map)) {
      throw new ModelLoadException(
          "Expected an object for '"
              + METADATA_KEY
              + "', found "
              + Json.describeValue(value)
              + " in "
              + file);
    }
    Map<String, String> metadata = new TreeMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw new ModelLoadException(
            "Expected a string for metadata '"
                + e.getKey()
                + "', found "
                + Json.describeValue(e.getValue())
                + " in "
                + file);
      }
      metadata.put((String) e.getKey(), s);
    }
    return Collections.unmodifiableMap(metadata);
  }

  private static Entry entry(Path file, String name, Object value, long dataLength)
      throws ModelLoadException {
    if (!(value instanceof Map<?, ?> map)) {
      throw new ModelLoadException(
          "Expected an object for tensor '"
              + name
              + "', found "
              + Json.describeValue(value)
              + " in "
              + file);
    }
    Object dtype = map.get("dtype");
    if (!F32.equals(dtype)) {
      throw new ModelLoadException(
          "Expected dtype \"F32\" for tensor '"
              + name
              + "', found "
              + Json.describeValue(dtype)
              + " in "
              + file);
    }
    long[] shape = longs(file, name, "shape", map.get("shape"), -1);
    long[] offsets = longs(file, name, "data_offsets", map.get("data_offsets"), 2);
    long count = 1;
    for (long d : shape) {
      if (d < 0 || (d > 0 && count > Integer.MAX_VALUE / d)) {
        throw new ModelLoadException(
            "Expected a shape of at most "
                + Integer.MAX_VALUE
                + " elements for tensor '"
                + name
                + "', found "
                + Arrays.toString(shape)
                + " in "
                + file);
      }
      count *= d;
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin < 0 || end < begin || end > dataLength || end - begin != 4 * count) {
      throw new ModelLoadException(
          "Expected data_offsets of tensor '"
              + name
              + "' within [0, "
              + dataLength
              + "] spanning "
              + 4 * count
              + " bytes for shape "
              + Arrays.toString(shape)
              + ", found ["
              + begin
              + ", "
              + end
              + "] in "
              + file);
    }
    return new Entry(name, shape, begin, end);
  }

  /** A JSON array of integers; {@code length} {@code -1} for any length. */
  private static long[] longs(Path file, String name, String key, Object value, int length)
      throws ModelLoadException {
    if (value instanceof List<?> list && (length < 0 || list.size() == length)) {
      long[] out = new long[list.size()];
      boolean ok = true;
      for (int i = 0; i < out.length && ok; i++) {
        if (list.get(i) instanceof Long l) {
          out[i] = l;
        } else {
          ok = false;
        }
      }
      if (ok) {
        return out;
      }
    }
    throw new ModelLoadException(
        "Expected "
            + key
            + " of tensor '"
            + name
            + "' to be an array of "
            + (length < 0 ? "" : length + " ")
            + "integers, found "
            + Json.write(value)
            + " in "
            + file);
  }

  private static float[] readFloats(Path file, FileChannel channel, Header header, Entry entry)
      throws IOException {
    float[] values = new float[(int) ((entry.end - entry.begin) / 4)];
    ByteBuffer chunk = ByteBuffer.allocate(4 * CHUNK_FLOATS).order(ByteOrder.LITTLE_ENDIAN);
    long position = header.dataStart + entry.begin;
    for (int from = 0; from < values.length; from += CHUNK_FLOATS) {
      int n = Math.min(CHUNK_FLOATS, values.length - from);
      chunk.clear().limit(4 * n);
      readFully(file, channel, chunk, position);
      position += 4L * n;
      chunk.flip();
      chunk.asFloatBuffer().get(values, from, n);
    }
    return values;
  }

  private static long elementCount(String name, long[] shape) {
    Objects.requireNonNull(shape, name);
    long count = 1;
    for (long d : shape) {
      Checks.checkArgument(
          d >= 0 && (d == 0 || count <= Integer.MAX_VALUE / d),
          "Expected dimensions >= 0 and at most %d elements for tensor '%s', found shape %s",
          Integer.MAX_VALUE,
          name,
          Arrays.toString(shape));
      count *= d;
    }
    return count;
  }

  /** Writes a file's content to an open channel. */
  @FunctionalInterface
  interface Content {
    void writeTo(FileChannel channel) throws IOException;
  }

  /**
   * Writes {@code file} through a temporary file in its directory, forced to storage and then
   * renamed over the target (atomic move, replacing an existing file). On failure the temporary
   * file is deleted and the target is untouched. The temporary file is created with the default
   * permissions (the process's umask), not the owner-only ones of {@link Files#createTempFile}, so
   * that other users, such as an inference server, can read the result; its name holds the process
   * and thread ids, so concurrent writers of one target do not share it.
   */
  static void writeAtomically(Path file, Content content) throws IOException {
    Path target = file.toAbsolutePath();
    Path temporary =
        target.resolveSibling(
            "."
                + target.getFileName()
                + "."
                + ProcessHandle.current().pid()
                + "-"
                + Thread.currentThread().getId()
                + ".tmp");
    try {
      try (FileChannel channel =
          FileChannel.open(
              temporary,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        content.writeTo(channel);
        channel.force(true);
      }
      Files.move(
          temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (Throwable failure) {
      try {
        Files.deleteIfExists(temporary);
      } catch (IOException cleanup) {
        failure.addSuppressed(cleanup);
      }
      throw failure;
    }
  }

  static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  static void readFully(Path file, FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new ModelLoadException(
            "Expected "
                + buffer.remaining()
                + " more bytes at offset "
                + at
                + ", found the end of "
                + file);
      }
      at += n;
    }
  }
}
