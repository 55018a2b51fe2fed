package dev.jbond.orchestrator.run;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The folder of one run, as {@code bond run} and {@code bond demo} write it:
 *
 * <pre>
 *   config.yaml            the resolved configuration (what --resume reads back)
 *   metrics.jsonl          one StepMetrics line per training step
 *   eval.jsonl             one EvalResult line per evaluation
 *   eval-reference.jsonl   the reference samples of the held-out prompts, drawn once
 *   checkpoints/           atomic checkpoints (FileCheckpointStore)
 *   serving/               the embedded server's model repository (embedded serving only)
 *   export/                the final policy and anchor as a Triton model repository and ONNX
 *   report.html, *.png     the run report
 * </pre>
 *
 * @param root the folder
 */
public record RunDirectory(Path root) {
  /**
   * Validates the path.
   *
   * @param root see the record description
   */
  public RunDirectory {
    Objects.requireNonNull(root, "root");
  }

  /**
   * Returns a new folder under {@code parent} named by command and time ({@code
   * demo-20261206-153012}), with a suffix when that name is taken.
   *
   * @param parent where runs go, usually {@code runs/}
   * @param command the command's name
   * @param now the local time
   * @return the run directory (not created yet)
   */
  public static RunDirectory fresh(Path parent, String command, LocalDateTime now) {
    String base = command + "-" + now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path candidate = parent.resolve(base);
    for (int i = 2; Files.exists(candidate); i++) {
      candidate = parent.resolve(base + "-" + i);
    }
    return new RunDirectory(candidate);
  }

  /**
   * Returns {@code config.yaml}.
   *
   * @return the path
   */
  public Path config() {
    return root.resolve("config.yaml");
  }

  /**
   * Returns {@code metrics.jsonl}.
   *
   * @return the path
   */
  public Path metrics() {
    return root.resolve("metrics.jsonl");
  }

  /**
   * Returns {@code eval.jsonl}.
   *
   * @return the path
   */
  public Path eval() {
    return root.resolve("eval.jsonl");
  }

  /**
   * Returns {@code samples.jsonl}: each evaluation's policy samples, one line each, with their
   * token ids, decoded text (when the policy has a tokenizer) and reward.
   *
   * @return the path
   */
  public Path samples() {
    return root.resolve("samples.jsonl");
  }

  /**
   * Returns {@code eval-reference.jsonl}.
   *
   * @return the path
   */
  public Path evalReference() {
    return root.resolve("eval-reference.jsonl");
  }

  /**
   * Returns {@code checkpoints/}.
   *
   * @return the path
   */
  public Path checkpoints() {
    return root.resolve("checkpoints");
  }

  /**
   * Returns {@code serving/}.
   *
   * @return the path
   */
  public Path serving() {
    return root.resolve("serving");
  }

  /**
   * Returns {@code export/}.
   *
   * @return the path
   */
  public Path export() {
    return root.resolve("export");
  }

  /**
   * Returns {@code report.html}.
   *
   * @return the path
   */
  public Path report() {
    return root.resolve("report.html");
  }

  /**
   * Returns {@code status.json}, where {@code bond server} keeps a run's status.
   *
   * @return the path
   */
  public Path status() {
    return root.resolve("status.json");
  }

  /**
   * Returns {@code run.lock}, the file a running run holds locked.
   *
   * @return the path
   */
  public Path lockFile() {
    return root.resolve("run.lock");
  }

  /**
   * Locks the run for this process (an OS file lock on {@code run.lock}, released when the process
   * dies however it dies), so that two processes never run one folder at once.
   *
   * @return the lock, or empty when another process (or another run in this JVM) holds it
   * @throws IOException when the folder or the lock file cannot be created
   */
  public Optional<Lock> tryLock() throws IOException {
    Files.createDirectories(root);
    FileChannel channel =
        FileChannel.open(lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
        return Optional.empty();
      }
      return Optional.of(new Lock(channel, lock));
    } catch (OverlappingFileLockException e) {
      channel.close();
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * Returns whether some process (this one included) holds the run's lock, that is, runs it now.
   *
   * @return true while the run runs somewhere
   * @throws IOException when the lock file cannot be opened
   */
  public boolean locked() throws IOException {
    if (!Files.exists(lockFile())) {
      return false;
    }
    Optional<Lock> lock = tryLock();
    lock.ifPresent(Lock::close);
    return lock.isEmpty();
  }

  /**
   * A held run lock.
   *
   * @param channel the lock file's channel
   * @param lock the lock
   */
  public record Lock(FileChannel channel, FileLock lock) implements AutoCloseable {
    /** Releases the lock. */
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot release the run lock: " + e.getMessage(), e);
      }
    }
  }

  /**
   * Returns the steps that have a checkpoint file, without reading them.
   *
   * @return the steps, ascending; empty when there are none
   */
  public List<Long> checkpointSteps() {
    List<Long> steps = new ArrayList<>();
    if (!Files.isDirectory(checkpoints())) {
      return steps;
    }
    try (Stream<Path> files = Files.list(checkpoints())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName().toString();
        if (name.matches("step-[0-9]+\\.ckpt")) {
          steps.add(Long.parseLong(name.substring(5, name.length() - 5)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + checkpoints() + ": " + e.getMessage(), e);
    }
    steps.sort(null);
    return steps;
  }

  /**
   * Writes a file atomically: a temporary file of its own beside it (so concurrent writers do not
   * share one), forced to disk, then moved over it; the temporary file never outlives the call.
   *
   * @param file the file
   * @param text the content, UTF-8
   * @throws IOException when writing fails; the old content then stays
   */
  public static void writeAtomically(Path file, String text) throws IOException {
    writeAtomically(file, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Writes a file atomically (see {@link #writeAtomically(Path, String)}).
   *
   * @param file the file
   * @param bytes the content
   * @throws IOException when writing fails; the old content then stays
   */
  public static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temp = Files.createTempFile(parent, "." + file.getFileName() + ".", ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Rewrites a JSON-lines file keeping only the complete lines whose {@code "step"} is below {@code
   * step} (atomically); a missing file stays missing. Resuming from a checkpoint of step s uses it
   * to drop what a run wrote after its last checkpoint, which the resumed run writes again.
   *
   * @param file the JSON-lines file
   * @param step the first step to drop
   * @return the lines kept
   * @throws IOException when reading or writing fails
   */
  public static int keepLinesBefore(Path file, long step) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    StringBuilder kept = new StringBuilder(text.length());
    int count = 0;
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        break; // an incomplete last line, left by a crash
      }
      String line = text.substring(start, end);
      start = end + 1;
      if (line.isBlank()) {
        continue;
      }
      Map<String, Object> fields;
      try {
        fields = Json.parseObject(line);
      } catch (IllegalArgumentException e) {
        continue; // a torn line
      }
      if (fields.get("step") instanceof Number n && n.longValue() < step) {
        kept.append(line).append('\n');
        count++;
      }
    }
    writeAtomically(file, kept.toString());
    return count;
  }

  /**
   * Deletes a directory and everything below it; a missing one is fine.
   *
   * @param root the directory
   * @throws IOException when a file cannot be deleted
   */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * Appends one line and forces it to disk.
   *
   * @param file the JSON-lines file, created when missing
   * @param line the line, without a line break
   * @throws IOException when writing fails
   */
  public static void appendLine(Path file, String line) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      java.nio.ByteBuffer buffer =
          java.nio.ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(false);
    }
  }
}
