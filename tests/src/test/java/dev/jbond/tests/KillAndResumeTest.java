package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed with SIGKILL at several moments and resumed with {@code --resume} writes, from the
 * resumed step on, exactly the metrics and evaluation lines (timings aside) of an uninterrupted run
 * with the same seed; and SIGTERM stops a run cleanly with a checkpoint and exit code 0.
 */
class KillAndResumeTest {
  private static final Duration RUN = Duration.ofMinutes(3);
  private static final int STEPS = 12;

  @Test
  void run_killedAtSeveralMomentsAndResumed_writesTheUninterruptedLines(@TempDir Path dir)
      throws Exception {
    Path config = RunFiles.config(dir, "small", STEPS, "");
    Path whole = dir.resolve("whole");
    Path killed = dir.resolve("killed");
    Path logs = dir.resolve("logs");

    try (BondProcess p =
        BondProcess.start(
            logs, "whole", "run", "--config", config.toString(), "--out", whole.toString())) {
      assertEquals(0, p.waitFor(RUN), p::toString);
    }
    // 1: mid-step, before the first checkpoint; 2: right after a checkpoint file appears;
    // 3: between checkpoints, after an evaluation; then run to the end
    try (BondProcess p =
        BondProcess.start(
            logs, "k1", "run", "--config", config.toString(), "--out", killed.toString())) {
      p.await(() -> RunFiles.lineCount(killed.resolve("metrics.jsonl")) >= 1, RUN, "a first step");
      p.kill();
    }
    try (BondProcess p = resume(logs, "k2", config, killed)) {
      p.await(
          () -> Files.exists(killed.resolve("checkpoints/step-000000000004.ckpt")),
          RUN,
          "the checkpoint of step 4");
      p.kill();
    }
    try (BondProcess p = resume(logs, "k3", config, killed)) {
      p.await(() -> RunFiles.lineCount(killed.resolve("metrics.jsonl")) >= 9, RUN, "step 9");
      p.kill();
    }
    try (BondProcess p = resume(logs, "k4", config, killed)) {
      assertEquals(0, p.waitFor(RUN), p.err());
      assertTrue(p.out().contains("Resuming"), p.out());
    }

    List<Map<String, Object>> expected =
        RunFiles.linesWithoutTimings(whole.resolve("metrics.jsonl"));
    assertEquals(STEPS, expected.size());
    assertEquals(expected, RunFiles.linesWithoutTimings(killed.resolve("metrics.jsonl")));
    List<Map<String, Object>> evals = RunFiles.linesWithoutTimings(whole.resolve("eval.jsonl"));
    assertEquals(
        List.of(0L, 4L, 8L, 12L),
        evals.stream().map(m -> ((Number) m.get("step")).longValue()).toList());
    assertEquals(evals, RunFiles.linesWithoutTimings(killed.resolve("eval.jsonl")));
  }

  @Test
  void run_sigterm_checkpointsAndExitsZeroWithHowToResume(@TempDir Path dir) throws Exception {
    Path config = RunFiles.config(dir, "small", 200, "");
    Path out = dir.resolve("run");
    Path logs = dir.resolve("logs");
    try (BondProcess p =
        BondProcess.start(
            logs, "term", "run", "--config", config.toString(), "--out", out.toString())) {
      p.await(() -> RunFiles.lineCount(out.resolve("metrics.jsonl")) >= 3, RUN, "step 3");
      p.terminate();

      assertEquals(0, p.waitFor(RUN), p.err());
      String printed = p.out();
      assertTrue(printed.contains("Stopped at step"), printed);
      assertTrue(printed.contains("--out " + out + " --resume"), printed);
    }
    int lines = RunFiles.lineCount(out.resolve("metrics.jsonl"));
    assertTrue(lines >= 3 && lines < 200, "metrics lines " + lines);
    assertTrue(
        Files.exists(out.resolve(String.format("checkpoints/step-%012d.ckpt", lines))),
        "a checkpoint of the last step " + lines);
  }

  private static BondProcess resume(Path logs, String name, Path config, Path out)
      throws Exception {
    return BondProcess.start(
        logs, name, "run", "--config", config.toString(), "--out", out.toString(), "--resume");
  }
}
