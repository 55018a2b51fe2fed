package dev.jbond.orchestrator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.orchestrator.eval.EvalResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading a run directory: one-line errors for what is not a run directory; a missing or unreadable
 * config.yaml, missing or empty jsonl files and a half-written last line are notes, not errors;
 * repeated steps keep the last line.
 */
class ReportedRunTest {
  @TempDir Path dir;

  @Test
  void load_missingPath_throwsOneLineMessage() {
    Path missing = dir.resolve("missing-dir");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReportedRun.load(missing));
    assertEquals(
        "Expected a run directory with metrics.jsonl or eval.jsonl, found nothing at " + missing,
        e.getMessage());
  }

  @Test
  void load_file_throwsOneLineMessage() throws IOException {
    Path file = Files.writeString(dir.resolve("metrics.jsonl"), "");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReportedRun.load(file));
    assertEquals(
        "Expected a run directory with metrics.jsonl or eval.jsonl, found the file " + file,
        e.getMessage());
  }

  @Test
  void load_directoryWithNeitherFile_throwsOneLineMessage() throws IOException {
    Files.writeString(dir.resolve("config.yaml"), "objective:\n  name: jbond\n");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReportedRun.load(dir));
    assertEquals(
        "Expected a run directory with metrics.jsonl or eval.jsonl, found neither in " + dir,
        e.getMessage());
  }

  @Test
  void load_wholeRun_readsLabelSettingsMetricsAndEvals() throws IOException {
    FakeRun.write(dir, "name: jbond\neta: 0.02\nbeta: 0.5", 40, 10, 1.0, 0.8, 5);

    ReportedRun run = ReportedRun.load(dir);

    assertEquals("J-BOND (eta 0.02)", run.label());
    assertEquals(40, run.settings().steps().getAsLong());
    assertEquals(5, run.settings().seed().getAsLong());
    assertEquals(40, run.metrics().size());
    assertEquals(5, run.evals().size());
    assertEquals(40, run.lastStep());
    assertEquals(Optional.of(run.evals().get(4)), run.finalEval());
    assertEquals(List.of(), run.notes());
    assertTrue(run.configText().orElseThrow().contains("eta: 0.02"));
  }

  @Test
  void load_withoutConfig_isLabelledByTheDirectoryName() throws IOException {
    Path run = Files.createDirectories(dir.resolve("run-7"));
    FakeRun.writeEvals(run, FakeRun.evals(20, 10, 0.5, 1, 1));

    ReportedRun loaded = ReportedRun.load(run);

    assertEquals("run-7", loaded.label());
    assertEquals(Optional.empty(), loaded.configText());
    assertEquals(RunSettings.NONE, loaded.settings());
    assertEquals(
        List.of(
            "No config.yaml: the run is labelled by its directory's name",
            "No metrics.jsonl: the training plots are left out"),
        loaded.notes());
  }

  @Test
  void load_unparsableConfig_isLabelledByTheDirectoryNameWithANote() throws IOException {
    Path run = Files.createDirectories(dir.resolve("broken"));
    Files.writeString(run.resolve("config.yaml"), "objective: [jbond\n  eta: : 0.02\n");
    FakeRun.writeEvals(run, FakeRun.evals(20, 10, 0.5, 1, 1));

    ReportedRun loaded = ReportedRun.load(run);

    assertEquals("broken", loaded.label());
    assertTrue(loaded.configText().isPresent());
    String note = loaded.notes().get(0);
    assertTrue(note.startsWith("config.yaml could not be read (Expected a YAML document"), note);
    assertTrue(note.endsWith("): the run is labelled by its directory's name"), note);
    assertFalse(note.contains("\n"), note);
  }

  @Test
  void load_incompleteLastEvalLine_isSkippedWithANote() throws IOException {
    List<EvalResult> evals = FakeRun.evals(20, 10, 0.5, 1, 1);
    FakeRun.writeEvals(dir, evals);
    Files.writeString(
        dir.resolve("eval.jsonl"), "{\"step\": 30, \"rewardMean\": 0.", StandardOpenOption.APPEND);

    ReportedRun loaded = ReportedRun.load(dir);

    assertEquals(evals, loaded.evals());
    assertTrue(loaded.notes().contains("Skipped the incomplete last line of eval.jsonl"));
  }

  @Test
  void load_malformedCompleteEvalLine_throwsNamingTheLine() throws IOException {
    Files.writeString(dir.resolve("eval.jsonl"), "{\"step\": 1}\n" + evalLine(2) + "\n");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReportedRun.load(dir));
    assertTrue(
        e.getMessage()
            .startsWith("Expected an evaluation on line 1 of " + dir.resolve("eval.jsonl")),
        e.getMessage());
  }

  @Test
  void load_malformedMetricsLine_throwsNamingTheFile() throws IOException {
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1}\n");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReportedRun.load(dir));
    assertTrue(
        e.getMessage()
            .startsWith("Expected training metrics in " + dir.resolve("metrics.jsonl") + ", found"),
        e.getMessage());
  }

  @Test
  void load_repeatedSteps_keepsTheLastLineAndSortsByStep() throws IOException {
    Files.writeString(
        dir.resolve("eval.jsonl"),
        String.join("\n", evalLine(20), evalLine(10), evalLine(0), evalLine(10)) + "\n");
    Files.writeString(
        dir.resolve("eval.jsonl"),
        new EvalResult(10, 9, 0, 0.75, 0.3, 3, EvalResult.frontierKl(3), 1, 1).toJson() + "\n",
        StandardOpenOption.APPEND);

    ReportedRun loaded = ReportedRun.load(dir);

    assertEquals(List.of(0L, 10L, 20L), loaded.evals().stream().map(EvalResult::step).toList());
    assertEquals(9.0, loaded.evals().get(1).rewardMean());
  }

  private static String evalLine(long step) {
    return new EvalResult(step, 1, 0, 0.6, 0.1, 1.5, EvalResult.frontierKl(1.5), 8, 2).toJson();
  }
}
