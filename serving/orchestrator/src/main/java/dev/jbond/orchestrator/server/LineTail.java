package dev.jbond.orchestrator.server;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Follows a JSON-lines file of a run ({@code metrics.jsonl}, {@code eval.jsonl}): each {@link
 * #poll} returns the complete lines appended since the last one whose {@code step} is above the
 * last step returned. A resumed run first cuts the file back to its checkpoint and then appends the
 * steps after it again; the step filter skips the lines that were already returned, so a follower
 * sees every step once, in order. Not thread-safe: one follower per tail.
 */
final class LineTail {
  private final Path file;
  private long offset;
  private long lastStep;
  private byte[] partial = new byte[0];

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
      if (size < offset) {
        offset = 0; // cut back by a resume: read it again; the step filter drops what was sent
        partial = new byte[0];
      }
      if (size == offset) {
        return List.of();
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 24));
      channel.position(offset);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // read on
      }
      offset += buffer.position();
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
    partial = java.util.Arrays.copyOfRange(bytes, start, bytes.length);
    return lines;
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
