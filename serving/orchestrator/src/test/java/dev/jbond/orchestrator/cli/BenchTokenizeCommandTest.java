package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bond bench tokenize} on the GPT-2-style test tokenizer: every text set is measured (a
 * smoke test of the command; the figures themselves are for BENCHMARKS.md).
 */
class BenchTokenizeCommandTest {
  @TempDir Path dir;

  private static Path repository() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("models/demo")) && Files.isRegularFile(p.resolve("bond"))) {
        return p;
      }
    }
    throw new IllegalStateException("Expected the repository above the tests");
  }

  @Test
  @SuppressWarnings("unchecked")
  void benchTokenize_testTokenizer_measuresEveryTextSet() throws Exception {
    Path root = repository();
    Path out = dir.resolve("bench-tokenize.json");

    Cli.Result result =
        Cli.run(
            "bench",
            "tokenize",
            "--tokenizer",
            root.resolve(BenchTokenizeCommand.FIXTURES).resolve("tokenizer.json").toString(),
            "--demo",
            root.resolve("models/demo").toString(),
            "--paragraphs",
            "2",
            "--warmup",
            "1",
            "--rounds",
            "2",
            "--pass-ms",
            "1",
            "--out",
            out.toString());

    assertEquals(0, result.code(), result.err());
    Map<String, Object> figures = Json.parseObject(Files.readString(out, StandardCharsets.UTF_8));
    Map<String, Object> file = (Map<String, Object>) ((List<?>) figures.get("tokenizers")).get(0);
    for (String set : List.of("references", "prompts", "paragraphs")) {
      Map<String, Object> measured = (Map<String, Object>) file.get(set);
      assertTrue(((Number) measured.get("tokens")).longValue() > 0, set);
      assertTrue(((Number) measured.get("encodeTokensPerSecond")).doubleValue() > 0, set);
      assertTrue(((Number) measured.get("decodeTokensPerSecond")).doubleValue() > 0, set);
    }
    Map<String, Object> paragraphs = (Map<String, Object>) file.get("paragraphs");
    assertEquals(2L, paragraphs.get("texts"));
    assertTrue(((Number) paragraphs.get("characters")).longValue() >= 4000);
  }
}
