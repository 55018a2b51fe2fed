package dev.jbond.orchestrator.report;

import dev.jbond.metrics.JsonLinesMetricsWriter;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test fixture: writes fake run directories ({@code config.yaml}, {@code metrics.jsonl}, {@code
 * eval.jsonl}) with seeded, plausible curves: the KL to the reference grows linearly with the steps
 * and the reward quantile follows a Best-of-N-like frontier, {@code efficiency} times the KL that
 * Best-of-N needs for it.
 */
public final class FakeRun {
  private FakeRun() {}

  /**
   * Writes a whole run.
   *
   * @param dir the run directory, created when missing
   * @param objectiveYaml the {@code objective:} section's body, for example {@code "name: jbond\n
   *     eta: 0.02"} (lines without indentation)
   * @param steps training steps
   * @param evalEvery evaluate every this many steps (and at step 0)
   * @param finalKl KL(pi || pi_ref) at the last step
   * @param efficiency the run's KL over Best-of-N's KL at the same quantile (below 1 beats it)
   * @param seed the noise's seed
   * @return {@code dir}
   */
  public static Path write(
      Path dir,
      String objectiveYaml,
      int steps,
      int evalEvery,
      double finalKl,
      double efficiency,
      long seed) {
    try {
      Files.createDirectories(dir);
      writeConfig(dir, objectiveYaml, steps, seed);
      writeMetrics(dir, steps, finalKl, efficiency, seed);
      writeEvals(dir, evals(steps, evalEvery, finalKl, efficiency, seed));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code config.yaml} with the given objective section.
   *
   * @param dir the run directory
   * @param objectiveYaml the {@code objective:} section's body, lines without indentation
   * @param steps {@code run.steps}
   * @param seed {@code run.seed}
   * @throws IOException when writing fails
   */
  public static void writeConfig(Path dir, String objectiveYaml, int steps, long seed)
      throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("policy:\n  model: models/demo/policy\n");
    yaml.append("objective:\n");
    for (String line : objectiveYaml.split("\n")) {
      yaml.append("  ").append(line.strip()).append('\n');
    }
    yaml.append("run:\n  steps: ")
        .append(steps)
        .append("\n  seed: ")
        .append(seed)
        .append("\n  staleness: 1\n");
    Files.writeString(dir.resolve("config.yaml"), yaml.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Writes {@code metrics.jsonl}: one line per step.
   *
   * @param dir the run directory
   * @param steps training steps
   * @param finalKl KL to the reference at the last step
   * @param efficiency see {@link #write}
   * @param seed the noise's seed
   * @throws IOException when writing fails
   */
  public static void writeMetrics(Path dir, int steps, double finalKl, double efficiency, long seed)
      throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    try (JsonLinesMetricsWriter out = JsonLinesMetricsWriter.open(dir.resolve("metrics.jsonl"))) {
      for (int step = 1; step <= steps; step++) {
        double kl = finalKl * step / steps;
        double q = quantileAt(kl, efficiency);
        Map<String, Double> timings = new LinkedHashMap<>();
        timings.put("sample", 800 + 150 * random.nextDouble());
        timings.put("score", 40 + 10 * random.nextDouble());
        timings.put("logprobs", 120 + 30 * random.nextDouble());
        timings.put("learn", 300 + 60 * random.nextDouble());
        timings.put("anchor", 25 + 5 * random.nextDouble());
        timings.put("publish", 30 + 10 * random.nextDouble());
        timings.put("checkpoint", step % 50 == 0 ? 900.0 : 0.0);
        double total = 0;
        for (double v : timings.values()) {
          total += v;
        }
        timings.put("total", total + 15);
        out.write(
            new StepMetrics(
                step,
                8,
                step - 1,
                step - 1,
                1,
                reward(q) + 0.25 * random.nextGaussian(),
                reward(quantileAt(Math.max(0, kl - 0.05), efficiency))
                    + 0.25 * random.nextGaussian(),
                0.5 + 0.1 * random.nextGaussian(),
                0.03 + 0.01 * random.nextGaussian(),
                kl + 0.05 * random.nextGaussian(),
                1.2,
                -0.1,
                0.0,
                0.55,
                18.0,
                12.0,
                0.8,
                1e-5,
                timings,
                Map.of()));
      }
    }
  }

  /**
   * Returns evaluations at step 0 and every {@code evalEvery} steps up to {@code steps}.
   *
   * @param steps training steps
   * @param evalEvery the evaluation period
   * @param finalKl KL to the reference at the last step
   * @param efficiency see {@link #write}
   * @param seed the noise's seed
   * @return the evaluations
   */
  public static List<EvalResult> evals(
      int steps, int evalEvery, double finalKl, double efficiency, long seed) {
    SplittableRandom random = new SplittableRandom(seed + 1);
    List<EvalResult> out = new ArrayList<>();
    for (int step = 0; step <= steps; step += evalEvery) {
      double kl = Math.max(0, finalKl * step / steps + 0.01 * random.nextGaussian());
      double q = Math.min(0.99, quantileAt(kl, efficiency) + 0.006 * random.nextGaussian());
      double n = EvalResult.bestOfN(q);
      out.add(
          new EvalResult(step, reward(q), reward(0.5), q, kl, n, EvalResult.frontierKl(n), 64, 4));
    }
    return out;
  }

  /**
   * Writes evaluations as {@code eval.jsonl}.
   *
   * @param dir the run directory
   * @param evals the evaluations
   * @throws IOException when writing fails
   */
  public static void writeEvals(Path dir, List<EvalResult> evals) throws IOException {
    StringBuilder text = new StringBuilder();
    for (EvalResult e : evals) {
      text.append(e.toJson()).append('\n');
    }
    Files.writeString(dir.resolve("eval.jsonl"), text.toString(), StandardCharsets.UTF_8);
  }

  /** The quantile that Best-of-N reaches at KL {@code kl / efficiency}. */
  private static double quantileAt(double kl, double efficiency) {
    double target = kl / efficiency;
    double lo = 1;
    double hi = 1e6;
    for (int i = 0; i < 100; i++) {
      double mid = Math.sqrt(lo * hi);
      if (EvalResult.frontierKl(mid) < target) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo / (lo + 1);
  }

  private static double reward(double quantile) {
    return 4 * (quantile - 0.5);
  }
}
