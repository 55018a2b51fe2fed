package dev.jbond.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.spy;
import static org.mockito.Mockito.verify;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesMetricsWriterTest {
  @TempDir Path dir;

  /** Returns metrics with distinct values in every field, drawn from {@code seed}. */
  static StepMetrics sample(long step, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("total", 120.5);
    timings.put("sample", 80.25);
    timings.put("learn", random.nextDouble() * 100);
    return new StepMetrics(
        step,
        128,
        step - 1,
        step - 2,
        1,
        random.nextGaussian(),
        random.nextGaussian(),
        random.nextDouble(),
        random.nextDouble() * 1e-3,
        Double.NaN,
        random.nextGaussian(),
        random.nextGaussian(),
        0.0,
        random.nextGaussian(),
        random.nextDouble() * 50,
        17.25,
        random.nextDouble() * 1e7,
        3e-6,
        timings,
        Map.of("logQuantileMean", -random.nextDouble()));
  }

  @Test
  void toJson_anyMetrics_keysAreRecordComponentsInDeclarationOrder() {
    Map<String, Object> fields = Json.parseObject(JsonLinesMetricsWriter.toJson(sample(3, 1)));

    List<String> components = new ArrayList<>();
    for (RecordComponent component : StepMetrics.class.getRecordComponents()) {
      components.add(component.getName());
    }
    assertEquals(components, new ArrayList<>(fields.keySet()));
    assertEquals("step", components.get(0));
    assertEquals("extras", components.get(components.size() - 1));
  }

  @Test
  void toJson_knownMetrics_writesIntegersAndDoublesExactly() {
    StepMetrics metrics =
        new StepMetrics(
            7,
            2,
            6,
            -1,
            0,
            0.5,
            Double.NaN,
            1.0,
            1e-5,
            -2.0,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
            3e-6,
            Map.of("total", 12.0),
            Map.of());

    assertEquals(
        "{\"step\":7,\"prompts\":2,\"policyVersion\":6,\"anchorVersion\":-1,\"staleness\":0,"
            + "\"rewardMean\":0.5,\"anchorRewardMean\":null,\"winRate\":1.0,\"klAnchor\":1.0E-5,"
            + "\"klReference\":-2.0,\"lossForward\":3.0,\"lossBackward\":4.0,"
            + "\"lossRegularizer\":5.0,\"loss\":6.0,\"entropy\":7.0,\"completionLength\":8.0,"
            + "\"gradientNorm\":9.0,\"learningRate\":3.0E-6,\"timings\":{\"total\":12.0},"
            + "\"extras\":{}}",
        JsonLinesMetricsWriter.toJson(metrics));
  }

  @Test
  void toJson_nanAndInfinity_writtenAsNull() {
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("total", Double.POSITIVE_INFINITY);
    StepMetrics metrics =
        new StepMetrics(
            1,
            1,
            0,
            0,
            0,
            Double.NaN,
            Double.NEGATIVE_INFINITY,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            timings,
            Map.of("x", Double.NaN));

    String line = JsonLinesMetricsWriter.toJson(metrics);

    assertTrue(line.contains("\"rewardMean\":null,\"anchorRewardMean\":null,"), line);
    assertTrue(line.endsWith("\"timings\":{\"total\":null},\"extras\":{\"x\":null}}"), line);
  }

  @Test
  void toJson_mapsInAnyOrder_writesSortedKeys() {
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("total", 3.0);
    timings.put("anchor", 1.0);
    timings.put("learn", 2.0);
    StepMetrics metrics =
        new StepMetrics(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, timings, Map.of());

    assertTrue(
        JsonLinesMetricsWriter.toJson(metrics)
            .contains("\"timings\":{\"anchor\":1.0,\"learn\":2.0,\"total\":3.0}"));
  }

  @Test
  void write_thenParse_roundTripsExactly() throws IOException {
    StringWriter out = new StringWriter();
    List<StepMetrics> written = new ArrayList<>();
    try (JsonLinesMetricsWriter writer = new JsonLinesMetricsWriter(out)) {
      for (long step = 1; step <= 20; step++) {
        StepMetrics metrics = sample(step, 100 + step);
        written.add(metrics);
        writer.write(metrics);
      }
    }

    List<StepMetrics> read = new ArrayList<>();
    for (String line : out.toString().split("\n")) {
      read.add(JsonLinesMetricsReader.parse(line));
    }
    assertEquals(written, read);
  }

  @Test
  void write_escapedExtrasKeys_roundTrip() throws IOException {
    StepMetrics metrics =
        new StepMetrics(
            1,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            Map.of(),
            Map.of("quote\"back\\slash\nnewline\u0001", 1.5));
    StringWriter out = new StringWriter();

    try (JsonLinesMetricsWriter writer = new JsonLinesMetricsWriter(out)) {
      writer.write(metrics);
    }

    assertEquals(1, out.toString().split("\n", -1).length - 1);
    assertEquals(metrics, JsonLinesMetricsReader.parse(out.toString().strip()));
  }

  @Test
  void write_threeSteps_writesOneTerminatedLinePerStep() throws IOException {
    StringWriter out = new StringWriter();

    try (JsonLinesMetricsWriter writer = new JsonLinesMetricsWriter(out)) {
      writer.write(sample(1, 1));
      writer.write(sample(2, 2));
      writer.write(sample(3, 3));
    }

    String text = out.toString();
    assertTrue(text.endsWith("}\n"), text);
    String[] lines = text.split("\n");
    assertEquals(3, lines.length);
    for (int i = 0; i < lines.length; i++) {
      assertEquals(i + 1, JsonLinesMetricsReader.parse(lines[i]).step());
    }
  }

  @Test
  void write_toPath_eachLineVisibleBeforeClose() throws IOException {
    Path file = dir.resolve("metrics.jsonl");

    try (JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file)) {
      writer.write(sample(1, 1));
      assertEquals(List.of(sample(1, 1)), JsonLinesMetricsReader.read(file));
      writer.write(sample(2, 2));
      assertEquals(2, Files.readAllLines(file, StandardCharsets.UTF_8).size());
    }
  }

  @Test
  void write_toWriter_flushesAfterEachLine() throws IOException {
    FlushCountingWriter out = new FlushCountingWriter();

    try (JsonLinesMetricsWriter writer = new JsonLinesMetricsWriter(out)) {
      writer.write(sample(1, 1));
      assertEquals(1, out.flushes);
      assertTrue(out.flushedText.endsWith("\n"));
      writer.write(sample(2, 2));
      assertEquals(2, out.flushes);
      assertEquals(out.text.toString(), out.flushedText);
    }
  }

  @Test
  void open_existingFile_appends() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    try (JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file)) {
      writer.write(sample(1, 1));
    }

    try (JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file)) {
      writer.write(sample(2, 2));
    }

    assertEquals(List.of(sample(1, 1), sample(2, 2)), JsonLinesMetricsReader.read(file));
  }

  @Test
  void open_fileEndingInIncompleteLine_dropsItBeforeAppending() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    String first = JsonLinesMetricsWriter.toJson(sample(1, 1)) + "\n";
    String partial = JsonLinesMetricsWriter.toJson(sample(2, 2)).substring(0, 40);
    Files.writeString(file, first + partial, StandardCharsets.UTF_8);

    try (JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file)) {
      writer.write(sample(3, 3));
    }

    assertEquals(List.of(sample(1, 1), sample(3, 3)), JsonLinesMetricsReader.read(file));
  }

  @Test
  void open_fileWithOnlyAnIncompleteLine_truncatesToEmpty() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, "{\"step\":1,", StandardCharsets.UTF_8);

    try (JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file)) {
      writer.write(sample(4, 4));
    }

    assertEquals(List.of(sample(4, 4)), JsonLinesMetricsReader.read(file));
  }

  @Test
  void write_afterClose_throwsIllegalState() throws IOException {
    JsonLinesMetricsWriter writer = new JsonLinesMetricsWriter(new StringWriter());
    writer.close();

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> writer.write(sample(1, 1)));
    assertEquals("JsonLinesMetricsWriter is closed", e.getMessage());
  }

  @Test
  void close_calledTwice_isIdempotent() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    JsonLinesMetricsWriter writer = JsonLinesMetricsWriter.open(file);
    writer.write(sample(1, 1));

    writer.close();
    writer.close();

    assertEquals(1, JsonLinesMetricsReader.read(file).size());
  }

  @Test
  void close_callerOwnedWriter_flushesButDoesNotClose() throws IOException {
    Writer out = spy(new StringWriter());

    new JsonLinesMetricsWriter(out).close();

    verify(out).flush();
    verify(out, never()).close();
  }

  /** Records what had been written at the last flush. */
  private static final class FlushCountingWriter extends Writer {
    private final StringBuilder text = new StringBuilder();
    private String flushedText = "";
    private int flushes;

    @Override
    public void write(char[] chars, int off, int len) {
      text.append(chars, off, len);
    }

    @Override
    public void flush() {
      flushes++;
      flushedText = text.toString();
    }

    @Override
    public void close() {}
  }
}
