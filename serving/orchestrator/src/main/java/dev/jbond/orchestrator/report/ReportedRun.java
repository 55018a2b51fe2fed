package dev.jbond.orchestrator.report;

import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * What a report reads from one run directory: the run's label and settings from {@code
 * config.yaml}, its training steps from {@code metrics.jsonl} and its evaluations from {@code
 * eval.jsonl}.
 *
 * <p>A run that is still going is readable: either jsonl file may be missing or empty, and an
 * incomplete last line (one the run is writing) is skipped. A missing or unreadable {@code
 * config.yaml} does not stop the report either: the run is then labelled by its directory's name.
 * Each such gap is described by one of the {@link #notes()}. When a step occurs more than once (a
 * run resumed from a checkpoint repeats the steps after it), the line written last wins; steps and
 * evaluations are sorted by step.
 *
 * @param directory the run directory
 * @param label the run's name in reports ({@link RunSettings#label}, or the directory's name)
 * @param settings the settings read from {@code config.yaml}; {@link RunSettings#NONE} without one
 * @param configText the text of {@code config.yaml}; empty when there is none
 * @param metrics the training steps, by step
 * @param evals the evaluations, by step
 * @param notes what is missing or was skipped, one sentence each
 */
public record ReportedRun(
    Path directory,
    String label,
    RunSettings settings,
    Optional<String> configText,
    List<StepMetrics> metrics,
    List<EvalResult> evals,
    List<String> notes) {

  /** The run configuration's file name. */
  public static final String CONFIG_FILE = "config.yaml";

  /** The training metrics' file name. */
  public static final String METRICS_FILE = "metrics.jsonl";

  /** The evaluations' file name. */
  public static final String EVAL_FILE = "eval.jsonl";

  /**
   * Copies the lists.
   *
   * @param directory see the record description
   * @param label see the record description
   * @param settings see the record description
   * @param configText see the record description
   * @param metrics see the record description
   * @param evals see the record description
   * @param notes see the record description
   */
  public ReportedRun {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(configText, "configText");
    metrics = List.copyOf(metrics);
    evals = List.copyOf(evals);
    notes = List.copyOf(notes);
  }

  /**
   * Reads a run directory.
   *
   * @param directory the directory
   * @return the run
   * @throws IllegalArgumentException when {@code directory} is not a directory, holds neither
   *     {@code metrics.jsonl} nor {@code eval.jsonl}, or one of them has a malformed complete line
   * @throws IOException when a file cannot be read
   */
  public static ReportedRun load(Path directory) throws IOException {
    Objects.requireNonNull(directory, "directory");
    Path metricsFile = directory.resolve(METRICS_FILE);
    Path evalFile = directory.resolve(EVAL_FILE);
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException(
          "Expected a run directory with "
              + METRICS_FILE
              + " or "
              + EVAL_FILE
              + ", found "
              + (Files.exists(directory) ? "the file " : "nothing at ")
              + directory);
    }
    if (!Files.isRegularFile(metricsFile) && !Files.isRegularFile(evalFile)) {
      throw new IllegalArgumentException(
          "Expected a run directory with "
              + METRICS_FILE
              + " or "
              + EVAL_FILE
              + ", found neither in "
              + directory);
    }
    List<String> notes = new ArrayList<>();
    String name = directoryName(directory);
    Optional<String> configText = Optional.empty();
    RunSettings settings = RunSettings.NONE;
    Path configFile = directory.resolve(CONFIG_FILE);
    if (Files.isRegularFile(configFile)) {
      configText = Optional.of(Files.readString(configFile, StandardCharsets.UTF_8));
      try {
        settings = RunSettings.parse(configText.get());
      } catch (IllegalArgumentException e) {
        notes.add(
            CONFIG_FILE
                + " could not be read ("
                + e.getMessage()
                + "): the run is labelled by its directory's name");
      }
    } else {
      notes.add("No " + CONFIG_FILE + ": the run is labelled by its directory's name");
    }
    List<StepMetrics> metrics = readMetrics(metricsFile, notes);
    List<EvalResult> evals = readEvals(evalFile, notes);
    return new ReportedRun(
        directory, settings.label(name), settings, configText, metrics, evals, notes);
  }

  /**
   * Returns this run under another label.
   *
   * @param newLabel the label
   * @return the copy
   */
  public ReportedRun withLabel(String newLabel) {
    return new ReportedRun(directory, newLabel, settings, configText, metrics, evals, notes);
  }

  /**
   * Returns the step of the last training step or evaluation.
   *
   * @return the step; 0 when there is neither
   */
  public long lastStep() {
    long last = 0;
    if (!metrics.isEmpty()) {
      last = metrics.get(metrics.size() - 1).step();
    }
    if (!evals.isEmpty()) {
      last = Math.max(last, evals.get(evals.size() - 1).step());
    }
    return last;
  }

  /**
   * Returns the last evaluation.
   *
   * @return the evaluation with the highest step; empty when there is none
   */
  public Optional<EvalResult> finalEval() {
    return evals.isEmpty() ? Optional.empty() : Optional.of(evals.get(evals.size() - 1));
  }

  static String directoryName(Path directory) {
    Path absolute = directory.toAbsolutePath().normalize();
    Path name = absolute.getFileName();
    return name == null ? absolute.toString() : name.toString();
  }

  private static List<StepMetrics> readMetrics(Path file, List<String> notes) throws IOException {
    if (!Files.isRegularFile(file)) {
      notes.add("No " + METRICS_FILE + ": the training plots are left out");
      return List.of();
    }
    List<StepMetrics> metrics;
    try {
      metrics = JsonLinesMetricsReader.read(file);
    } catch (IOException e) {
      if (e.getCause() instanceof IllegalArgumentException) {
        throw new IllegalArgumentException(
            "Expected training metrics in " + file + ", found: " + e.getMessage(), e);
      }
      throw e;
    }
    if (metrics.isEmpty()) {
      notes.add(METRICS_FILE + " holds no training steps yet: the training plots are left out");
    }
    return byStep(metrics, StepMetrics::step);
  }

  /**
   * Reads {@code eval.jsonl} line by line with {@link EvalResult#parse}, skipping an incomplete
   * last line (one without a line break that does not parse), which a running evaluation may be
   * writing.
   */
  private static List<EvalResult> readEvals(Path file, List<String> notes) throws IOException {
    if (!Files.isRegularFile(file)) {
      notes.add("No " + EVAL_FILE + ": the evaluation plots are left out");
      return List.of();
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    String[] lines = text.split("\n", -1);
    List<EvalResult> evals = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        evals.add(EvalResult.parse(line));
      } catch (IllegalArgumentException e) {
        boolean unterminated = i == lines.length - 1;
        if (unterminated) {
          notes.add("Skipped the incomplete last line of " + EVAL_FILE);
          continue;
        }
        throw new IllegalArgumentException(
            "Expected an evaluation on line "
                + (i + 1)
                + " of "
                + file
                + ", found: "
                + e.getMessage(),
            e);
      }
    }
    if (evals.isEmpty()) {
      notes.add(EVAL_FILE + " holds no evaluations yet: the evaluation plots are left out");
    }
    return byStep(evals, EvalResult::step);
  }

  private static <T> List<T> byStep(List<T> items, ToLongFunction<T> step) {
    Map<Long, T> last = new TreeMap<>();
    for (T item : items) {
      last.put(step.applyAsLong(item), item);
    }
    return List.copyOf(last.values());
  }
}
