package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bond bench sample} on a tiny model: every path runs and the result file holds its figures
 * (a smoke test of the command; the figures themselves are for BENCHMARKS.md, not for tests).
 */
class BenchSampleCommandTest {
  @TempDir Path dir;

  @Test
  @SuppressWarnings("unchecked")
  void benchSample_tinyModel_writesEveryPathsFigures() throws Exception {
    Path out = dir.resolve("bench-sample.json");

    int code =
        Cli.run(
                "bench",
                "sample",
                "--vocab",
                "32",
                "--width",
                "16",
                "--layers",
                "1",
                "--heads",
                "2",
                "--prompts",
                "2",
                "--samples",
                "2",
                "--new-tokens",
                "3",
                "--prompt-length",
                "3",
                "--warmup",
                "1",
                "--rounds",
                "2",
                "--clients",
                "2",
                "--requests-per-client",
                "2",
                "--threads",
                "1",
                "--no-spin",
                "--out",
                out.toString())
            .code();

    assertEquals(0, code);
    Map<String, Object> result = Json.parseObject(Files.readString(out, StandardCharsets.UTF_8));
    Map<String, Object> setup = (Map<String, Object>) result.get("setup");
    assertEquals(Boolean.FALSE, setup.get("ort_spinning"));
    for (String path :
        new String[] {
          "direct",
          "grpc",
          "grpc_stream_batched",
          "grpc_stream_per_candidate",
          "clients_1",
          "clients_2"
        }) {
      Map<String, Object> figures = (Map<String, Object>) result.get(path);
      assertTrue(((Number) figures.get("candidates_per_second")).doubleValue() > 0, path);
    }
    for (String path : new String[] {"grpc", "grpc_stream_batched", "grpc_stream_per_candidate"}) {
      Map<String, Object> figures = (Map<String, Object>) result.get(path);
      // a call's 4 rows reach the server in 1 to 4 groups
      double admissions = ((Number) figures.get("admissions_per_call")).doubleValue();
      assertTrue(admissions >= 1 && admissions <= 4, path + ": " + admissions);
    }
  }
}
