package dev.jbond.orchestrator.cli;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.orchestrator.run.RunEngine;
import dev.jbond.orchestrator.run.RunListener;
import dev.jbond.orchestrator.run.StopSignal;
import io.micronaut.context.annotation.Prototype;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench step}: wall time per J-BOND step, split by phase, with staleness 0 and 1 side
 * by side: runs of the demo configuration (or {@code --config}), alternating the two settings round
 * after round in one process, each a full run (embedded server over gRPC, learner, reward,
 * evaluation, checkpoints) in a fresh folder; the first {@code --warmup} steps of each run are left
 * out. Prints the median and mean milliseconds per phase and writes the figures as JSON.
 */
@Command(
    name = "step",
    mixinStandardHelpOptions = true,
    description =
        "Time J-BOND steps by phase (sample, score, logprobs, learn, anchor, publish, checkpoint,"
            + " eval) with staleness 0 and 1, side by side.")
@Prototype
public final class BenchStepCommand implements Callable<Integer> {
  static final List<String> PHASES = phases();

  private final RunEngine engine;
  private final RunConfigLoader loader;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", description = "A run configuration to time (default: the demo's).")
  Path config;

  @Option(names = "--steps", description = "Steps per run (default: ${DEFAULT-VALUE}).")
  int steps = 40;

  @Option(
      names = "--warmup",
      description = "Steps of each run left out (default: ${DEFAULT-VALUE}).")
  int warmup = 5;

  @Option(
      names = "--rounds",
      description = "Runs per setting, alternating (default: ${DEFAULT-VALUE}).")
  int rounds = 2;

  @Option(
      names = "--eval-every",
      description = "Evaluate every so many steps (default: ${DEFAULT-VALUE}).")
  int evalEvery = 10;

  @Option(
      names = "--checkpoint-every",
      description = "Checkpoint every so many steps (default: ${DEFAULT-VALUE}).")
  int checkpointEvery = 10;

  @Option(names = "--out", description = "Where the figures go (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-step.json");

  BenchStepCommand(RunEngine engine, RunConfigLoader loader) {
    this.engine = engine;
    this.loader = loader;
  }

  @Override
  public Integer call() throws Exception {
    if (steps <= warmup || warmup < 0 || rounds < 1 || evalEvery < 0 || checkpointEvery < 1) {
      throw new IllegalArgumentException(
          "Expected --steps > --warmup >= 0, --rounds >= 1, --eval-every >= 0 and"
              + " --checkpoint-every >= 1, found "
              + steps
              + ", "
              + warmup
              + ", "
              + rounds
              + ", "
              + evalEvery
              + ", "
              + checkpointEvery);
    }
    PrintWriter console = spec.commandLine().getOut();
    RunConfig base =
        config == null
            ? DemoCommand.config(DemoCommand.assets(), steps, 0)
            : loader.load(config, Path.of("").toAbsolutePath());
    Path scratch = Files.createTempDirectory("jbond-bench-step-");
    Map<Integer, List<StepMetrics>> measured = new LinkedHashMap<>();
    measured.put(0, new ArrayList<>());
    measured.put(1, new ArrayList<>());
    try {
      for (int round = 0; round < rounds; round++) {
        for (int staleness : List.of(0, 1)) {
          RunConfig c = withRun(base, staleness);
          RunDirectory dir =
              new RunDirectory(scratch.resolve("round" + round + "-staleness" + staleness));
          console.printf(
              Locale.ROOT, "round %d, staleness %d: %d steps...%n", round + 1, staleness, steps);
          console.flush();
          try (StopSignal stop = StopSignal.manual()) {
            engine.run(
                new RunEngine.Request(c, dir, false, "(benchmark)", null),
                stop,
                RunListener.none());
          }
          List<StepMetrics> m = JsonLinesMetricsReader.read(dir.metrics());
          measured.get(staleness).addAll(m.subList(warmup, m.size()));
        }
      }
    } finally {
      RunDirectory.deleteTree(scratch);
    }
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("config", config == null ? "demo" : config.toString());
    results.put("steps", steps);
    results.put("warmup", warmup);
    results.put("rounds", rounds);
    results.put("evalEvery", evalEvery);
    results.put("checkpointEvery", checkpointEvery);
    results.put("cores", Runtime.getRuntime().availableProcessors());
    console.printf(
        Locale.ROOT,
        "%nms per step (median / mean over %d steps per setting; eval and checkpoint only on"
            + " their steps, mean amortised):%n",
        rounds * (steps - warmup));
    console.printf(Locale.ROOT, "%-14s %22s %22s%n", "phase", "staleness 0", "staleness 1");
    for (String phase : PHASES) {
      double[][] stats = new double[2][];
      for (int s = 0; s < 2; s++) {
        stats[s] = stats(measured.get(s), phase);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("median", stats[s][0]);
        row.put("mean", stats[s][1]);
        @SuppressWarnings("unchecked")
        Map<String, Object> setting =
            (Map<String, Object>)
                results.computeIfAbsent("staleness" + s, k -> new LinkedHashMap<String, Object>());
        setting.put(phase, row);
      }
      console.printf(
          Locale.ROOT,
          "%-14s %10.1f / %9.1f %10.1f / %9.1f%n",
          phase,
          stats[0][0],
          stats[0][1],
          stats[1][0],
          stats[1][1]);
    }
    double[] t0 = stats(measured.get(0), "total");
    double[] t1 = stats(measured.get(1), "total");
    double[] sample0 = stats(measured.get(0), "sample");
    console.printf(
        Locale.ROOT,
        "%nsampling share of a staleness-0 step (mean): %.0f%%; staleness 1 / staleness 0 step"
            + " time (mean): %.2f%n",
        100 * sample0[1] / t0[1],
        t1[1] / t0[1]);
    results.put("samplingShareStaleness0", sample0[1] / t0[1]);
    results.put("stepTimeRatio", t1[1] / t0[1]);
    RunDirectory.writeAtomically(out, Json.write(results) + "\n");
    console.println("Wrote " + out);
    console.flush();
    return 0;
  }

  private static List<String> phases() {
    List<String> phases = new ArrayList<>(RunEngine.PHASES);
    phases.add("total");
    return List.copyOf(phases);
  }

  private RunConfig withRun(RunConfig base, int staleness) {
    RunConfig.Run r = base.run();
    RunConfig.Run run =
        new RunConfig.Run(
            steps,
            r.seed(),
            staleness,
            checkpointEvery,
            evalEvery,
            r.keepCheckpoints(),
            r.stepRetries(),
            r.trackReferenceKl(),
            r.maxKl(),
            r.importanceCorrection(),
            r.importanceBound());
    RunConfig c =
        new RunConfig(
            base.policy(),
            base.reference(),
            base.reward(),
            base.prompts(),
            base.sampling(),
            base.objective(),
            base.optimizer(),
            base.serving(),
            base.eval(),
            run);
    return loader.check(c, Path.of(""));
  }

  /** Median and mean of a phase over steps (0 where a step has no such phase). */
  static double[] stats(List<StepMetrics> metrics, String phase) {
    double[] v = new double[metrics.size()];
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = metrics.get(i).timings().getOrDefault(phase, 0.0);
      sum += v[i];
    }
    Arrays.sort(v);
    double median =
        v.length == 0
            ? Double.NaN
            : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    return new double[] {median, v.length == 0 ? Double.NaN : sum / v.length};
  }
}
