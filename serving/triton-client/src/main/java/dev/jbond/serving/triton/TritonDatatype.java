package dev.jbond.serving.triton;

import java.util.Arrays;

/**
 * The tensor datatypes of Triton's inference protocol. The wire string of each constant is its name
 * ({@code "INT32"}, {@code "BYTES"}, ...); the model-configuration enum calls {@link #BYTES} {@code
 * TYPE_STRING}.
 *
 * <p>Raw (binary) contents are little-endian and row-major. {@link #BOOL} uses one byte per element
 * (1 = true, 0 = false). {@link #BYTES} elements are each a 4-byte little-endian unsigned length
 * followed by that many bytes.
 */
public enum TritonDatatype {
  /** Booleans, one byte each. */
  BOOL(1),
  /** Unsigned 8-bit integers. */
  UINT8(1),
  /** Unsigned 16-bit integers. */
  UINT16(2),
  /** Unsigned 32-bit integers. */
  UINT32(4),
  /** Unsigned 64-bit integers (for example TensorRT-LLM's {@code seed}). */
  UINT64(8),
  /** Signed 8-bit integers. */
  INT8(1),
  /** Signed 16-bit integers. */
  INT16(2),
  /** Signed 32-bit integers (TensorRT-LLM's token ids). */
  INT32(4),
  /** Signed 64-bit integers. */
  INT64(8),
  /** IEEE 754 half precision; travels raw only (no typed contents field). */
  FP16(2),
  /** IEEE 754 single precision. */
  FP32(4),
  /** IEEE 754 double precision. */
  FP64(8),
  /** bfloat16 (Triton's extension); travels raw only. */
  BF16(2),
  /** Variable-length byte strings. */
  BYTES(-1);

  private final int elementSize;

  TritonDatatype(int elementSize) {
    this.elementSize = elementSize;
  }

  /**
   * Returns the datatype string used on the wire.
   *
   * @return for example {@code "INT32"}
   */
  public String wireName() {
    return name();
  }

  /**
   * Returns whether every element has the same byte size (all types but {@link #BYTES}).
   *
   * @return true for fixed-size types
   */
  public boolean isFixedSize() {
    return elementSize > 0;
  }

  /**
   * Returns the byte size of one element.
   *
   * @return the size in bytes
   * @throws IllegalStateException for {@link #BYTES}, whose elements vary in size
   */
  public int elementSize() {
    if (elementSize < 0) {
      throw new IllegalStateException("BYTES elements have no fixed size");
    }
    return elementSize;
  }

  /**
   * Parses a wire datatype string.
   *
   * @param wireName the datatype string, for example {@code "FP32"}
   * @param tensorName the tensor it belongs to, for the message
   * @return the datatype
   * @throws IllegalArgumentException when the string names no datatype
   */
  public static TritonDatatype fromWireName(String wireName, String tensorName) {
    for (TritonDatatype type : values()) {
      if (type.name().equals(wireName)) {
        return type;
      }
    }
    throw new IllegalArgumentException(
        "Unknown datatype '"
            + wireName
            + "' for tensor '"
            + tensorName
            + "', expected one of "
            + Arrays.toString(values()));
  }
}
