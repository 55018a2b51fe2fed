package dev.jbond.serving.triton;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An immutable named tensor in Triton's raw layout: row-major elements, little-endian, {@link
 * TritonDatatype#BYTES} elements each prefixed with a 4-byte little-endian length. Factories copy
 * what they are given, accessors hand out copies, so a tensor can be shared between threads and
 * placed inside records.
 *
 * <p>The shape's dimensions are concrete ({@code >= 0}; {@code -1} belongs to model metadata, not
 * to data) and their product is the element count; an empty shape is a scalar with one element.
 * Every factory checks that the data has exactly that many elements and names the tensor when it
 * does not.
 *
 * <p>See {@link TritonTensors} for putting tensors into requests and reading them from responses.
 */
public final class TritonTensor {
  private final String name;
  private final TritonDatatype datatype;
  private final long[] shape;
  private final int elementCount;
  private final ByteString raw;

  private TritonTensor(
      String name, TritonDatatype datatype, long[] shape, int elementCount, ByteString raw) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
    this.elementCount = elementCount;
    this.raw = raw;
  }

  /**
   * Returns a {@link TritonDatatype#BOOL} tensor.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofBools(String name, long[] shape, boolean... values) {
    int n = checkCount(name, shape, values.length);
    byte[] bytes = new byte[n];
    for (int i = 0; i < n; i++) {
      bytes[i] = (byte) (values[i] ? 1 : 0);
    }
    return create(name, TritonDatatype.BOOL, shape, n, bytes);
  }

  /**
   * Returns an {@link TritonDatatype#INT32} tensor.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofInt32(String name, long[] shape, int... values) {
    int n = checkCount(name, shape, values.length);
    ByteBuffer buffer = allocate(n, 4);
    buffer.asIntBuffer().put(values);
    return create(name, TritonDatatype.INT32, shape, n, buffer.array());
  }

  /**
   * Returns an {@link TritonDatatype#INT64} tensor.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofInt64(String name, long[] shape, long... values) {
    return longs(name, TritonDatatype.INT64, shape, values);
  }

  /**
   * Returns a {@link TritonDatatype#UINT64} tensor (for example TensorRT-LLM's {@code seed}). The
   * Java {@code long}s are taken as the unsigned 64-bit patterns, so {@code -1L} is {@code 2^64 -
   * 1}.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements' bits, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofUint64(String name, long[] shape, long... values) {
    return longs(name, TritonDatatype.UINT64, shape, values);
  }

  /**
   * Returns an {@link TritonDatatype#FP32} tensor.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofFp32(String name, long[] shape, float... values) {
    int n = checkCount(name, shape, values.length);
    ByteBuffer buffer = allocate(n, 4);
    buffer.asFloatBuffer().put(values);
    return create(name, TritonDatatype.FP32, shape, n, buffer.array());
  }

  /**
   * Returns an {@link TritonDatatype#FP16} tensor, rounding each value to the nearest half (ties to
   * even; out-of-range values become infinities).
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofFp16(String name, long[] shape, float... values) {
    return halves(name, TritonDatatype.FP16, shape, values, Float16::fromFloat);
  }

  /**
   * Returns a {@link TritonDatatype#BF16} tensor, rounding each value to the nearest bfloat16 (ties
   * to even).
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofBf16(String name, long[] shape, float... values) {
    return halves(name, TritonDatatype.BF16, shape, values, Float16::bf16FromFloat);
  }

  /** A 16-bit float tensor, each value narrowed by {@code narrow}. */
  private static TritonTensor halves(
      String name, TritonDatatype datatype, long[] shape, float[] values, FloatNarrowing narrow) {
    int n = checkCount(name, shape, values.length);
    ByteBuffer buffer = allocate(n, 2);
    for (float v : values) {
      buffer.putShort(narrow.bits(v));
    }
    return create(name, datatype, shape, n, buffer.array());
  }

  /** float to 16 bits. */
  @FunctionalInterface
  private interface FloatNarrowing {
    short bits(float value);
  }

  /**
   * Returns an {@link TritonDatatype#FP64} tensor.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofFp64(String name, long[] shape, double... values) {
    int n = checkCount(name, shape, values.length);
    ByteBuffer buffer = allocate(n, 8);
    buffer.asDoubleBuffer().put(values);
    return create(name, TritonDatatype.FP64, shape, n, buffer.array());
  }

  /**
   * Returns a {@link TritonDatatype#BYTES} tensor of arbitrary byte strings.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major; each is copied
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofBytes(String name, long[] shape, List<byte[]> values) {
    int n = checkCount(name, shape, values.size());
    ByteString.Output out = ByteString.newOutput();
    byte[] prefix = new byte[4];
    for (byte[] value : values) {
      ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).putInt(value.length);
      out.write(prefix, 0, 4);
      out.write(value, 0, value.length);
    }
    return new TritonTensor(
        checkName(name), TritonDatatype.BYTES, shape.clone(), n, out.toByteString());
  }

  /**
   * Returns a {@link TritonDatatype#BYTES} tensor of UTF-8 strings.
   *
   * @param name the tensor name, non-empty
   * @param shape the dimensions, each {@code >= 0}
   * @param values the elements, row-major
   * @return the tensor
   * @throws IllegalArgumentException when the element count does not match the shape
   */
  public static TritonTensor ofStrings(String name, long[] shape, List<String> values) {
    List<byte[]> bytes = new ArrayList<>(values.size());
    for (String value : values) {
      bytes.add(value.getBytes(StandardCharsets.UTF_8));
    }
    return ofBytes(name, shape, bytes);
  }

  /**
   * Returns a tensor over data already in Triton's raw layout, for example one entry of {@code
   * raw_output_contents}. The bytes are not copied ({@link ByteString} is immutable).
   *
   * @param name the tensor name, non-empty
   * @param datatype the element type
   * @param shape the dimensions, each {@code >= 0}
   * @param raw the elements in raw layout
   * @return the tensor
   * @throws IllegalArgumentException when the byte size does not match the shape (fixed-size
   *     types), or the length prefixes do not describe exactly that many elements ({@code BYTES})
   */
  public static TritonTensor ofRaw(
      String name, TritonDatatype datatype, long[] shape, ByteString raw) {
    Objects.requireNonNull(datatype, "datatype");
    int n = elementCount(checkName(name), shape);
    if (datatype.isFixedSize()) {
      long expected = (long) n * datatype.elementSize();
      if (raw.size() != expected) {
        throw new IllegalArgumentException(
            "Expected "
                + expected
                + " bytes of "
                + datatype
                + " data for shape "
                + Arrays.toString(shape)
                + " of tensor '"
                + name
                + "', found "
                + raw.size());
      }
    } else {
      int found = countByteElements(name, raw);
      if (found != n) {
        throw countMismatch(name, shape, n, found);
      }
    }
    return new TritonTensor(name, datatype, shape.clone(), n, raw);
  }

  /**
   * Returns the tensor name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the element type.
   *
   * @return the datatype
   */
  public TritonDatatype datatype() {
    return datatype;
  }

  /**
   * Returns a copy of the shape.
   *
   * @return the dimensions
   */
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Returns the number of elements, the product of the shape.
   *
   * @return the element count
   */
  public int elementCount() {
    return elementCount;
  }

  /**
   * Returns the elements in Triton's raw layout (immutable, not copied).
   *
   * @return the raw bytes
   */
  public ByteString raw() {
    return raw;
  }

  /**
   * Returns the elements of a {@link TritonDatatype#BOOL} tensor (any non-zero byte is true).
   *
   * @return a new array
   * @throws IllegalStateException when the tensor has another datatype
   */
  public boolean[] toBooleans() {
    requireType(TritonDatatype.BOOL);
    boolean[] values = new boolean[elementCount];
    for (int i = 0; i < elementCount; i++) {
      values[i] = raw.byteAt(i) != 0;
    }
    return values;
  }

  /**
   * Returns the elements of an {@link TritonDatatype#INT8}, {@link TritonDatatype#INT16}, {@link
   * TritonDatatype#INT32}, {@link TritonDatatype#UINT8} or {@link TritonDatatype#UINT16} tensor,
   * widened to {@code int}.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor has another datatype
   */
  public int[] toInts() {
    requireType(
        TritonDatatype.INT8,
        TritonDatatype.INT16,
        TritonDatatype.INT32,
        TritonDatatype.UINT8,
        TritonDatatype.UINT16);
    ByteBuffer buffer = buffer();
    int[] values = new int[elementCount];
    for (int i = 0; i < elementCount; i++) {
      values[i] =
          switch (datatype) {
            case INT8 -> buffer.get();
            case INT16 -> buffer.getShort();
            case UINT8 -> buffer.get() & 0xff;
            case UINT16 -> buffer.getShort() & 0xffff;
            default -> buffer.getInt();
          };
    }
    return values;
  }

  /**
   * Returns the elements of an {@link TritonDatatype#INT64}, {@link TritonDatatype#UINT64} (as
   * unsigned bit patterns), {@link TritonDatatype#INT32} or {@link TritonDatatype#UINT32} tensor,
   * widened to {@code long}.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor has another datatype
   */
  public long[] toLongs() {
    requireType(
        TritonDatatype.INT64, TritonDatatype.UINT64, TritonDatatype.INT32, TritonDatatype.UINT32);
    ByteBuffer buffer = buffer();
    long[] values = new long[elementCount];
    for (int i = 0; i < elementCount; i++) {
      values[i] =
          switch (datatype) {
            case INT32 -> buffer.getInt();
            case UINT32 -> buffer.getInt() & 0xffffffffL;
            default -> buffer.getLong();
          };
    }
    return values;
  }

  /**
   * Returns the elements of an {@link TritonDatatype#FP32}, {@link TritonDatatype#FP16} or {@link
   * TritonDatatype#BF16} tensor as {@code float}s (exact for all three).
   *
   * @return a new array
   * @throws IllegalStateException when the tensor has another datatype
   */
  public float[] toFloats() {
    requireType(TritonDatatype.FP32, TritonDatatype.FP16, TritonDatatype.BF16);
    ByteBuffer buffer = buffer();
    float[] values = new float[elementCount];
    for (int i = 0; i < elementCount; i++) {
      values[i] =
          switch (datatype) {
            case FP16 -> Float16.toFloat(buffer.getShort());
            case BF16 -> Float16.bf16ToFloat(buffer.getShort());
            default -> buffer.getFloat();
          };
    }
    return values;
  }

  /**
   * Returns the elements of an {@link TritonDatatype#FP64} or {@link TritonDatatype#FP32} tensor as
   * {@code double}s.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor has another datatype
   */
  public double[] toDoubles() {
    requireType(TritonDatatype.FP64, TritonDatatype.FP32);
    ByteBuffer buffer = buffer();
    double[] values = new double[elementCount];
    for (int i = 0; i < elementCount; i++) {
      values[i] = datatype == TritonDatatype.FP32 ? buffer.getFloat() : buffer.getDouble();
    }
    return values;
  }

  /**
   * Returns the elements of a {@link TritonDatatype#BYTES} tensor, without their length prefixes.
   *
   * @return new arrays, one per element
   * @throws IllegalStateException when the tensor has another datatype
   */
  public List<byte[]> toByteArrays() {
    requireType(TritonDatatype.BYTES);
    List<byte[]> values = new ArrayList<>(elementCount);
    ByteBuffer buffer = buffer();
    for (int i = 0; i < elementCount; i++) {
      byte[] value = new byte[buffer.getInt()];
      buffer.get(value);
      values.add(value);
    }
    return values;
  }

  /**
   * Returns the elements of a {@link TritonDatatype#BYTES} tensor decoded as UTF-8.
   *
   * @return the strings
   * @throws IllegalStateException when the tensor has another datatype
   */
  public List<String> toStrings() {
    List<String> values = new ArrayList<>(elementCount);
    for (byte[] value : toByteArrays()) {
      values.add(new String(value, StandardCharsets.UTF_8));
    }
    return values;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TritonTensor t
        && name.equals(t.name)
        && datatype == t.datatype
        && Arrays.equals(shape, t.shape)
        && raw.equals(t.raw);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, datatype, Arrays.hashCode(shape), raw);
  }

  /** Names the tensor, its datatype and shape, never its data. */
  @Override
  public String toString() {
    return "TritonTensor[" + name + " " + datatype + " " + Arrays.toString(shape) + "]";
  }

  // ---- helpers ----

  private ByteBuffer buffer() {
    return raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private void requireType(TritonDatatype... allowed) {
    for (TritonDatatype type : allowed) {
      if (datatype == type) {
        return;
      }
    }
    throw new IllegalStateException(
        "Expected tensor '"
            + name
            + "' to have datatype "
            + (allowed.length == 1 ? allowed[0] : "in " + Arrays.toString(allowed))
            + ", found "
            + datatype);
  }

  private static TritonTensor longs(
      String name, TritonDatatype datatype, long[] shape, long[] values) {
    int n = checkCount(name, shape, values.length);
    ByteBuffer buffer = allocate(n, 8);
    buffer.asLongBuffer().put(values);
    return create(name, datatype, shape, n, buffer.array());
  }

  private static ByteBuffer allocate(int count, int elementSize) {
    return ByteBuffer.allocate(Math.multiplyExact(count, elementSize))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Wraps an array that the caller built and never touches again. */
  private static TritonTensor create(
      String name, TritonDatatype datatype, long[] shape, int count, byte[] bytes) {
    return new TritonTensor(
        name, datatype, shape.clone(), count, UnsafeByteOperations.unsafeWrap(bytes));
  }

  private static String checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty tensor name");
    }
    return name;
  }

  private static int checkCount(String name, long[] shape, int found) {
    int expected = elementCount(checkName(name), shape);
    if (expected != found) {
      throw countMismatch(name, shape, expected, found);
    }
    return expected;
  }

  static IllegalArgumentException countMismatch(
      String name, long[] shape, long expected, long found) {
    return new IllegalArgumentException(
        "Expected "
            + expected
            + " elements for shape "
            + Arrays.toString(shape)
            + " of tensor '"
            + name
            + "', found "
            + found);
  }

  static int elementCount(String name, long[] shape) {
    long count = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException(
            "Expected dimensions >= 0 in shape "
                + Arrays.toString(shape)
                + " of tensor '"
                + name
                + "', found "
                + dim);
      }
      count *= dim;
      if (count > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "Expected at most "
                + Integer.MAX_VALUE
                + " elements in tensor '"
                + name
                + "', found shape "
                + Arrays.toString(shape));
      }
    }
    return (int) count;
  }

  private static int countByteElements(String name, ByteString raw) {
    ByteBuffer buffer = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int count = 0;
    while (buffer.hasRemaining()) {
      if (buffer.remaining() < 4) {
        throw new IllegalArgumentException(
            "Expected a 4-byte length prefix at byte "
                + buffer.position()
                + " of BYTES tensor '"
                + name
                + "', found "
                + buffer.remaining()
                + " bytes");
      }
      long length = buffer.getInt() & 0xffffffffL;
      if (length > buffer.remaining()) {
        throw new IllegalArgumentException(
            "Expected "
                + length
                + " bytes for element "
                + count
                + " of BYTES tensor '"
                + name
                + "', found "
                + buffer.remaining());
      }
      buffer.position(buffer.position() + (int) length);
      count++;
    }
    return count;
  }
}
