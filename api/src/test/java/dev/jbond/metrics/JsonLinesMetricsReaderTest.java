package dev.jbond.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesMetricsReaderTest {
  private static final String LINE =
      "{\"step\":7,\"prompts\":2,\"policyVersion\":6,\"anchorVersion\":-1,\"staleness\":0,"
          + "\"rewardMean\":0.5,\"anchorRewardMean\":null,\"winRate\":1.0,\"klAnchor\":1.0E-5,"
          + "\"klReference\":-2.0,\"lossForward\":3,\"lossBackward\":4.0,"
          + "\"lossRegularizer\":5.0,\"loss\":6.0,\"entropy\":7.0,\"completionLength\":8.0,"
          + "\"gradientNorm\":9.0,\"learningRate\":3.0E-6,\"timings\":{\"total\":12.0},"
          + "\"extras\":{\"x\":null}}";

  @TempDir Path dir;

  @Test
  void parse_validLine_readsEveryField() {
    StepMetrics metrics = JsonLinesMetricsReader.parse(LINE);

    assertEquals(
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
            Map.of("x", Double.NaN)),
        metrics);
  }

  @Test
  void parse_unknownMember_isIgnored() {
    String withExtra = LINE.replace("{\"step\":7,", "{\"step\":7,\"future\":[1,2],");

    assertEquals(JsonLinesMetricsReader.parse(LINE), JsonLinesMetricsReader.parse(withExtra));
  }

  @Test
  void parse_missingMember_throws() {
    String missing = LINE.replace("\"loss\":6.0,", "");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse(missing));
    assertEquals("Expected member 'loss', found none", e.getMessage());
  }

  @Test
  void parse_fractionalStep_throws() {
    String fractional = LINE.replace("\"step\":7,", "\"step\":7.5,");

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse(fractional));
    assertEquals("Expected an integer for 'step', found 7.5", e.getMessage());
  }

  @Test
  void parse_promptsBeyondInt_throws() {
    String large = LINE.replace("\"prompts\":2,", "\"prompts\":3000000000,");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse(large));
    assertEquals("Expected an int for 'prompts', found 3000000000 (out of range)", e.getMessage());
  }

  @Test
  void parse_stringForDouble_throws() {
    String text = LINE.replace("\"loss\":6.0,", "\"loss\":\"six\",");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse(text));
    assertEquals("Expected a number or null for 'loss', found \"six\"", e.getMessage());
  }

  @Test
  void parse_timingsNotAnObject_throws() {
    String text = LINE.replace("\"timings\":{\"total\":12.0}", "\"timings\":[12.0]");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse(text));
    assertEquals("Expected an object for 'timings', found [12.0]", e.getMessage());
  }

  @Test
  void parse_malformedJson_throwsNamingThePosition() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> JsonLinesMetricsReader.parse("{\"step\" 1}"));
    assertEquals("Expected ':' at position 8, found '1'", e.getMessage());
  }

  @Test
  void read_blankLinesAndCrLf_areAccepted() throws IOException {
    List<StepMetrics> metrics =
        JsonLinesMetricsReader.read(new StringReader(LINE + "\r\n\n  \n" + LINE + "\n"));

    assertEquals(2, metrics.size());
  }

  @Test
  void read_lastLineWithoutLineBreak_isReadWhenComplete() throws IOException {
    assertEquals(2, JsonLinesMetricsReader.read(new StringReader(LINE + "\n" + LINE)).size());
  }

  @Test
  void read_incompleteLastLine_isSkipped() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, LINE + "\n" + LINE.substring(0, 50), StandardCharsets.UTF_8);

    assertEquals(List.of(JsonLinesMetricsReader.parse(LINE)), JsonLinesMetricsReader.read(file));
  }

  @Test
  void read_malformedCompleteLine_throwsWithLineNumber() {
    String text = LINE + "\n" + LINE.substring(0, 50) + "\n" + LINE + "\n";

    IOException e =
        assertThrows(IOException.class, () -> JsonLinesMetricsReader.read(new StringReader(text)));
    assertTrue(e.getMessage().startsWith("Malformed metrics line 2: Expected "), e.getMessage());
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
  }

  @Test
  void read_emptyInput_returnsNothing() throws IOException {
    assertEquals(List.of(), JsonLinesMetricsReader.read(new StringReader("")));
  }
}
