package dev.jbond.metrics;

import dev.jbond.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the lines that {@link JsonLinesMetricsWriter} writes back into {@link StepMetrics}: for
 * tests, and for resuming a run. JSON {@code null} in a {@code double} field or in {@code timings}
 * / {@code extras} becomes NaN. Members that {@link StepMetrics} does not know are ignored, so
 * newer files stay readable; missing members are errors.
 */
public final class JsonLinesMetricsReader {
  private static final System.Logger LOG = System.getLogger(JsonLinesMetricsReader.class.getName());

  private JsonLinesMetricsReader() {}

  /**
   * Parses one line.
   *
   * @param line one JSON object, as written by {@link JsonLinesMetricsWriter#toJson}
   * @return the metrics
   * @throws IllegalArgumentException when the line is not valid JSON, or a member is missing or has
   *     the wrong type
   */
  public static StepMetrics parse(String line) {
    Objects.requireNonNull(line, "line");
    Map<String, Object> fields = Json.parseObject(line);
    return new StepMetrics(
        longField(fields, "step"),
        intField(fields, "prompts"),
        longField(fields, "policyVersion"),
        longField(fields, "anchorVersion"),
        longField(fields, "staleness"),
        doubleField(fields, "rewardMean"),
        doubleField(fields, "anchorRewardMean"),
        doubleField(fields, "winRate"),
        doubleField(fields, "klAnchor"),
        doubleField(fields, "klReference"),
        doubleField(fields, "lossForward"),
        doubleField(fields, "lossBackward"),
        doubleField(fields, "lossRegularizer"),
        doubleField(fields, "loss"),
        doubleField(fields, "entropy"),
        doubleField(fields, "completionLength"),
        doubleField(fields, "gradientNorm"),
        doubleField(fields, "learningRate"),
        mapField(fields, "timings"),
        mapField(fields, "extras"));
  }

  /**
   * Reads every line of a UTF-8 metrics file; see {@link #read(Reader)}.
   *
   * @param path the metrics file
   * @return the metrics, in file order
   * @throws IOException when reading fails or a complete line is malformed
   */
  public static List<StepMetrics> read(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      return read(in);
    }
  }

  /**
   * Reads every line from {@code in}. Blank lines are skipped. A malformed last line that has no
   * line break is the line a crashed writer was writing: it is skipped (and logged). Any other
   * malformed line is an error. The caller owns {@code in} and closes it.
   *
   * @param in the lines
   * @return the metrics, in input order
   * @throws IOException when reading fails or a complete line is malformed; the message gives the
   *     line number (1-based)
   */
  public static List<StepMetrics> read(Reader in) throws IOException {
    Objects.requireNonNull(in, "in");
    BufferedReader lines = in instanceof BufferedReader b ? b : new BufferedReader(in);
    List<StepMetrics> result = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    int lineNumber = 0;
    while (true) {
      int c = lines.read();
      if (c == '\n' || c == -1) {
        boolean terminated = c == '\n';
        if (terminated || line.length() > 0) {
          lineNumber++;
          addLine(result, line, lineNumber, terminated);
        }
        if (!terminated) {
          return result;
        }
        line.setLength(0);
      } else {
        line.append((char) c);
      }
    }
  }

  private static void addLine(
      List<StepMetrics> result, StringBuilder line, int lineNumber, boolean terminated)
      throws IOException {
    if (line.length() > 0 && line.charAt(line.length() - 1) == '\r') {
      line.setLength(line.length() - 1);
    }
    String text = line.toString();
    if (text.isBlank()) {
      return;
    }
    try {
      result.add(parse(text));
    } catch (IllegalArgumentException e) {
      if (!terminated) {
        LOG.log(
            Level.WARNING,
            "Skipped the incomplete last metrics line {0}, left by an interrupted writer: {1}",
            lineNumber,
            e.getMessage());
        return;
      }
      throw new IOException("Malformed metrics line " + lineNumber + ": " + e.getMessage(), e);
    }
  }

  private static Object member(Map<String, Object> fields, String name) {
    if (!fields.containsKey(name)) {
      throw new IllegalArgumentException("Expected member '" + name + "', found none");
    }
    return fields.get(name);
  }

  private static long longField(Map<String, Object> fields, String name) {
    Object value = member(fields, name);
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) <= 0x1p53) {
      return d.longValue();
    }
    throw new IllegalArgumentException(
        "Expected an integer for '" + name + "', found " + Json.write(value));
  }

  private static int intField(Map<String, Object> fields, String name) {
    long value = longField(fields, name);
    if (value != (int) value) {
      throw new IllegalArgumentException(
          "Expected an int for '" + name + "', found " + value + " (out of range)");
    }
    return (int) value;
  }

  private static double toDouble(Object value, String name) {
    if (value == null) {
      return Double.NaN;
    }
    if (value instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException(
        "Expected a number or null for '" + name + "', found " + Json.write(value));
  }

  private static double doubleField(Map<String, Object> fields, String name) {
    return toDouble(member(fields, name), name);
  }

  private static Map<String, Double> mapField(Map<String, Object> fields, String name) {
    Object value = member(fields, name);
    if (!(value instanceof Map<?, ?> members)) {
      throw new IllegalArgumentException(
          "Expected an object for '" + name + "', found " + Json.write(value));
    }
    Map<String, Double> result = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : members.entrySet()) {
      String key = (String) entry.getKey();
      result.put(key, toDouble(entry.getValue(), name + "." + key));
    }
    return result;
  }
}
