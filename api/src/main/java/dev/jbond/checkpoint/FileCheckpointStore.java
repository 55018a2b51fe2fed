package dev.jbond.checkpoint;

import dev.jbond.internal.Checks;
import dev.jbond.spi.CheckpointStore;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * A {@link CheckpointStore} that keeps each checkpoint as one file in a directory, named {@code
 * step-%012d.ckpt} after its step.
 *
 * <p><b>Atomicity.</b> {@link #save} writes to a temporary file in the same directory ({@code
 * .step-%012d.ckpt.tmp-<random>}), forces it to disk, moves it over the final name with an atomic
 * rename, and then forces the directory (where the platform allows opening a directory; elsewhere
 * that last step is skipped). A reader therefore sees either the previous checkpoint or the new
 * one, never a partial file. When the writer throws, the temporary file is deleted, the previous
 * checkpoints are untouched and the exception propagates. Temporary files left by a crashed writer
 * are never listed, and {@link #open(Path, int)} deletes them.
 *
 * <p><b>Retention.</b> After each save the store keeps the checkpoint it just wrote and the newest
 * {@code keep - 1} others, and deletes the rest (a failed delete is logged, not thrown: the save
 * itself succeeded). So the directory holds the last {@code keep} checkpoints, and saving an older
 * step than the newest never deletes what was just saved.
 *
 * <p><b>File format</b> (big-endian): a 16-byte header (the magic bytes {@code "JBCK"}, the format
 * version {@value #FORMAT_VERSION} as an {@code int}, the step as a {@code long}), the content, and
 * a 12-byte trailer (the content length as a {@code long} and the CRC32 of header and content as an
 * {@code int}). {@link #open(long)} checks all of them, so truncation and corruption are reported
 * as an {@link IOException} naming the file, what was expected and what was found.
 *
 * <p><b>Reading.</b> {@link #open(long)} reads the file once to verify it, then streams the content
 * from the same open file; nothing is held in memory, so checkpoints may be of any size. The
 * returned stream keeps reading the verified file even when a later save replaces or retention
 * deletes it (on platforms that allow deleting open files).
 *
 * <p>Files are created as temporary files ({@link Files#createTempFile}), so on POSIX systems only
 * their owner can read them.
 *
 * <p>One store instance owns its directory: two stores (or processes) must not save into the same
 * directory at once. Instances are thread-safe.
 */
public final class FileCheckpointStore implements CheckpointStore {
  /** The number of checkpoints kept by default, {@value}. */
  public static final int DEFAULT_KEEP = 3;

  /** The version of the file format that this class writes and reads, {@value}. */
  public static final int FORMAT_VERSION = 1;

  private static final System.Logger LOG = System.getLogger(FileCheckpointStore.class.getName());
  private static final byte[] MAGIC = "JBCK".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER_BYTES = 16;
  private static final int TRAILER_BYTES = 12;
  private static final int CHUNK_BYTES = 64 * 1024;
  private static final Pattern CHECKPOINT = Pattern.compile("step-(\\d{12,19})\\.ckpt");
  private static final Pattern TEMPORARY = Pattern.compile("\\.step-\\d+\\.ckpt\\.tmp-.*");

  private final Path directory;
  private final int keep;

  private FileCheckpointStore(Path directory, int keep) {
    this.directory = directory;
    this.keep = keep;
  }

  /**
   * Opens a store in {@code directory} that keeps the last {@link #DEFAULT_KEEP} checkpoints; see
   * {@link #open(Path, int)}.
   *
   * @param directory the checkpoint directory; created when missing
   * @return the store
   * @throws IOException when the directory cannot be created or listed
   */
  public static FileCheckpointStore open(Path directory) throws IOException {
    return open(directory, DEFAULT_KEEP);
  }

  /**
   * Opens a store in {@code directory} that keeps the last {@code keep} checkpoints. Creates the
   * directory when missing, and deletes temporary files that crashed writers left in it.
   *
   * @param directory the checkpoint directory; created when missing
   * @param keep how many checkpoints to keep, {@code >= 1}
   * @return the store
   * @throws IllegalArgumentException when {@code keep < 1}
   * @throws IOException when the directory cannot be created or listed
   */
  public static FileCheckpointStore open(Path directory, int keep) throws IOException {
    Objects.requireNonNull(directory, "directory");
    Checks.checkAtLeast(keep, 1, "checkpoints to keep");
    Path dir = Files.createDirectories(directory);
    FileCheckpointStore store = new FileCheckpointStore(dir, keep);
    store.deleteStaleTemporaries();
    return store;
  }

  /**
   * Returns the checkpoint directory.
   *
   * @return the directory
   */
  public Path directory() {
    return directory;
  }

  /**
   * Returns how many checkpoints the store keeps.
   *
   * @return {@code keep}, {@code >= 1}
   */
  public int keep() {
    return keep;
  }

  /**
   * Returns the file name of the checkpoint for {@code step}, for example {@code
   * step-000000000012.ckpt}.
   *
   * @param step the step, {@code >= 0}
   * @return the file name
   * @throws IllegalArgumentException when {@code step} is negative
   */
  public static String fileName(long step) {
    checkStep(step);
    return String.format(Locale.ROOT, "step-%012d.ckpt", step);
  }

  /**
   * Saves a checkpoint for {@code step} atomically (see the class description), replacing any
   * existing one for the same step, then applies the retention.
   *
   * @param step the training step the state belongs to, {@code >= 0}
   * @param writer writes the content
   * @throws IllegalArgumentException when {@code step} is negative
   * @throws IOException when writing fails; no partial checkpoint is left visible
   */
  @Override
  public synchronized void save(long step, Writer writer) throws IOException {
    checkStep(step);
    Objects.requireNonNull(writer, "writer");
    String name = fileName(step);
    Path target = directory.resolve(name);
    Path temporary = Files.createTempFile(directory, "." + name + ".tmp-", "");
    try {
      writeFile(temporary, step, writer);
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
    forceDirectory();
    applyRetention(step);
  }

  /**
   * Returns the steps that have a checkpoint file, oldest first. Files are not verified here;
   * {@link #open(long)} does that.
   *
   * @return the steps, sorted numerically
   * @throws IOException when the directory cannot be listed
   */
  @Override
  public List<Long> steps() throws IOException {
    List<Long> steps = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path file : files) {
        Matcher matcher = CHECKPOINT.matcher(file.getFileName().toString());
        if (matcher.matches()) {
          try {
            steps.add(Long.parseLong(matcher.group(1)));
          } catch (NumberFormatException tooLarge) {
            // More digits than a long holds: not a name this store writes.
          }
        }
      }
    }
    Collections.sort(steps);
    return steps;
  }

  /**
   * Opens the checkpoint for {@code step} after verifying its header, length and CRC32, and returns
   * a stream over its content (header and trailer stripped).
   *
   * @param step a step listed by {@link #steps()}
   * @return the content; the caller closes it
   * @throws IllegalArgumentException when {@code step} is negative
   * @throws NoSuchFileException when there is no checkpoint for {@code step}
   * @throws IOException when the checkpoint is truncated, corrupt, of an unknown format version, or
   *     unreadable
   */
  @Override
  public InputStream open(long step) throws IOException {
    checkStep(step);
    String name = fileName(step);
    Path file = directory.resolve(name);
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      NoSuchFileException missing =
          new NoSuchFileException(
              file.toString(),
              null,
              "No checkpoint for step " + step + ", available steps: " + steps());
      missing.initCause(e);
      throw missing;
    }
    try {
      long contentBytes = verify(channel, name, step);
      return new ContentStream(channel, HEADER_BYTES, contentBytes);
    } catch (Throwable failure) {
      try {
        channel.close();
      } catch (IOException closing) {
        failure.addSuppressed(closing);
      }
      throw failure;
    }
  }

  @Override
  public String toString() {
    return "FileCheckpointStore[directory=" + directory + ", keep=" + keep + "]";
  }

  private static void checkStep(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("Expected a step >= 0, found " + step);
    }
  }

  private static void writeFile(Path temporary, long step, Writer writer) throws IOException {
    try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
      BufferedOutputStream buffered =
          new BufferedOutputStream(Channels.newOutputStream(channel), CHUNK_BYTES);
      CRC32 crc = new CRC32();
      DataOutputStream header = new DataOutputStream(new CheckedOutputStream(buffered, crc));
      header.write(MAGIC);
      header.writeInt(FORMAT_VERSION);
      header.writeLong(step);
      header.flush();
      ShieldedOutputStream content = new ShieldedOutputStream(header);
      try (content) {
        writer.write(content);
      }
      DataOutputStream trailer = new DataOutputStream(buffered);
      trailer.writeLong(content.count);
      trailer.writeInt((int) crc.getValue());
      trailer.flush();
      channel.force(true);
    }
  }

  private void forceDirectory() {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException unsupported) {
      // Some platforms (Windows) refuse to open or force a directory; the rename stays atomic.
      LOG.log(Level.DEBUG, "Could not force directory {0}: {1}", directory, unsupported);
    }
  }

  private void applyRetention(long saved) throws IOException {
    List<Long> others = steps();
    others.remove(Long.valueOf(saved));
    int deletable = others.size() - (keep - 1);
    for (int i = 0; i < deletable; i++) {
      Path old = directory.resolve(fileName(others.get(i)));
      try {
        Files.deleteIfExists(old);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "Could not delete old checkpoint {0}: {1}", old, e);
      }
    }
  }

  private void deleteStaleTemporaries() throws IOException {
    List<Path> stale = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path file : files) {
        if (TEMPORARY.matcher(file.getFileName().toString()).matches()) {
          stale.add(file);
        }
      }
    }
    for (Path file : stale) {
      try {
        Files.deleteIfExists(file);
        LOG.log(Level.INFO, "Deleted stale temporary checkpoint file {0}", file);
      } catch (IOException e) {
        LOG.log(
            Level.WARNING, "Could not delete stale temporary checkpoint file {0}: {1}", file, e);
      }
    }
  }

  /** Verifies header, length and CRC32 of an open checkpoint file; returns its content length. */
  private static long verify(FileChannel channel, String name, long step) throws IOException {
    long size = channel.size();
    if (size < HEADER_BYTES + TRAILER_BYTES) {
      throw corrupt(name, "expected at least " + (HEADER_BYTES + TRAILER_BYTES) + " bytes", size);
    }
    ByteBuffer header = readFully(channel, 0, HEADER_BYTES);
    int magic = header.getInt(0);
    int expectedMagic = ByteBuffer.wrap(MAGIC).getInt();
    if (magic != expectedMagic) {
      throw corrupt(name, "expected magic " + hex(expectedMagic) + " (\"JBCK\")", hex(magic));
    }
    int version = header.getInt(4);
    if (version != FORMAT_VERSION) {
      throw new IOException(
          "Checkpoint "
              + name
              + " is unreadable: expected format version "
              + FORMAT_VERSION
              + ", found "
              + version);
    }
    long headerStep = header.getLong(8);
    if (headerStep != step) {
      throw corrupt(name, "expected step " + step + " in its header", headerStep);
    }
    ByteBuffer trailer = readFully(channel, size - TRAILER_BYTES, TRAILER_BYTES);
    long contentBytes = trailer.getLong(0);
    int storedCrc = trailer.getInt(8);
    if (contentBytes != size - HEADER_BYTES - TRAILER_BYTES) {
      throw corrupt(
          name,
          "expected "
              + (HEADER_BYTES + TRAILER_BYTES)
              + " + "
              + contentBytes
              + " content bytes (from its trailer)",
          size + " bytes");
    }
    CRC32 crc = new CRC32();
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);
    long position = 0;
    long end = size - TRAILER_BYTES;
    while (position < end) {
      chunk.clear().limit((int) Math.min(CHUNK_BYTES, end - position));
      int read = channel.read(chunk, position);
      if (read < 0) {
        throw corrupt(name, "expected " + end + " bytes before its trailer", position + " bytes");
      }
      chunk.flip();
      crc.update(chunk);
      position += read;
    }
    int actualCrc = (int) crc.getValue();
    if (actualCrc != storedCrc) {
      throw corrupt(name, "expected CRC32 " + hex(storedCrc), hex(actualCrc));
    }
    return contentBytes;
  }

  private static ByteBuffer readFully(FileChannel channel, long position, int length)
      throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      int read = channel.read(buffer, position + buffer.position());
      if (read < 0) {
        throw new IOException(
            "Expected " + length + " bytes at offset " + position + ", found end of file");
      }
    }
    return buffer;
  }

  private static IOException corrupt(String name, String expected, Object found) {
    return new IOException("Checkpoint " + name + " is corrupt: " + expected + ", found " + found);
  }

  private static String hex(int value) {
    return String.format(Locale.ROOT, "0x%08x", value);
  }

  /**
   * Hands the writer a stream it may close without closing the file, and counts the content bytes.
   */
  private static final class ShieldedOutputStream extends OutputStream {
    private final OutputStream out;
    private long count;
    private boolean closed;

    ShieldedOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      checkOpen();
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      checkOpen();
      Objects.checkFromIndexSize(off, len, b.length);
      out.write(b, off, len);
      count += len;
    }

    @Override
    public void flush() throws IOException {
      checkOpen();
      out.flush();
    }

    @Override
    public void close() throws IOException {
      if (!closed) {
        out.flush();
        closed = true;
      }
    }

    private void checkOpen() throws IOException {
      if (closed) {
        throw new IOException("Checkpoint output stream is closed");
      }
    }
  }

  /** Streams {@code length} content bytes of a verified file; closing it closes the file. */
  private static final class ContentStream extends InputStream {
    private final FileChannel channel;
    private long position;
    private final long end;
    private boolean closed;

    ContentStream(FileChannel channel, long start, long length) {
      this.channel = channel;
      this.position = start;
      this.end = start + length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int read = read(one, 0, 1);
      return read < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (closed) {
        throw new IOException("Checkpoint input stream is closed");
      }
      if (len == 0) {
        return 0;
      }
      if (position >= end) {
        return -1;
      }
      int wanted = (int) Math.min(len, end - position);
      int read = channel.read(ByteBuffer.wrap(b, off, wanted), position);
      if (read < 0) {
        throw new IOException(
            "Expected checkpoint content up to offset "
                + end
                + ", found end of file at "
                + position);
      }
      position += read;
      return read;
    }

    @Override
    public long skip(long n) throws IOException {
      if (closed) {
        throw new IOException("Checkpoint input stream is closed");
      }
      long skipped = Math.max(0, Math.min(n, end - position));
      position += skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      if (closed) {
        throw new IOException("Checkpoint input stream is closed");
      }
      return (int) Math.min(Integer.MAX_VALUE, end - position);
    }

    @Override
    public void close() throws IOException {
      if (!closed) {
        closed = true;
        channel.close();
      }
    }
  }
}
