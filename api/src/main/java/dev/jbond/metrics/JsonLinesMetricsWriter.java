package dev.jbond.metrics;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.io.Writer;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Writes {@link StepMetrics} as JSON lines: one JSON object per step, one step per line.
 *
 * <p>Each line holds the record components in declaration order, under their own names ({@code
 * step}, {@code prompts}, {@code policyVersion}, ..., {@code learningRate}), followed by {@code
 * timings} and {@code extras} as nested objects with sorted keys. {@code long} and {@code int}
 * fields are written as JSON integers, {@code double} fields in {@link Double#toString} form (so
 * they parse back to the same value), and NaN or infinite values as {@code null}. {@link
 * JsonLinesMetricsReader} reads the lines back.
 *
 * <p>Every line is flushed as soon as it is written, so a crash loses at most the line being
 * written. {@link #open(Path)} appends to an existing file and first drops an incomplete last line
 * that such a crash left behind.
 *
 * <p>Lifecycle: create with {@link #open(Path)} or {@link #JsonLinesMetricsWriter(Writer)}, call
 * {@link #write} once per step, then {@link #close}. Close is idempotent; {@link #write} after
 * {@link #close} throws {@link IllegalStateException}. Instances are thread-safe.
 */
public final class JsonLinesMetricsWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(JsonLinesMetricsWriter.class.getName());

  private final Writer out;
  private final boolean ownsOut;
  private boolean closed;

  /**
   * Creates a writer that writes to {@code out}. The caller owns {@code out}: {@link #close()}
   * flushes it but does not close it.
   *
   * @param out where to write the lines
   */
  public JsonLinesMetricsWriter(Writer out) {
    this(Objects.requireNonNull(out, "out"), false);
  }

  private JsonLinesMetricsWriter(Writer out, boolean ownsOut) {
    this.out = out;
    this.ownsOut = ownsOut;
  }

  /**
   * Opens {@code path} for appending in UTF-8, creating it when missing. When the file does not end
   * with a line break, its incomplete last line (left by a crashed writer) is dropped first. The
   * returned writer owns the file and closes it in {@link #close()}.
   *
   * @param path the metrics file
   * @return the writer
   * @throws IOException when the file cannot be opened or repaired
   */
  public static JsonLinesMetricsWriter open(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    dropIncompleteLastLine(path);
    Writer file =
        Files.newBufferedWriter(
            path,
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
    return new JsonLinesMetricsWriter(file, true);
  }

  /**
   * Writes {@code metrics} as one line and flushes.
   *
   * @param metrics the step's metrics
   * @throws IOException when writing or flushing fails
   * @throws IllegalStateException when this writer is closed
   */
  public synchronized void write(StepMetrics metrics) throws IOException {
    Objects.requireNonNull(metrics, "metrics");
    if (closed) {
      throw new IllegalStateException("JsonLinesMetricsWriter is closed");
    }
    out.write(toJson(metrics) + "\n");
    out.flush();
  }

  /**
   * Flushes and, when this writer opened the file itself, closes it. Calling it again does nothing.
   *
   * @throws IOException when flushing or closing fails
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (ownsOut) {
      out.close();
    } else {
      out.flush();
    }
  }

  /**
   * Returns the JSON object of one line, without the line break.
   *
   * @param metrics the step's metrics
   * @return the JSON text
   */
  public static String toJson(StepMetrics metrics) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("step", metrics.step());
    fields.put("prompts", metrics.prompts());
    fields.put("policyVersion", metrics.policyVersion());
    fields.put("anchorVersion", metrics.anchorVersion());
    fields.put("staleness", metrics.staleness());
    fields.put("rewardMean", metrics.rewardMean());
    fields.put("anchorRewardMean", metrics.anchorRewardMean());
    fields.put("winRate", metrics.winRate());
    fields.put("klAnchor", metrics.klAnchor());
    fields.put("klReference", metrics.klReference());
    fields.put("lossForward", metrics.lossForward());
    fields.put("lossBackward", metrics.lossBackward());
    fields.put("lossRegularizer", metrics.lossRegularizer());
    fields.put("loss", metrics.loss());
    fields.put("entropy", metrics.entropy());
    fields.put("completionLength", metrics.completionLength());
    fields.put("gradientNorm", metrics.gradientNorm());
    fields.put("learningRate", metrics.learningRate());
    fields.put("timings", metrics.timings());
    fields.put("extras", metrics.extras());
    return Json.write(fields);
  }

  private static void dropIncompleteLastLine(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      return;
    }
    try (FileChannel channel =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      if (size == 0 || byteAt(channel, size - 1) == '\n') {
        return;
      }
      long keep = size - 1;
      while (keep > 0 && byteAt(channel, keep - 1) != '\n') {
        keep--;
      }
      channel.truncate(keep);
      channel.force(true);
      LOG.log(
          Level.WARNING,
          "Dropped the incomplete last line of {0} ({1} bytes), left by an interrupted writer",
          path,
          size - keep);
    }
  }

  private static byte byteAt(FileChannel channel, long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    if (channel.read(one, position) != 1) {
      throw new IOException("Expected 1 byte at offset " + position + ", found end of file");
    }
    return one.get(0);
  }
}
