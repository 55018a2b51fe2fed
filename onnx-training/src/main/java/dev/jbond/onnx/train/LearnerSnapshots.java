package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The learner's snapshot format, version 1. Integers are big-endian ({@link DataOutputStream});
 * float arrays are raw IEEE-754 float32 bits in little-endian order, so a round trip is bit-exact
 * (NaN payloads included).
 *
 * <pre>
 *   magic           8 bytes "JBONDLRN"
 *   version         int 1
 *   parameters      int P, then P times: name (modified UTF-8), rank int, sizes long[rank]
 *   step            long, the optimizer step count
 *   size            int N, the total number of parameter elements
 *   policy          N floats
 *   anchor          N floats
 *   reference       N floats
 *   adam m          N floats
 *   adam v          N floats
 *   checksum        long, CRC-32 of every byte above
 * </pre>
 */
final class LearnerSnapshots {
  static final byte[] MAGIC = "JBONDLRN".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  private static final int CHUNK = 1 << 16;

  private LearnerSnapshots() {}

  /** A snapshot read back: everything checked, nothing applied yet. */
  static final class State {
    final long step;
    final List<ByteBuffer> roles;
    final float[] firstMoment;
    final float[] secondMoment;

    private State(long step, List<ByteBuffer> roles, float[] firstMoment, float[] secondMoment) {
      this.step = step;
      this.roles = roles;
      this.firstMoment = firstMoment;
      this.secondMoment = secondMoment;
    }
  }

  /**
   * Writes a snapshot; {@code out} is flushed, not closed.
   *
   * @param roles policy, anchor and reference buffers (native order, position 0, {@code size}
   *     floats each)
   */
  static void write(
      OutputStream out,
      List<ParameterSpec> specs,
      long step,
      List<ByteBuffer> roles,
      float[] firstMoment,
      float[] secondMoment)
      throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(new NonClosing(out), new CRC32());
    DataOutputStream data = new DataOutputStream(checked);
    data.write(MAGIC);
    data.writeInt(VERSION);
    data.writeInt(specs.size());
    int size = 0;
    for (ParameterSpec spec : specs) {
      data.writeUTF(spec.name());
      data.writeInt(spec.shape().size());
      for (long dim : spec.shape()) {
        data.writeLong(dim);
      }
      size += (int) spec.elementCount();
    }
    data.writeLong(step);
    data.writeInt(size);
    byte[] chunk = new byte[CHUNK];
    for (ByteBuffer role : roles) {
      ByteBuffer source = role.duplicate();
      source.position(0).limit(size * Float.BYTES);
      while (source.hasRemaining()) {
        int n = Math.min(chunk.length, source.remaining());
        source.get(chunk, 0, n);
        data.write(chunk, 0, n);
      }
    }
    for (float[] moment : List.of(firstMoment, secondMoment)) {
      ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
      int floatsPerChunk = CHUNK / Float.BYTES;
      for (int start = 0; start < moment.length; start += floatsPerChunk) {
        int n = Math.min(floatsPerChunk, moment.length - start);
        view.clear();
        view.asFloatBuffer().put(moment, start, n);
        data.write(chunk, 0, n * Float.BYTES);
      }
    }
    long crc = checked.getChecksum().getValue();
    data.writeLong(crc);
    data.flush();
  }

  /**
   * Reads and checks a snapshot for a model with parameters {@code specs}; {@code in} is not
   * closed.
   *
   * @throws IOException when the data is not a snapshot, is truncated or corrupt, or its parameters
   *     differ from {@code specs}
   */
  static State read(InputStream in, List<ParameterSpec> specs, String modelName)
      throws IOException {
    CheckedInputStream checked = new CheckedInputStream(in, new CRC32());
    DataInputStream data = new DataInputStream(checked);
    String section = "header";
    try {
      byte[] magic = new byte[MAGIC.length];
      data.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException(
            "Expected a jbond learner snapshot starting with 'JBONDLRN', found bytes "
                + Arrays.toString(magic));
      }
      int version = data.readInt();
      if (version != VERSION) {
        throw new IOException(
            "Expected learner snapshot format version " + VERSION + ", found " + version);
      }
      int count = data.readInt();
      if (count != specs.size()) {
        throw new IOException(
            "Expected "
                + specs.size()
                + " parameters in a snapshot for model '"
                + modelName
                + "', found "
                + count);
      }
      int size = 0;
      for (ParameterSpec expected : specs) {
        String name = data.readUTF();
        int rank = data.readInt();
        if (rank < 0 || rank > 64) {
          throw new IOException(
              "Expected a rank in [0, 64] for parameter '" + name + "', found " + rank);
        }
        long[] dims = new long[rank];
        for (int d = 0; d < rank; d++) {
          dims[d] = data.readLong();
        }
        if (!name.equals(expected.name())) {
          throw new IOException(
              "Expected parameter '"
                  + expected.name()
                  + "' at position "
                  + specs.indexOf(expected)
                  + " of the snapshot for model '"
                  + modelName
                  + "', found '"
                  + name
                  + "'");
        }
        if (!Arrays.equals(dims, expected.dims())) {
          throw new IOException(
              "Expected parameter '"
                  + name
                  + "' of shape "
                  + expected.shape()
                  + ", found "
                  + Arrays.toString(dims));
        }
        size += (int) expected.elementCount();
      }
      long step = data.readLong();
      if (step < 0) {
        throw new IOException("Expected a step count >= 0 in the snapshot, found " + step);
      }
      int total = data.readInt();
      Checks.verify(total == size, "Expected %d parameter elements, found %d", size, total);
      List<ByteBuffer> roles = new ArrayList<>();
      for (String role : List.of("policy", "anchor", "reference")) {
        section = role + " weights";
        byte[] bytes = new byte[size * Float.BYTES];
        data.readFully(bytes);
        roles.add(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
      }
      section = "optimizer state";
      float[] m = readFloats(data, size);
      float[] v = readFloats(data, size);
      long expectedCrc = checked.getChecksum().getValue();
      section = "checksum";
      long crc = data.readLong();
      if (crc != expectedCrc) {
        throw new IOException(
            "Expected snapshot checksum "
                + Long.toHexString(crc)
                + ", found "
                + Long.toHexString(expectedCrc)
                + " for the data read (the snapshot is corrupt)");
      }
      return new State(step, roles, m, v);
    } catch (EOFException e) {
      throw new IOException(
          "Expected a complete learner snapshot, found the end of the data in its " + section, e);
    }
  }

  private static float[] readFloats(DataInputStream data, int size) throws IOException {
    float[] out = new float[size];
    byte[] chunk = new byte[CHUNK];
    ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    int floatsPerChunk = CHUNK / Float.BYTES;
    for (int start = 0; start < size; start += floatsPerChunk) {
      int n = Math.min(floatsPerChunk, size - start);
      data.readFully(chunk, 0, n * Float.BYTES);
      view.clear();
      view.asFloatBuffer().get(out, start, n);
    }
    return out;
  }

  /** Passes writes through and ignores {@code close()}, so the caller's stream stays open. */
  private static final class NonClosing extends FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
