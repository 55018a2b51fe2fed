package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineTailTest {
  @TempDir Path dir;

  private static List<Long> steps(List<LineTail.Line> lines) {
    return lines.stream().map(LineTail.Line::step).toList();
  }

  private static void append(Path file, String text) throws Exception {
    Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void poll_returnsCompleteNewLinesFromSince() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    LineTail tail = new LineTail(file, 2);
    assertEquals(List.of(), tail.poll()); // no file yet
    append(file, "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\"x\":");
    assertEquals(List.of(2L), steps(tail.poll())); // 3 is still being written
    append(file, "1}\n");
    List<LineTail.Line> lines = tail.poll();
    assertEquals(List.of(3L), steps(lines));
    assertEquals("{\"step\":3,\"x\":1}", lines.get(0).json());
    assertEquals(List.of(), tail.poll());
  }

  @Test
  void aResumeThatCutsTheFileBack_yieldsEveryStepOnce() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    LineTail tail = new LineTail(file, 0);
    append(file, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n");
    assertEquals(List.of(1L, 2L, 3L), steps(tail.poll()));
    // resumed from the checkpoint of step 2: the file is cut back and step 3 is written again
    Files.writeString(file, "{\"step\":1}\n{\"step\":2}\n");
    assertEquals(List.of(), tail.poll());
    append(file, "{\"step\":3}\n{\"step\":4}\n");
    assertEquals(List.of(4L), steps(tail.poll()));
  }

  @Test
  void aRewriteThatGrowsPastTheOffsetBeforeThePoll_losesNoStep() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    LineTail tail = new LineTail(file, 0);
    append(file, "{\"step\":1,\"t\":123456}\n{\"step\":2,\"t\":123456}\n");
    assertEquals(List.of(1L, 2L), steps(tail.poll()));
    // resumed from step 2's checkpoint: step 2's line comes back shorter, and step 3 follows,
    // all before the next poll; the file is longer than what was read
    Path replacement = dir.resolve("metrics.jsonl.tmp");
    Files.writeString(replacement, "{\"step\":1,\"t\":123456}\n{\"step\":2,\"t\":1}\n");
    Files.move(replacement, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    append(file, "{\"step\":3,\"t\":9}\n");
    assertEquals(List.of(3L), steps(tail.poll()));
  }

  @Test
  void aRewriteInPlace_isSeenByItsBytes() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    LineTail tail = new LineTail(file, 0);
    Files.writeString(file, "{\"step\":1,\"t\":1234}\n{\"step\":2,\"t\":1234}\n");
    assertEquals(List.of(1L, 2L), steps(tail.poll()));
    Files.writeString(file, "{\"step\":1,\"t\":1234}\n{\"step\":2}\n{\"step\":3,\"x\":1}\n");
    assertEquals(List.of(3L), steps(tail.poll()));
  }
}
