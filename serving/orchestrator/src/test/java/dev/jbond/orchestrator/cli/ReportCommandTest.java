package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.orchestrator.report.FakeRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond report}: prints the report's path; a bad run directory is a one-line usage error. */
class ReportCommandTest {
  @TempDir Path dir;

  @Test
  void report_runDirectory_writesTheReportAndPrintsItsPath() {
    Path run = FakeRun.write(dir.resolve("run"), "name: jbond\neta: 0.02", 30, 10, 0.5, 0.8, 1);
    Path out = dir.resolve("report");

    Cli.Result r = Cli.run("report", run.toString(), "--out", out.toString());

    assertEquals(0, r.code(), r.err());
    assertEquals(out.resolve("report.html").toString(), r.out().strip());
    assertTrue(Files.isRegularFile(out.resolve("report.html")));
    assertTrue(Files.isRegularFile(out.resolve("frontier.png")));
  }

  @Test
  void report_missingDirectory_exitsTwoWithOneLine() {
    Path out = dir.resolve("x");

    Cli.Result r = Cli.run("report", "missing-dir", "--out", out.toString());

    assertEquals(2, r.code());
    assertEquals(
        "bond: Expected a run directory with metrics.jsonl or eval.jsonl, found nothing at"
            + " missing-dir",
        r.err().strip());
    assertFalse(Files.exists(out));
  }

  @Test
  void report_withoutOut_exitsTwoNamingTheOption() {
    Cli.Result r = Cli.run("report", dir.toString());

    assertEquals(2, r.code());
    assertTrue(r.err().contains("--out"), r.err());
  }
}
