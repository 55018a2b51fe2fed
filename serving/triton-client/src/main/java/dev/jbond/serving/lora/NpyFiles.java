package dev.jbond.serving.lora;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes NumPy {@code .npy} files, format version 1.0 (<a
 * href="https://numpy.org/neps/nep-0001-npy-format.html">NEP 1</a>), for the dtypes TensorRT-LLM's
 * LoRA files use: {@code <f2} (FP16), {@code <f4} (FP32) and {@code <i4} (INT32).
 *
 * <p>A file written here is the magic string {@code \x93NUMPY}, the version bytes {@code 1, 0}, the
 * header length H as a little-endian unsigned 16-bit integer, then H bytes of ASCII header, a
 * Python dict literal such as {@code {'descr': '<f2', 'fortran_order': False, 'shape': (1, 12, 64),
 * }}, padded with spaces and ended by {@code '\n'} so that {@code 10 + H} is a multiple of 64, then
 * the raw little-endian elements in C (row-major) order. Files are written to a temporary file in
 * the same directory and renamed over the target.
 *
 * <p>bfloat16 has no {@code .npy} form: NumPy has no bfloat16 dtype (TensorRT-LLM's own converter
 * stores it as the opaque void type {@code |V2}), and TensorRT-LLM's {@code loadNpy} ({@code
 * cpp/tensorrt_llm/runtime/utils/numpyUtils.cpp}, {@code typeFromNumpyDesc}) accepts only {@code
 * ?}, {@code u1}, {@code i1}, {@code i4}, {@code i8}, {@code f2} and {@code f4}. {@link
 * #write(Path, TritonTensor)} therefore rejects BF16 tensors.
 */
public final class NpyFiles {
  /** The {@code .npy} alignment of the data: the preamble length is a multiple of this. */
  public static final int ALIGNMENT = 64;

  /** The longest header {@link #read} accepts. */
  private static final int MAX_HEADER_BYTES = 1 << 20;

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  private NpyFiles() {}

  /** The element types this class reads and writes. */
  public enum Dtype {
    /** IEEE half precision, little-endian. */
    FP16("<f2", 2),
    /** IEEE single precision, little-endian. */
    FP32("<f4", 4),
    /** Two's complement 32-bit integer, little-endian. */
    INT32("<i4", 4);

    private final String descr;
    private final int elementSize;

    Dtype(String descr, int elementSize) {
      this.descr = descr;
      this.elementSize = elementSize;
    }

    /**
     * Returns the NumPy type descriptor, for example {@code <f2}.
     *
     * @return the {@code descr} of the header
     */
    public String descr() {
      return descr;
    }

    /**
     * Returns the size of one element.
     *
     * @return the size in bytes
     */
    public int elementSize() {
      return elementSize;
    }
  }

  /** The content of a {@code .npy} file: dtype, shape and the raw little-endian elements. */
  public static final class NpyArray {
    private final Dtype dtype;
    private final long[] shape;
    private final byte[] data;

    private NpyArray(Dtype dtype, long[] shape, byte[] data) {
      this.dtype = dtype;
      this.shape = shape;
      this.data = data;
    }

    /**
     * Returns the element type.
     *
     * @return the dtype
     */
    public Dtype dtype() {
      return dtype;
    }

    /**
     * Returns the type descriptor as written in the header.
     *
     * @return for example {@code <f4}
     */
    public String descr() {
      return dtype.descr();
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions; empty for a scalar
     */
    public long[] shape() {
      return shape.clone();
    }

    /**
     * Returns a copy of the elements' bytes.
     *
     * @return the raw little-endian elements, row-major
     */
    public byte[] data() {
      return data.clone();
    }

    @Override
    public String toString() {
      return "NpyArray[" + dtype.descr() + " " + Arrays.toString(shape) + "]";
    }
  }

  /**
   * Writes raw elements as a {@code .npy} file, atomically, replacing an existing file.
   *
   * @param file the file to write; its directory must exist
   * @param dtype the element type
   * @param shape the dimensions, each {@code >= 0}; empty for a scalar
   * @param data the elements, little-endian, row-major: exactly the shape's element count times the
   *     element size
   * @throws IllegalArgumentException when a dimension is negative, the data has another size, or
   *     the header would exceed 65535 bytes
   * @throws IOException when writing fails; the target is then left as it was
   */
  public static void write(Path file, Dtype dtype, long[] shape, byte[] data) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(data, "data");
    byte[] preamble = preamble(dtype, shape);
    long expected = elementCount(shape) * dtype.elementSize();
    Checks.checkArgument(
        expected == data.length,
        "Expected %d bytes of %s data for shape %s, found %d",
        expected,
        dtype.descr(),
        Arrays.toString(shape),
        data.length);
    SafeTensors.writeAtomically(
        file,
        channel -> {
          SafeTensors.writeFully(channel, ByteBuffer.wrap(preamble));
          SafeTensors.writeFully(channel, ByteBuffer.wrap(data));
        });
  }

  /**
   * Writes a tensor's raw bytes and shape as a {@code .npy} file, atomically. FP16, FP32 and INT32
   * map to {@code <f2}, {@code <f4} and {@code <i4}.
   *
   * @param file the file to write; its directory must exist
   * @param tensor the tensor
   * @throws IllegalArgumentException when the tensor has another datatype, BF16 included (NumPy has
   *     no bfloat16 and TensorRT-LLM's {@code loadNpy} reads no such descriptor)
   * @throws IOException when writing fails; the target is then left as it was
   */
  public static void write(Path file, TritonTensor tensor) throws IOException {
    write(file, dtypeOf(tensor), tensor.shape(), tensor.raw().toByteArray());
  }

  /**
   * Returns the {@code .npy} dtype of a tensor's datatype.
   *
   * @param tensor the tensor
   * @return FP16, FP32 or INT32
   * @throws IllegalArgumentException for any other datatype
   */
  static Dtype dtypeOf(TritonTensor tensor) {
    return switch (tensor.datatype()) {
      case FP16 -> Dtype.FP16;
      case FP32 -> Dtype.FP32;
      case INT32 -> Dtype.INT32;
      default ->
          throw new IllegalArgumentException(
              "Expected a tensor of FP16, FP32 or INT32 for a .npy file, found "
                  + tensor.datatype()
                  + " for '"
                  + tensor.name()
                  + "'"
                  + (tensor.datatype() == TritonDatatype.BF16
                      ? " (NumPy has no bfloat16 dtype and TensorRT-LLM's loadNpy reads only"
                          + " ?, u1, i1, i4, i8, f2 and f4)"
                      : ""));
    };
  }

  /**
   * Returns the bytes before the data: magic, version 1.0, header length and padded header.
   *
   * @param dtype the element type
   * @param shape the dimensions, each {@code >= 0}
   * @return the preamble, a multiple of {@value #ALIGNMENT} bytes long
   */
  static byte[] preamble(Dtype dtype, long[] shape) {
    Objects.requireNonNull(dtype, "dtype");
    elementCount(shape);
    StringBuilder header =
        new StringBuilder("{'descr': '")
            .append(dtype.descr())
            .append("', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) {
      header.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    header.append(shape.length == 1 ? ",), }" : "), }");
    int unpadded = MAGIC.length + 4 + header.length() + 1;
    int padding = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
    header.append(" ".repeat(padding)).append('\n');
    int length = header.length();
    Checks.checkArgument(
        length <= 0xffff,
        "Expected a .npy 1.0 header of at most 65535 bytes, found %d for shape %s",
        length,
        Arrays.toString(shape));
    ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + length).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) length);
    out.put(header.toString().getBytes(StandardCharsets.US_ASCII));
    return out.array();
  }

  /**
   * Reads a {@code .npy} file of version 1.x or 2.x holding {@code <f2}, {@code <f4} or {@code <i4}
   * elements in C order.
   *
   * @param file the file
   * @return its dtype, shape and raw data
   * @throws ModelLoadException when the file is not a {@code .npy} file, has another dtype, is in
   *     Fortran order, or its data is shorter or longer than the shape says; the message names the
   *     file
   * @throws IOException when reading fails
   */
  public static NpyArray read(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      ByteBuffer intro = ByteBuffer.allocate(MAGIC.length + 2).order(ByteOrder.LITTLE_ENDIAN);
      if (size < intro.capacity()) {
        throw new ModelLoadException(
            "Expected a .npy file of at least 8 bytes, found " + size + " in " + file);
      }
      SafeTensors.readFully(file, channel, intro, 0);
      if (!Arrays.equals(Arrays.copyOf(intro.array(), MAGIC.length), MAGIC)) {
        throw new ModelLoadException("Expected the .npy magic \\x93NUMPY at the start of " + file);
      }
      int major = intro.get(MAGIC.length) & 0xff;
      if (major != 1 && major != 2) {
        throw new ModelLoadException(
            "Expected .npy format version 1 or 2, found " + major + " in " + file);
      }
      ByteBuffer lengthBytes =
          ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
      SafeTensors.readFully(file, channel, lengthBytes, intro.capacity());
      long headerLength =
          major == 1 ? lengthBytes.getShort(0) & 0xffff : lengthBytes.getInt(0) & 0xffffffffL;
      long dataStart = intro.capacity() + lengthBytes.capacity() + headerLength;
      if (dataStart > size || headerLength > MAX_HEADER_BYTES) {
        throw new ModelLoadException(
            "Expected a .npy header of at most "
                + Math.min(size - intro.capacity() - lengthBytes.capacity(), MAX_HEADER_BYTES)
                + " bytes, found "
                + headerLength
                + " in "
                + file);
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      SafeTensors.readFully(file, channel, headerBytes, intro.capacity() + lengthBytes.capacity());
      String header = new String(headerBytes.array(), StandardCharsets.ISO_8859_1);
      Map<String, Object> dict = new HeaderParser(file, header).dict();
      Object descr = dict.get("descr");
      Dtype dtype = null;
      for (Dtype d : Dtype.values()) {
        if (d.descr().equals(descr)) {
          dtype = d;
        }
      }
      if (dtype == null) {
        throw new ModelLoadException(
            "Expected descr '<f2', '<f4' or '<i4', found "
                + (descr instanceof String s ? "'" + s + "'" : String.valueOf(descr))
                + " in "
                + file);
      }
      if (!Boolean.FALSE.equals(dict.get("fortran_order"))) {
        throw new ModelLoadException(
            "Expected 'fortran_order': False, found " + dict.get("fortran_order") + " in " + file);
      }
      if (!(dict.get("shape") instanceof long[] shape)) {
        throw new ModelLoadException(
            "Expected a 'shape' tuple of integers in the .npy header of " + file);
      }
      long expected;
      try {
        long count = 1;
        for (long d : shape) {
          count = Math.multiplyExact(count, d);
        }
        expected = Math.multiplyExact(count, (long) dtype.elementSize());
      } catch (ArithmeticException tooLarge) {
        expected = Long.MAX_VALUE;
      }
      if (expected != size - dataStart) {
        throw new ModelLoadException(
            "Expected "
                + (expected == Long.MAX_VALUE ? "more than 2^63" : Long.toString(expected))
                + " data bytes for "
                + dtype.descr()
                + " shape "
                + Arrays.toString(shape)
                + ", found "
                + (size - dataStart)
                + " in "
                + file);
      }
      if (expected > Integer.MAX_VALUE - 8) {
        throw new ModelLoadException(
            "Expected at most "
                + (Integer.MAX_VALUE - 8)
                + " data bytes in one array, found "
                + expected
                + " in "
                + file);
      }
      ByteBuffer data = ByteBuffer.allocate((int) expected);
      SafeTensors.readFully(file, channel, data, dataStart);
      return new NpyArray(dtype, shape, data.array());
    }
  }

  private static long elementCount(long[] shape) {
    Objects.requireNonNull(shape, "shape");
    long count = 1;
    for (long d : shape) {
      Checks.checkArgument(
          d >= 0 && (d == 0 || count <= Long.MAX_VALUE / 8 / d),
          "Expected dimensions >= 0, found shape %s",
          Arrays.toString(shape));
      count *= d;
    }
    return count;
  }

  /**
   * Parses the header's Python dict literal: string keys mapped to a string, {@code True}/{@code
   * False} or a tuple of non-negative integers (as {@code long[]}).
   */
  private static final class HeaderParser {
    private final Path file;
    private final String text;
    private int pos;

    HeaderParser(Path file, String text) {
      this.file = file;
      this.text = text;
    }

    Map<String, Object> dict() throws ModelLoadException {
      Map<String, Object> dict = new LinkedHashMap<>();
      skipSpaces();
      expect('{');
      skipSpaces();
      while (peek() != '}') {
        String key = string();
        skipSpaces();
        expect(':');
        skipSpaces();
        dict.put(key, value());
        skipSpaces();
        if (peek() == ',') {
          pos++;
          skipSpaces();
        } else if (peek() != '}') {
          throw error("',' or '}'");
        }
      }
      pos++;
      skipSpaces();
      if (pos != text.length()) {
        throw error("the end of the header");
      }
      return dict;
    }

    private Object value() throws ModelLoadException {
      int c = peek();
      if (c == '\'' || c == '"') {
        return string();
      } else if (text.startsWith("True", pos)) {
        pos += 4;
        return Boolean.TRUE;
      } else if (text.startsWith("False", pos)) {
        pos += 5;
        return Boolean.FALSE;
      } else if (c == '(') {
        pos++;
        List<Long> dims = new ArrayList<>();
        skipSpaces();
        while (peek() != ')') {
          int start = pos;
          while (peek() >= '0' && peek() <= '9') {
            pos++;
          }
          if (start == pos) {
            throw error("a dimension");
          }
          try {
            dims.add(Long.parseLong(text.substring(start, pos)));
          } catch (NumberFormatException tooLarge) {
            throw error("a dimension below 2^63");
          }
          skipSpaces();
          if (peek() == ',') {
            pos++;
            skipSpaces();
          } else if (peek() != ')') {
            throw error("',' or ')'");
          }
        }
        pos++;
        return dims.stream().mapToLong(Long::longValue).toArray();
      }
      throw error("a string, True, False or a tuple");
    }

    private String string() throws ModelLoadException {
      int quote = peek();
      if (quote != '\'' && quote != '"') {
        throw error("a quoted string");
      }
      int end = text.indexOf(quote, pos + 1);
      if (end < 0) {
        throw error("a closing quote");
      }
      String s = text.substring(pos + 1, end);
      pos = end + 1;
      return s;
    }

    private void expect(char c) throws ModelLoadException {
      if (peek() != c) {
        throw error("'" + c + "'");
      }
      pos++;
    }

    private int peek() {
      return pos < text.length() ? text.charAt(pos) : -1;
    }

    private void skipSpaces() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    private ModelLoadException error(String expected) {
      String found = pos < text.length() ? "'" + text.charAt(pos) + "'" : "the end";
      return new ModelLoadException(
          "Expected "
              + expected
              + " at header position "
              + pos
              + ", found "
              + found
              + " in .npy file "
              + file);
    }
  }
}
