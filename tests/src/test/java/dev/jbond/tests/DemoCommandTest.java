package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.cli.BondCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond demo --tabular} end to end, as a user runs it, and the demo's option errors. */
class DemoCommandTest {
  @Test
  void demo_runsJbondAndWritesMetrics(@TempDir Path dir) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code =
          BondCommand.execute(
              new String[] {
                "demo", "--tabular", "--steps", "200", "--prompts", "6", "--out", dir.toString()
              },
              new PrintWriter(System.out, true),
              new PrintWriter(new StringWriter(), true));
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    assertTrue(out.contains("Best-of-N of the reference (exact)"), out);
    assertTrue(out.contains("REINFORCE"), out);
    List<StepMetrics> metrics = JsonLinesMetricsReader.read(dir.resolve("jbond-metrics.jsonl"));
    assertEquals(200, metrics.size());
    assertEquals(200, metrics.get(199).step());
  }

  @Test
  void demo_badOption_printsOneLineError() {
    StringWriter err = new StringWriter();
    int code =
        BondCommand.execute(
            new String[] {"demo", "--steps", "0"},
            new PrintWriter(new StringWriter()),
            new PrintWriter(err));
    assertEquals(2, code);
    assertEquals("bond: Expected steps >= 1, found 0", err.toString().trim());
  }
}
