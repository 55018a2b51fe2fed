package dev.jbond.orchestrator.server;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Follows a JSON-lines file of a run ({@code metrics.jsonl}, {@code eval.jsonl}): each {@link
 * #poll} returns the complete lines appended since the last one whose {@code step} is above the
 * last step returned. A resumed run first cuts the file back to its checkpoint (rewriting it
 * atomically, its checkpoint's line perhaps of another length) and then appends the steps after it
 * again, perhaps past the offset read up to already: a tail reads the file again from its start
 * whenever it was replaced, shrank, or no longer holds, just before the offset, the bytes that were
 * read there; the step filter skips the lines that were already returned, so a follower sees every
 * step once, in order. Not thread-safe: one follower per tail.
 */
final class LineTail {
  private final Path file;
  private long offset;
  private long lastStep;
  private byte[] partial = new byte[0];
  private Object fileKey;
  private byte[] guard = new byte[0]; // the bytes just before offset, as last read

  /** How many bytes before the offset must still be what was read, for the offset to hold. */
  private static final int GUARD = 64;

  /**
   * Creates a tail.
   *
   * @param file the file (need not exist yet)
   * @param since the first step to return
   */
  LineTail(Path file, long since) {
    this.file = file;
    this.lastStep = since - 1;
  }

  /**
   * Returns the new lines.
   *
   * @return the lines, oldest first
   * @throws IOException when the file cannot be read
   */
  List<Line> poll() throws IOException {
    byte[] bytes;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      if (size < offset || !Objects.equals(key, fileKey) || !guardHolds(channel)) {
        // rewritten (a resume cuts the file back to its checkpoint, atomically, and appends again,
        // perhaps past this offset already): read it again; the step filter drops what was sent
        offset = 0;
        partial = new byte[0];
      }
      fileKey = key;
      if (size == offset) {
        return List.of();
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 24));
      channel.position(offset);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // read on
      }
      offset += buffer.position();
      guard = new byte[(int) Math.min(GUARD, offset)];
      channel.read(ByteBuffer.wrap(guard), offset - guard.length);
      bytes = new byte[partial.length + buffer.position()];
      System.arraycopy(partial, 0, bytes, 0, partial.length);
      System.arraycopy(buffer.array(), 0, bytes, partial.length, buffer.position());
    } catch (NoSuchFileException e) {
      return List.of();
    }
    List<Line> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] != '\n') {
        continue;
      }
      String text = new String(bytes, start, i - start, StandardCharsets.UTF_8).strip();
      start = i + 1;
      if (text.isEmpty()) {
        continue;
      }
      long step = step(text);
      if (step > lastStep) {
        lastStep = step;
        lines.add(new Line(step, text));
      }
    }
    partial = Arrays.copyOfRange(bytes, start, bytes.length);
    return lines;
  }

  /** Whether the bytes before the offset are still those that were read. */
  private boolean guardHolds(FileChannel channel) throws IOException {
    if (guard.length == 0) {
      return true;
    }
    ByteBuffer now = ByteBuffer.allocate(guard.length);
    channel.read(now, offset - guard.length);
    return now.position() == guard.length && Arrays.equals(now.array(), guard);
  }

  private static long step(String line) {
    try {
      Map<String, Object> fields = Json.parseObject(line);
      return fields.get("step") instanceof Number n ? n.longValue() : Long.MIN_VALUE;
    } catch (RuntimeException e) {
      return Long.MIN_VALUE;
    }
  }

  /**
   * One line.
   *
   * @param step its {@code step}
   * @param json the line
   */
  record Line(long step, String json) {}
}
