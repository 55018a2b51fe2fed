package dev.jbond.onnx.graph;

import com.google.protobuf.ByteString;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable dense tensor: element type, static shape and the elements as little-endian bytes in
 * row-major order (ONNX's {@code raw_data} layout). It copies whatever it is built from and hands
 * out copies or read-only views, so it can be shared freely.
 *
 * <p>{@link #toProto(String)} and {@link #fromProto(TensorProto)} convert to and from ONNX's {@code
 * TensorProto}; tensors whose data lives in an external file must be resolved first (see {@link
 * ModelFiles#read}).
 */
public final class Tensor {
  private final ElementType elementType;
  private final long[] shape;
  private final ByteString data;

  private Tensor(ElementType elementType, long[] shape, ByteString data) {
    this.elementType = elementType;
    this.shape = shape;
    this.data = data;
  }

  /**
   * Returns a tensor holding a copy of {@code littleEndianData}.
   *
   * @param elementType the element type
   * @param shape the size of each axis, each {@code >= 0}
   * @param littleEndianData the elements in row-major order, {@code elementType.byteSize()} bytes
   *     each
   * @return the tensor
   * @throws IllegalArgumentException when the data length does not match the shape
   */
  public static Tensor of(ElementType elementType, long[] shape, byte[] littleEndianData) {
    return create(elementType, shape, ByteString.copyFrom(littleEndianData), "tensor");
  }

  /**
   * Returns a tensor holding a copy of the remaining bytes of {@code littleEndianData} (its
   * position is not changed).
   *
   * @param elementType the element type
   * @param shape the size of each axis, each {@code >= 0}
   * @param littleEndianData the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the data length does not match the shape
   */
  public static Tensor of(ElementType elementType, long[] shape, ByteBuffer littleEndianData) {
    return create(elementType, shape, ByteString.copyFrom(littleEndianData.duplicate()), "tensor");
  }

  /**
   * Returns a tensor of zeros.
   *
   * @param elementType the element type
   * @param shape the size of each axis
   * @return the tensor
   */
  public static Tensor zeros(ElementType elementType, long... shape) {
    long count = count(shape);
    return create(
        elementType, shape, ByteString.copyFrom(new byte[bytes(count, elementType)]), "tensor");
  }

  /**
   * Returns a FLOAT tensor.
   *
   * @param shape the size of each axis
   * @param values the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the number of values does not match the shape
   */
  public static Tensor floats(long[] shape, float... values) {
    ByteBuffer buffer = allocate(shape, values.length, ElementType.FLOAT);
    buffer.asFloatBuffer().put(values);
    return wrap(ElementType.FLOAT, shape, buffer);
  }

  /**
   * Returns a 1-D FLOAT tensor.
   *
   * @param values the elements
   * @return the tensor
   */
  public static Tensor floatVector(float... values) {
    return floats(new long[] {values.length}, values);
  }

  /**
   * Returns a FLOAT scalar (rank 0).
   *
   * @param value the element
   * @return the tensor
   */
  public static Tensor floatScalar(float value) {
    return floats(new long[0], value);
  }

  /**
   * Returns a DOUBLE tensor.
   *
   * @param shape the size of each axis
   * @param values the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the number of values does not match the shape
   */
  public static Tensor doubles(long[] shape, double... values) {
    ByteBuffer buffer = allocate(shape, values.length, ElementType.DOUBLE);
    buffer.asDoubleBuffer().put(values);
    return wrap(ElementType.DOUBLE, shape, buffer);
  }

  /**
   * Returns a DOUBLE scalar (rank 0).
   *
   * @param value the element
   * @return the tensor
   */
  public static Tensor doubleScalar(double value) {
    return doubles(new long[0], value);
  }

  /**
   * Returns an INT64 tensor.
   *
   * @param shape the size of each axis
   * @param values the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the number of values does not match the shape
   */
  public static Tensor longs(long[] shape, long... values) {
    ByteBuffer buffer = allocate(shape, values.length, ElementType.INT64);
    buffer.asLongBuffer().put(values);
    return wrap(ElementType.INT64, shape, buffer);
  }

  /**
   * Returns a 1-D INT64 tensor.
   *
   * @param values the elements
   * @return the tensor
   */
  public static Tensor longVector(long... values) {
    return longs(new long[] {values.length}, values);
  }

  /**
   * Returns an INT64 scalar (rank 0).
   *
   * @param value the element
   * @return the tensor
   */
  public static Tensor longScalar(long value) {
    return longs(new long[0], value);
  }

  /**
   * Returns an INT32 tensor.
   *
   * @param shape the size of each axis
   * @param values the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the number of values does not match the shape
   */
  public static Tensor ints(long[] shape, int... values) {
    ByteBuffer buffer = allocate(shape, values.length, ElementType.INT32);
    buffer.asIntBuffer().put(values);
    return wrap(ElementType.INT32, shape, buffer);
  }

  /**
   * Returns a BOOL tensor.
   *
   * @param shape the size of each axis
   * @param values the elements in row-major order
   * @return the tensor
   * @throws IllegalArgumentException when the number of values does not match the shape
   */
  public static Tensor booleans(long[] shape, boolean... values) {
    ByteBuffer buffer = allocate(shape, values.length, ElementType.BOOL);
    for (boolean value : values) {
      buffer.put((byte) (value ? 1 : 0));
    }
    buffer.flip();
    return wrap(ElementType.BOOL, shape, buffer);
  }

  /**
   * Returns a BOOL scalar (rank 0).
   *
   * @param value the element
   * @return the tensor
   */
  public static Tensor booleanScalar(boolean value) {
    return booleans(new long[0], value);
  }

  /**
   * Returns the element type.
   *
   * @return the element type
   */
  public ElementType elementType() {
    return elementType;
  }

  /**
   * Returns a copy of the shape.
   *
   * @return the size of each axis
   */
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Returns the shape as a {@link Shape}.
   *
   * @return the static shape
   */
  public Shape staticShape() {
    return Shape.of(shape);
  }

  /**
   * Returns the type of this tensor.
   *
   * @return element type and static shape
   */
  public TensorType type() {
    return new TensorType(elementType, staticShape());
  }

  /**
   * Returns the rank.
   *
   * @return the number of axes
   */
  public int rank() {
    return shape.length;
  }

  /**
   * Returns the number of elements.
   *
   * @return the product of the sizes
   */
  public long elementCount() {
    return count(shape);
  }

  /**
   * Returns the number of data bytes.
   *
   * @return {@code elementCount() * elementType().byteSize()}
   */
  public int byteSize() {
    return data.size();
  }

  /**
   * Returns a read-only little-endian view of the data.
   *
   * @return a buffer positioned at 0 with {@link #byteSize()} bytes remaining
   */
  public ByteBuffer asReadOnlyBuffer() {
    return data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Returns a copy of the data.
   *
   * @return the elements as little-endian bytes
   */
  public byte[] toByteArray() {
    return data.toByteArray();
  }

  /**
   * Returns the elements of a FLOAT tensor.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor is not FLOAT
   */
  public float[] toFloatArray() {
    checkType(ElementType.FLOAT);
    float[] out = new float[(int) elementCount()];
    asReadOnlyBuffer().asFloatBuffer().get(out);
    return out;
  }

  /**
   * Returns the transpose of a FLOAT matrix.
   *
   * @return a new {@code [columns, rows]} tensor
   * @throws IllegalStateException when the tensor is not a FLOAT matrix
   */
  public Tensor transposeMatrix() {
    checkType(ElementType.FLOAT);
    if (shape.length != 2) {
      throw new IllegalStateException(
          "Expected a matrix to transpose, found shape " + Arrays.toString(shape));
    }
    int rows = (int) shape[0];
    int cols = (int) shape[1];
    float[] in = toFloatArray();
    float[] out = new float[in.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = in[r * cols + c];
      }
    }
    return floats(new long[] {cols, rows}, out);
  }

  /**
   * Returns the elements of a DOUBLE tensor.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor is not DOUBLE
   */
  public double[] toDoubleArray() {
    checkType(ElementType.DOUBLE);
    double[] out = new double[(int) elementCount()];
    asReadOnlyBuffer().asDoubleBuffer().get(out);
    return out;
  }

  /**
   * Returns the elements of an INT64 tensor.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor is not INT64
   */
  public long[] toLongArray() {
    checkType(ElementType.INT64);
    long[] out = new long[(int) elementCount()];
    asReadOnlyBuffer().asLongBuffer().get(out);
    return out;
  }

  /**
   * Returns the elements of an INT32 tensor.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor is not INT32
   */
  public int[] toIntArray() {
    checkType(ElementType.INT32);
    int[] out = new int[(int) elementCount()];
    asReadOnlyBuffer().asIntBuffer().get(out);
    return out;
  }

  /**
   * Returns the elements of a BOOL tensor.
   *
   * @return a new array
   * @throws IllegalStateException when the tensor is not BOOL
   */
  public boolean[] toBooleanArray() {
    checkType(ElementType.BOOL);
    boolean[] out = new boolean[(int) elementCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = data.byteAt(i) != 0;
    }
    return out;
  }

  /**
   * Returns the elements of an integer tensor widened to {@code long} (UINT64 values above {@link
   * Long#MAX_VALUE} wrap), for reading axes, sizes and shapes whatever their integer type.
   *
   * @return a new array
   * @throws IllegalStateException when the element type is not an integer type
   */
  public long[] toLongValues() {
    if (!elementType.isInteger()) {
      throw new IllegalStateException(
          "Expected an integer tensor, found " + elementType + " " + Arrays.toString(shape));
    }
    ByteBuffer buffer = asReadOnlyBuffer();
    long[] out = new long[(int) elementCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          switch (elementType) {
            case INT8 -> buffer.get();
            case UINT8 -> buffer.get() & 0xFFL;
            case INT16 -> buffer.getShort();
            case UINT16 -> buffer.getShort() & 0xFFFFL;
            case INT32 -> buffer.getInt();
            case UINT32 -> buffer.getInt() & 0xFFFF_FFFFL;
            default -> buffer.getLong();
          };
    }
    return out;
  }

  /**
   * Returns this tensor as an ONNX {@code TensorProto} with its data in {@code raw_data}.
   *
   * @param name the tensor name (may be empty, as in {@code Constant} attributes)
   * @return the proto
   */
  public TensorProto toProto(String name) {
    Objects.requireNonNull(name, "name");
    TensorProto.Builder proto = TensorProto.newBuilder();
    for (long size : shape) {
      proto.addDims(size);
    }
    proto.setDataType(elementType.code());
    if (!name.isEmpty()) {
      proto.setName(name);
    }
    return proto.setRawData(data).build();
  }

  /**
   * Reads an ONNX {@code TensorProto} whose data is inline, in {@code raw_data} or in the typed
   * field that ONNX uses for its element type.
   *
   * @param proto the proto
   * @return the tensor
   * @throws IllegalArgumentException when the element type is not supported, the data is external,
   *     segmented or does not match the shape
   */
  public static Tensor fromProto(TensorProto proto) {
    String what = "tensor '" + proto.getName() + "'";
    Checks.checkArgument(
        proto.getDataLocation() != TensorProto.DataLocation.EXTERNAL,
        "Expected inline data for %s, found external data %s; resolve it first with"
            + " ModelFiles.read",
        what,
        proto.getExternalDataList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    Checks.checkArgument(
        !proto.hasSegment(), "Expected a whole tensor for %s, found a segment", what);
    Checks.checkArgument(
        proto.getDataType() != TensorProto.DataType.STRING_VALUE,
        "Expected a numeric tensor for %s, found STRING",
        what);
    Checks.checkArgument(
        proto.getDataType() > 0 && proto.getDataType() <= ElementType.FLOAT8E5M2FNUZ.code(),
        "Expected a supported element type for %s, found code %d",
        what,
        proto.getDataType());
    ElementType type = ElementType.fromCode(proto.getDataType());
    long[] shape = proto.getDimsList().stream().mapToLong(Long::longValue).toArray();
    for (long size : shape) {
      Checks.checkArgument(
          size >= 0, "Expected dimensions >= 0 for %s, found %s", what, Arrays.toString(shape));
    }
    if (proto.hasRawData()) {
      return create(type, shape, proto.getRawData(), what);
    }
    long count = count(shape);
    int perElement = type == ElementType.COMPLEX64 || type == ElementType.COMPLEX128 ? 2 : 1;
    int found =
        switch (type) {
          case FLOAT, COMPLEX64 -> proto.getFloatDataCount();
          case DOUBLE, COMPLEX128 -> proto.getDoubleDataCount();
          case INT64 -> proto.getInt64DataCount();
          case UINT32, UINT64 -> proto.getUint64DataCount();
          default -> proto.getInt32DataCount();
        };
    Checks.checkArgument(
        found == count * perElement,
        "Expected %d typed values for %s %s %s, found %d",
        count * perElement,
        what,
        type,
        Arrays.toString(shape),
        found);
    ByteBuffer buffer = ByteBuffer.allocate(bytes(count, type)).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FLOAT, COMPLEX64 -> proto.getFloatDataList().forEach(buffer::putFloat);
      case DOUBLE, COMPLEX128 -> proto.getDoubleDataList().forEach(buffer::putDouble);
      case INT64 -> proto.getInt64DataList().forEach(buffer::putLong);
      case UINT32 -> proto.getUint64DataList().forEach(v -> buffer.putInt(v.intValue()));
      case UINT64 -> proto.getUint64DataList().forEach(buffer::putLong);
      case INT32 -> proto.getInt32DataList().forEach(buffer::putInt);
      case INT16, UINT16, FLOAT16, BFLOAT16 ->
          proto.getInt32DataList().forEach(v -> buffer.putShort(v.shortValue()));
      default -> proto.getInt32DataList().forEach(v -> buffer.put(v.byteValue()));
    }
    buffer.flip();
    return new Tensor(type, shape.clone(), ByteString.copyFrom(buffer));
  }

  private static Tensor create(ElementType type, long[] shape, ByteString data, String what) {
    Objects.requireNonNull(type, "elementType");
    long count = count(shape);
    long expected = (long) type.byteSize() * count;
    if (data.size() != expected) {
      throw new IllegalArgumentException(
          "Expected "
              + expected
              + " bytes of data for "
              + what
              + " "
              + type
              + " "
              + Arrays.toString(shape)
              + ", found "
              + data.size());
    }
    return new Tensor(type, shape.clone(), data);
  }

  private static ByteBuffer allocate(long[] shape, int valueCount, ElementType type) {
    long count = count(shape);
    if (count != valueCount) {
      throw new IllegalArgumentException(
          "Expected "
              + count
              + " values for a "
              + type
              + " tensor of shape "
              + Arrays.toString(shape)
              + ", found "
              + valueCount);
    }
    return ByteBuffer.allocate(bytes(count, type)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static Tensor wrap(ElementType type, long[] shape, ByteBuffer buffer) {
    return new Tensor(type, shape.clone(), ByteString.copyFrom(buffer.array()));
  }

  private static long count(long[] shape) {
    long count = 1;
    for (long size : shape) {
      if (size < 0) {
        throw new IllegalArgumentException(
            "Expected dimensions >= 0, found " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, size);
    }
    return count;
  }

  private static int bytes(long count, ElementType type) {
    long bytes = count * type.byteSize();
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "Expected a tensor below 2 GiB, found " + bytes + " bytes of " + type);
    }
    return (int) bytes;
  }

  private void checkType(ElementType expected) {
    if (elementType != expected) {
      throw new IllegalStateException(
          "Expected a "
              + expected
              + " tensor, found "
              + elementType
              + " "
              + Arrays.toString(shape));
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor other
        && elementType == other.elementType
        && Arrays.equals(shape, other.shape)
        && data.equals(other.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(elementType, Arrays.hashCode(shape), data);
  }

  /** Returns the type and shape, never the data, e.g. {@code Tensor FLOAT [2, 3]}. */
  @Override
  public String toString() {
    return "Tensor " + elementType + " " + Arrays.toString(shape);
  }
}
