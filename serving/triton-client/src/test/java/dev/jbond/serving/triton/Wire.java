package dev.jbond.serving.triton;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A hand encoder of the protobuf wire format for golden-byte tests, independent of protobuf-java:
 * each field is written as its tag ({@code field_number << 3 | wire_type}) followed by a varint
 * (wire type 0), 8 little-endian bytes (wire type 1) or a varint length and the bytes (wire type
 * 2).
 */
final class Wire {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static Wire message() {
    return new Wire();
  }

  /** Wire type 0: int32, int64, uint64, bool and enum values. */
  Wire varint(int field, long value) {
    tag(field, 0);
    rawVarint(value);
    return this;
  }

  /** Wire type 1: double (the IEEE 754 bits, little-endian). */
  Wire fixed64(int field, long bits) {
    tag(field, 1);
    for (int i = 0; i < 8; i++) {
      out.write((int) (bits >>> (8 * i)) & 0xff);
    }
    return this;
  }

  /** Wire type 2: bytes. */
  Wire bytes(int field, byte... value) {
    tag(field, 2);
    rawVarint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  /** Wire type 2: a UTF-8 string. */
  Wire string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Wire type 2: an embedded message (also a map entry: key = 1, value = 2). */
  Wire message(int field, Wire inner) {
    return bytes(field, inner.toBytes());
  }

  /** Wire type 2: a packed repeated varint field (proto3's default for repeated scalars). */
  Wire packed(int field, long... values) {
    Wire inner = new Wire();
    for (long value : values) {
      inner.rawVarint(value);
    }
    return bytes(field, inner.toBytes());
  }

  byte[] toBytes() {
    return out.toByteArray();
  }

  private void tag(int field, int wireType) {
    rawVarint(((long) field << 3) | wireType);
  }

  /** Seven bits at a time, least significant group first, high bit set on all but the last. */
  private void rawVarint(long value) {
    long v = value;
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
