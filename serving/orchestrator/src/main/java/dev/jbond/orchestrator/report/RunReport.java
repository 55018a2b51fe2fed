package dev.jbond.orchestrator.report;

import dev.jbond.internal.Checks;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The run report: a self-contained {@code report.html} and its PNG plots, for one run or a
 * comparison of several.
 *
 * <p>For one run the report has a summary table (final evaluation, steps, mean step time,
 * objective), the plots below, the notes on missing data and the run's {@code config.yaml}:
 *
 * <ul>
 *   <li>{@code quantile.png}: the reward quantile against pi_ref per evaluation step, with the
 *       Best-of-N levels N/(N+1) for N = 2, 4, 8, 16;
 *   <li>{@code kl-reference.png}: KL(pi || pi_ref) per evaluation step (and per training step,
 *       faint, when tracked), with the Best-of-N levels log N - (N-1)/N;
 *   <li>{@code frontier.png}: quantile against KL, the evaluations joined in step order, against
 *       the Best-of-N curve for N from 1 to 64 (BOND paper, figure 7);
 *   <li>{@code reward.png}: policy and anchor reward per training step, raw and moving average
 *       (window about 5% of the steps);
 *   <li>{@code kl-anchor.png}: KL(pi || pi_anchor) per training step, raw and moving average;
 *   <li>{@code step-time.png}: time per training step split by phase, stacked moving averages.
 * </ul>
 *
 * <p>For several runs it has one row per run in a table, and {@code frontier.png}, {@code
 * quantile.png} and {@code kl-reference.png} with one line per run, plus {@code reward.png} with
 * each run's moving-average policy reward; each run keeps one colour in every plot. Plots whose
 * data is missing (a run without {@code eval.jsonl}, say) are left out and the report says why.
 *
 * <p>The HTML needs nothing but its directory: no scripts, styles or fonts from elsewhere; plots
 * are referenced by file name. Every file is written to a temporary name and renamed into place,
 * and plots of an earlier report in the same directory that this one does not draw are deleted.
 */
public final class RunReport {
  /** The report's file name. */
  public static final String REPORT_FILE = "report.html";

  /** Every plot file a report may write, in the order they appear. */
  public static final List<String> PLOT_FILES =
      List.of(
          "frontier.png",
          "quantile.png",
          "kl-reference.png",
          "reward.png",
          "kl-anchor.png",
          "step-time.png");

  private RunReport() {}

  /**
   * Reads the run directories and writes the report of one run (one directory) or the comparison of
   * several into {@code outDirectory}, which is created when missing.
   *
   * @param runDirectories the run directories, at least one; each holds {@code metrics.jsonl} or
   *     {@code eval.jsonl} (see {@link ReportedRun#load})
   * @param outDirectory where {@code report.html} and its PNGs go
   * @return the path of {@code report.html}
   * @throws IllegalArgumentException when there is no run directory, one is not a run directory, or
   *     {@code outDirectory} is a file
   * @throws IOException when a file cannot be read or written
   */
  public static Path write(List<Path> runDirectories, Path outDirectory) throws IOException {
    Objects.requireNonNull(runDirectories, "runDirectories");
    Objects.requireNonNull(outDirectory, "outDirectory");
    Checks.checkArgument(
        !runDirectories.isEmpty(), "Expected at least one run directory, found none");
    List<ReportedRun> runs = new ArrayList<>(runDirectories.size());
    for (Path directory : runDirectories) {
      runs.add(ReportedRun.load(directory));
    }
    return render(distinctLabels(runs), outDirectory);
  }

  /** Writes the report of loaded runs. */
  static Path render(List<ReportedRun> runs, Path outDirectory) throws IOException {
    Checks.checkArgument(
        !Files.exists(outDirectory) || Files.isDirectory(outDirectory),
        "Expected an output directory, found the file %s",
        outDirectory);
    // charts are drawn into images: no display needed, and none opened where one exists
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    Files.createDirectories(outDirectory);
    List<Figure> figures =
        runs.size() == 1 ? singleRunFigures(runs.get(0)) : comparisonFigures(runs);
    Set<String> written = new HashSet<>();
    for (Figure figure : figures) {
      ReportFiles.writePng(outDirectory.resolve(figure.file()), figure.chart());
      written.add(figure.file());
    }
    String html =
        runs.size() == 1
            ? ReportPage.singleRun(runs.get(0), figures, summary(runs.get(0)))
            : ReportPage.comparison(runs, figures);
    Path report = outDirectory.resolve(REPORT_FILE);
    ReportFiles.writeString(report, html);
    for (String file : PLOT_FILES) {
      if (!written.contains(file)) {
        Files.deleteIfExists(outDirectory.resolve(file));
      }
    }
    return report;
  }

  /**
   * Returns the runs with labels that tell them apart: a label that several runs share gets the
   * directory's name appended, and a number when that is not enough.
   */
  static List<ReportedRun> distinctLabels(List<ReportedRun> runs) {
    Map<String, Integer> count = new HashMap<>();
    for (ReportedRun run : runs) {
      count.merge(run.label(), 1, Integer::sum);
    }
    List<ReportedRun> out = new ArrayList<>(runs.size());
    Set<String> used = new HashSet<>();
    for (ReportedRun run : runs) {
      String label = run.label();
      if (count.get(label) > 1) {
        label = label + " [" + ReportedRun.directoryName(run.directory()) + "]";
      }
      String unique = label;
      for (int k = 2; !used.add(unique); k++) {
        unique = label + " #" + k;
      }
      out.add(unique.equals(run.label()) ? run : run.withLabel(unique));
    }
    return out;
  }

  private static List<Figure> singleRunFigures(ReportedRun run) {
    List<Figure> figures = new ArrayList<>();
    double maxStep = run.lastStep();
    List<ReportedRun> one = List.of(run);
    boolean trainingKl = run.metrics().stream().anyMatch(m -> Double.isFinite(m.klReference()));
    if (!run.evals().isEmpty()) {
      figures.add(
          new Figure(
              "frontier.png",
              Charts.frontier(one),
              "Reward quantile against KL(π ‖ π_ref) at each evaluation, joined in step order, and"
                  + " the Best-of-N curve (quantile N/(N+1) at KL log N − (N−1)/N). A point above"
                  + " and left of the curve beats Best-of-N sampling: more reward for less KL."));
      figures.add(
          new Figure(
              "quantile.png",
              Charts.quantilePerStep(one, maxStep),
              "Fraction of reference samples that the policy's samples beat, per evaluation;"
                  + " dashed: what Best-of-N sampling from π_ref reaches, N/(N+1)."));
    }
    if (!run.evals().isEmpty() || trainingKl) {
      figures.add(
          new Figure(
              "kl-reference.png",
              Charts.klPerStep(one, maxStep, trainingKl),
              "Monte-Carlo estimate of KL(π ‖ π_ref) per evaluation"
                  + (trainingKl ? " (faint: per training step)" : "")
                  + "; dashed: the KL of Best-of-N, log N − (N−1)/N."));
    }
    if (!run.metrics().isEmpty()) {
      figures.add(
          new Figure(
              "reward.png",
              Charts.rewardPerStep(run, maxStep, Charts.runColor(0)),
              "Mean reward of the policy's and the anchor's samples per training step: thin lines"
                  + " per step, thick lines the moving average."));
      if (run.metrics().stream().anyMatch(m -> Double.isFinite(m.klAnchor()))) {
        figures.add(
            new Figure(
                "kl-anchor.png",
                Charts.anchorKlPerStep(run, maxStep, Charts.runColor(0)),
                "Estimate of KL(π ‖ π_anchor) per training step: thin line per step, thick line"
                    + " the moving average."));
      }
      if (!Charts.phases(run.metrics()).isEmpty()) {
        figures.add(
            new Figure(
                "step-time.png",
                Charts.stepTime(run, maxStep),
                "Wall-clock time of each training step, split by phase and stacked (moving"
                    + " averages); phases: "
                    + String.join(", ", Charts.phases(run.metrics()))
                    + "."));
      }
    }
    return figures;
  }

  private static List<Figure> comparisonFigures(List<ReportedRun> runs) {
    List<Figure> figures = new ArrayList<>();
    double maxStep = 0;
    boolean evals = false;
    boolean metrics = false;
    for (ReportedRun run : runs) {
      maxStep = Math.max(maxStep, run.lastStep());
      evals |= !run.evals().isEmpty();
      metrics |= !run.metrics().isEmpty();
    }
    if (evals) {
      figures.add(
          new Figure(
              "frontier.png",
              Charts.frontier(runs),
              "Reward quantile against KL(π ‖ π_ref): each run's evaluations joined in step order,"
                  + " and the Best-of-N curve. The higher and further left, the better the"
                  + " reward/KL trade-off."));
      figures.add(
          new Figure(
              "quantile.png",
              Charts.quantilePerStep(runs, maxStep),
              "Reward quantile against π_ref per evaluation; dashed: Best-of-N levels N/(N+1)."));
      figures.add(
          new Figure(
              "kl-reference.png",
              Charts.klPerStep(runs, maxStep, false),
              "KL(π ‖ π_ref) per evaluation; dashed: the KL of Best-of-N, log N − (N−1)/N."));
    }
    if (metrics) {
      figures.add(
          new Figure(
              "reward.png",
              Charts.rewardPerStep(runs, maxStep),
              "Moving average of the policy's mean reward per training step."));
    }
    return figures;
  }

  /** The single-run summary: label and value rows. */
  private static List<String[]> summary(ReportedRun run) {
    List<String[]> rows = new ArrayList<>();
    RunSettings s = run.settings();
    rows.add(row("Run", run.label()));
    rows.add(row("Objective", objective(s)));
    long trained = run.metrics().isEmpty() ? 0 : run.metrics().get(run.metrics().size() - 1).step();
    rows.add(
        row(
            "Training steps",
            trained
                + (s.steps().isPresent() ? " of " + s.steps().getAsLong() : "")
                + (run.metrics().isEmpty() ? " (no metrics yet)" : "")));
    if (s.seed().isPresent()) {
      rows.add(row("Seed", Long.toString(s.seed().getAsLong())));
    }
    if (s.staleness().isPresent()) {
      rows.add(row("Staleness", Long.toString(s.staleness().getAsLong())));
    }
    run.finalEval()
        .ifPresent(
            e -> {
              rows.add(row("Final evaluation at step", Long.toString(e.step())));
              rows.add(row("Reward quantile vs π_ref", quantile(e.quantileVsReference())));
              rows.add(row("Best-of-N equivalent", bestOfN(e.bestOfNEquivalent())));
              rows.add(row("KL(π ‖ π_ref), nats", kl(e.klReference())));
              rows.add(row("Best-of-N KL at that quantile, nats", kl(e.frontierKl())));
              rows.add(
                  row(
                      "KL over the Best-of-N frontier, nats",
                      kl(e.klReference() - e.frontierKl())));
              rows.add(row("Policy reward (evaluation)", reward(e.rewardMean())));
              rows.add(row("Reference reward (evaluation)", reward(e.referenceRewardMean())));
              rows.add(
                  row("Evaluation prompts × samples", e.prompts() + " × " + e.samplesPerPrompt()));
            });
    if (!run.metrics().isEmpty()) {
      rows.add(
          row(
              "Final policy reward (training, moving average)",
              reward(finalAverage(run, StepMetrics::rewardMean))));
      meanStepMillis(run.metrics())
          .ifPresent(ms -> rows.add(row("Mean time per step", duration(ms))));
    }
    return rows;
  }

  /** The last moving-average value of a per-step quantity (the window of the reward plot). */
  static double finalAverage(ReportedRun run, ToDoubleFunction<StepMetrics> f) {
    List<StepMetrics> metrics = run.metrics();
    double[] values = new double[metrics.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = f.applyAsDouble(metrics.get(i));
    }
    double[] average = Charts.movingAverage(values, Charts.window(values.length));
    return average.length == 0 ? Double.NaN : average[average.length - 1];
  }

  /**
   * The mean wall-clock time per step: of {@code timings.total} where the steps have it, else of
   * the sum of their phases.
   */
  static OptionalDouble meanStepMillis(List<StepMetrics> metrics) {
    double sum = 0;
    int n = 0;
    for (StepMetrics m : metrics) {
      Double total = m.timings().get(Charts.TOTAL);
      double step;
      if (total != null && Double.isFinite(total)) {
        step = total;
      } else {
        step = 0;
        boolean any = false;
        for (Map.Entry<String, Double> t : m.timings().entrySet()) {
          if (Double.isFinite(t.getValue())) {
            step += t.getValue();
            any = true;
          }
        }
        if (!any) {
          continue;
        }
      }
      sum += step;
      n++;
    }
    return n == 0 ? OptionalDouble.empty() : OptionalDouble.of(sum / n);
  }

  static String objective(RunSettings s) {
    if (s.objective().isEmpty()) {
      return "unknown (no readable config.yaml)";
    }
    List<String> parts = new ArrayList<>();
    String name = s.objective().get();
    if (name.equals("jbond") || name.equals("bond")) {
      s.beta().ifPresent(v -> parts.add("β " + RunSettings.plain(v)));
    }
    if (name.equals("jbond")) {
      s.eta().ifPresent(v -> parts.add("η " + RunSettings.plain(v)));
    }
    if (name.equals("bond") || name.equals("iterative-bond")) {
      s.n().ifPresent(v -> parts.add("N " + v));
    }
    if (name.equals("reinforce")) {
      s.klCoefficient().ifPresent(v -> parts.add("KL coefficient " + RunSettings.plain(v)));
    }
    String display = s.objectiveName().orElse(name);
    return parts.isEmpty() ? display : display + " (" + String.join(", ", parts) + ")";
  }

  private static String[] row(String key, String value) {
    return new String[] {key, value};
  }

  /** Formats a quantile: three decimals. */
  static String quantile(double q) {
    return fixed(q, 3);
  }

  /** Formats a KL in nats: three decimals. */
  static String kl(double kl) {
    return fixed(kl, 3);
  }

  /** Formats a Best-of-N equivalent: two decimals, ∞ when infinite. */
  static String bestOfN(double n) {
    return n == Double.POSITIVE_INFINITY ? "∞" : fixed(n, 2);
  }

  /** Formats a reward: four significant digits. */
  static String reward(double r) {
    return Double.isFinite(r) ? String.format(Locale.ROOT, "%.4g", r) : "—";
  }

  /** Formats milliseconds: ms below ten seconds, else seconds. */
  static String duration(double ms) {
    return ms < 10_000
        ? String.format(Locale.ROOT, "%.1f ms", ms)
        : String.format(Locale.ROOT, "%.2f s", ms / 1000);
  }

  private static String fixed(double value, int decimals) {
    return Double.isFinite(value) ? String.format(Locale.ROOT, "%." + decimals + "f", value) : "—";
  }

  /** The comparison table's finishing numbers of one run. */
  static List<String> comparisonRow(ReportedRun run) {
    List<String> cells = new ArrayList<>();
    long trained = run.metrics().isEmpty() ? 0 : run.metrics().get(run.metrics().size() - 1).step();
    cells.add(
        trained
            + (run.settings().steps().isPresent()
                ? " / " + run.settings().steps().getAsLong()
                : ""));
    EvalResult e = run.finalEval().orElse(null);
    cells.add(e == null ? "—" : Long.toString(e.step()));
    cells.add(e == null ? "—" : quantile(e.quantileVsReference()));
    cells.add(e == null ? "—" : kl(e.klReference()));
    cells.add(e == null ? "—" : kl(e.frontierKl()));
    cells.add(e == null ? "—" : bestOfN(e.bestOfNEquivalent()));
    cells.add(e == null ? "—" : reward(e.rewardMean()));
    cells.add(run.metrics().isEmpty() ? "—" : reward(finalAverage(run, StepMetrics::rewardMean)));
    return cells;
  }
}
