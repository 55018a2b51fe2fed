package dev.jbond.onnx.graph;

/**
 * The element types of ONNX tensors that jbond handles, with their ONNX codes ({@code
 * TensorProto.DataType} numbers) and sizes. The packed 4-bit types and strings are not listed:
 * {@link #fromCode(int)} rejects them.
 */
public enum ElementType {
  /** 32-bit IEEE float. */
  FLOAT(1, 4),
  /** Unsigned 8-bit integer. */
  UINT8(2, 1),
  /** Signed 8-bit integer. */
  INT8(3, 1),
  /** Unsigned 16-bit integer. */
  UINT16(4, 2),
  /** Signed 16-bit integer. */
  INT16(5, 2),
  /** Signed 32-bit integer. */
  INT32(6, 4),
  /** Signed 64-bit integer. */
  INT64(7, 8),
  /** Boolean, one byte per element (0 or 1). */
  BOOL(9, 1),
  /** 16-bit IEEE float. */
  FLOAT16(10, 2),
  /** 64-bit IEEE float. */
  DOUBLE(11, 8),
  /** Unsigned 32-bit integer. */
  UINT32(12, 4),
  /** Unsigned 64-bit integer. */
  UINT64(13, 8),
  /** Complex number of two 32-bit floats. */
  COMPLEX64(14, 8),
  /** Complex number of two 64-bit floats. */
  COMPLEX128(15, 16),
  /** bfloat16: the upper half of a 32-bit float. */
  BFLOAT16(16, 2),
  /** 8-bit float, 4 exponent and 3 mantissa bits, no infinities. */
  FLOAT8E4M3FN(17, 1),
  /** 8-bit float, 4 exponent and 3 mantissa bits, no infinities, no negative zero. */
  FLOAT8E4M3FNUZ(18, 1),
  /** 8-bit float, 5 exponent and 2 mantissa bits. */
  FLOAT8E5M2(19, 1),
  /** 8-bit float, 5 exponent and 2 mantissa bits, no infinities, no negative zero. */
  FLOAT8E5M2FNUZ(20, 1);

  private static final ElementType[] BY_CODE = new ElementType[21];

  static {
    for (ElementType type : values()) {
      BY_CODE[type.code] = type;
    }
  }

  private final int code;
  private final int byteSize;

  ElementType(int code, int byteSize) {
    this.code = code;
    this.byteSize = byteSize;
  }

  /**
   * Returns the ONNX {@code TensorProto.DataType} number.
   *
   * @return the code
   */
  public int code() {
    return code;
  }

  /**
   * Returns the number of bytes one element takes in {@code raw_data}.
   *
   * @return the element size in bytes
   */
  public int byteSize() {
    return byteSize;
  }

  /**
   * Whether this is a real floating-point type (the types that carry gradients).
   *
   * @return true for FLOAT, DOUBLE, FLOAT16, BFLOAT16 and the float8 types
   */
  public boolean isFloatingPoint() {
    return switch (this) {
      case FLOAT,
          DOUBLE,
          FLOAT16,
          BFLOAT16,
          FLOAT8E4M3FN,
          FLOAT8E4M3FNUZ,
          FLOAT8E5M2,
          FLOAT8E5M2FNUZ ->
          true;
      default -> false;
    };
  }

  /**
   * Whether this is a signed or unsigned integer type (not BOOL).
   *
   * @return true for the integer types
   */
  public boolean isInteger() {
    return switch (this) {
      case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64 -> true;
      default -> false;
    };
  }

  /**
   * Returns the type with ONNX code {@code code}.
   *
   * @param code a {@code TensorProto.DataType} number
   * @return the element type
   * @throws IllegalArgumentException when the code is unknown or its type is not supported
   */
  public static ElementType fromCode(int code) {
    ElementType type = code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (type == null) {
      throw new IllegalArgumentException(
          "Expected a supported ONNX element type code (1-7, 9-20), found " + code);
    }
    return type;
  }
}
