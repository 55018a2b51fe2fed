package dev.jbond.orchestrator.cli;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.run.RunComponents;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.orchestrator.run.RunEngine;
import dev.jbond.orchestrator.run.RunListener;
import dev.jbond.orchestrator.run.StopSignal;
import io.micronaut.context.annotation.Prototype;
import java.io.IOException;
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
 * {@code bond bench step}: wall time per J-BOND step, split by phase, in three settings side by
 * side: the paper's naive order (staleness 0, every forward pass on its own, reference
 * log-probabilities every step), staleness 0 and staleness 1 (importance corrected), both with the
 * policy's forward pass reused by the step. Runs of the demo configuration and of a 25M-parameter
 * decoder (the demo's architecture widened, random weights, a smaller batch), alternating the
 * settings round after round in one process, each a full run (embedded server over gRPC, learner,
 * reward, checkpoints) in a fresh folder; the first {@code --warmup} steps of each run are left
 * out. Prints median and mean milliseconds per phase, the share of a step spent sampling, and for
 * staleness 1 each step's time over max(the sample phase that overlapped it, its learner phases);
 * writes the figures as JSON.
 */
@Command(
    name = "step",
    mixinStandardHelpOptions = true,
    description =
        "Time J-BOND steps by phase (sample, score, logprobs, learn, anchor, publish, checkpoint,"
            + " eval): the naive order, staleness 0 and staleness 1, side by side, on the demo and"
            + " on a 25M-parameter decoder.")
@Prototype
public final class BenchStepCommand implements Callable<Integer> {
  static final List<String> PHASES = phases();

  /** The settings timed, in order. */
  enum Setting {
    NAIVE("naive order", 0, false, true, null),
    STALENESS0("staleness 0", 0, true, false, null),
    STALENESS1("staleness 1", 1, true, false, null),
    /** Staleness 0 training LoRA adapters, sent with the requests. */
    LORA_ADAPTERS("LoRA, adapters", 0, true, false, RunConfig.LoraPublish.ADAPTERS),
    /** Staleness 0 training LoRA adapters, published merged into full weights. */
    LORA_MERGED("LoRA, merged", 0, true, false, RunConfig.LoraPublish.MERGED);

    final String label;
    final int staleness;
    final boolean reuseForward;
    final boolean trackReferenceKl;

    /** How adapters are published; null: the whole model is trained. */
    final RunConfig.LoraPublish lora;

    Setting(
        String label,
        int staleness,
        boolean reuseForward,
        boolean trackReferenceKl,
        RunConfig.LoraPublish lora) {
      this.label = label;
      this.staleness = staleness;
      this.reuseForward = reuseForward;
      this.trackReferenceKl = trackReferenceKl;
      this.lora = lora;
    }

    /** The option value: the name in kebab case. */
    String option() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  private final RunEngine engine;
  private final RunConfigLoader loader;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--config",
      description = "A run configuration to time instead of the demo's (and no 25M decoder).")
  Path config;

  @Option(
      names = "--models",
      split = ",",
      description = "Which models: demo, 25m (default: ${DEFAULT-VALUE}).")
  List<String> models = List.of("demo", "25m");

  @Option(names = "--steps", description = "Steps per demo run (default: ${DEFAULT-VALUE}).")
  int steps = 40;

  @Option(
      names = "--warmup",
      description = "Steps of each demo run left out (default: ${DEFAULT-VALUE}).")
  int warmup = 5;

  @Option(
      names = "--large-steps",
      description = "Steps per 25M-decoder run (default: ${DEFAULT-VALUE}).")
  int largeSteps = 10;

  @Option(
      names = "--large-warmup",
      description = "Steps of each 25M-decoder run left out (default: ${DEFAULT-VALUE}).")
  int largeWarmup = 2;

  @Option(
      names = "--large-prompts",
      description = "Prompts per step of the 25M decoder (default: ${DEFAULT-VALUE}).")
  int largePrompts = 8;

  @Option(
      names = "--large-new-tokens",
      description = "Most new tokens per sample of the 25M decoder (default: ${DEFAULT-VALUE}).")
  int largeNewTokens = 48;

  @Option(
      names = "--rounds",
      description = "Runs per setting, alternating (default: ${DEFAULT-VALUE}).")
  int rounds = 2;

  @Option(
      names = "--eval-every",
      description =
          "Evaluate every so many steps of the demo runs; the 25M runs never evaluate (default:"
              + " ${DEFAULT-VALUE}).")
  int evalEvery = 10;

  @Option(
      names = "--checkpoint-every",
      description = "Checkpoint every so many steps (default: ${DEFAULT-VALUE}).")
  int checkpointEvery = 10;

  @Option(names = "--out", description = "Where the figures go (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-step.json");

  @Option(
      names = "--settings",
      split = ",",
      description =
          "Settings to time side by side: naive, staleness0, staleness1, lora-adapters,"
              + " lora-merged (default: ${DEFAULT-VALUE}).")
  List<String> settingNames = List.of("naive", "staleness0", "staleness1");

  @Option(
      names = "--lora-rank",
      description = "Rank of the LoRA settings' adapters (default: ${DEFAULT-VALUE}).")
  int loraRank = 8;

  private List<Setting> settings = List.of();

  BenchStepCommand(RunEngine engine, RunConfigLoader loader) {
    this.engine = engine;
    this.loader = loader;
  }

  @Override
  public Integer call() throws Exception {
    if (steps <= warmup
        || warmup < 0
        || largeSteps <= largeWarmup
        || largeWarmup < 0
        || rounds < 1
        || evalEvery < 0
        || checkpointEvery < 1
        || largePrompts < 1
        || largeNewTokens < 1) {
      throw new IllegalArgumentException(
          "Expected --steps > --warmup >= 0, --large-steps > --large-warmup >= 0, --rounds >= 1,"
              + " --eval-every >= 0, --checkpoint-every >= 1, --large-prompts >= 1 and"
              + " --large-new-tokens >= 1, found "
              + List.of(
                  steps,
                  warmup,
                  largeSteps,
                  largeWarmup,
                  rounds,
                  evalEvery,
                  checkpointEvery,
                  largePrompts,
                  largeNewTokens));
    }
    for (String m : models) {
      if (!m.equals("demo") && !m.equals("25m")) {
        throw new IllegalArgumentException("Expected --models from [demo, 25m], found '" + m + "'");
      }
    }
    List<Setting> chosen = new ArrayList<>();
    for (String name : settingNames) {
      Setting found = null;
      for (Setting s : Setting.values()) {
        if (s.option().equals(name)) {
          found = s;
        }
      }
      if (found == null) {
        throw new IllegalArgumentException(
            "Expected --settings from "
                + Arrays.stream(Setting.values()).map(Setting::option).toList()
                + ", found '"
                + name
                + "'");
      }
      chosen.add(found);
    }
    if (loraRank < 1) {
      throw new IllegalArgumentException("Expected --lora-rank >= 1, found " + loraRank);
    }
    this.settings = List.copyOf(chosen);
    PrintWriter console = spec.commandLine().getOut();
    Path scratch = Files.createTempDirectory("jbond-bench-step-");
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("cores", Runtime.getRuntime().availableProcessors());
    results.put("rounds", rounds);
    results.put("checkpointEvery", checkpointEvery);
    try {
      if (config != null) {
        RunConfig base = loader.load(config, Path.of("").toAbsolutePath());
        results.put(
            config.toString(),
            time(console, config.toString(), base, steps, warmup, evalEvery, scratch));
      } else {
        for (String m : models) {
          boolean large = m.equals("25m");
          RunConfig base =
              large
                  ? largeConfig(scratch.resolve("decoder-25m"))
                  : DemoCommand.config(DemoCommand.assets(), steps, 0);
          results.put(
              m,
              time(
                  console,
                  large ? "25M-parameter decoder" : "demo",
                  base,
                  large ? largeSteps : steps,
                  large ? largeWarmup : warmup,
                  large ? 0 : evalEvery,
                  scratch));
        }
      }
    } finally {
      RunDirectory.deleteTree(scratch);
    }
    RunDirectory.writeAtomically(out, Json.write(results) + "\n");
    console.println("Wrote " + out);
    console.flush();
    return 0;
  }

  /** Times the three settings on one configuration; returns its figures. */
  private Map<String, Object> time(
      PrintWriter console,
      String name,
      RunConfig base,
      int runSteps,
      int runWarmup,
      int runEvalEvery,
      Path scratch)
      throws IOException {
    Map<Setting, List<StepMetrics>> measured = new LinkedHashMap<>();
    List<Double> overlap = new ArrayList<>();
    for (Setting s : settings) {
      measured.put(s, new ArrayList<>());
    }
    for (int round = 0; round < rounds; round++) {
      for (Setting s : settings) {
        RunConfig c = withRun(base, s, runSteps, runEvalEvery);
        RunDirectory dir =
            new RunDirectory(scratch.resolve(name.replace(' ', '-') + "-" + round + "-" + s));
        console.printf(
            Locale.ROOT, "%s, round %d, %s: %d steps...%n", name, round + 1, s.label, runSteps);
        console.flush();
        try (StopSignal stop = StopSignal.manual()) {
          engine.run(
              new RunEngine.Request(c, dir, false, "(benchmark)", null), stop, RunListener.none());
        }
        List<StepMetrics> m = JsonLinesMetricsReader.read(dir.metrics());
        measured.get(s).addAll(m.subList(runWarmup, m.size()));
        if (s.staleness == 1) {
          overlap.addAll(overlapRatios(m.subList(runWarmup, m.size())));
        }
        RunDirectory.deleteTree(dir.root());
      }
    }
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("steps", runSteps);
    results.put("warmup", runWarmup);
    results.put("evalEvery", runEvalEvery);
    results.put("promptsPerStep", base.prompts().batchSize());
    results.put("maxNewTokens", base.sampling().maxNewTokens());
    console.printf(
        Locale.ROOT,
        "%n%s: ms per step (median / mean over %d steps per setting; eval and checkpoint only on"
            + " their steps, mean amortised):%n",
        name,
        rounds * (runSteps - runWarmup));
    StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-14s", "phase"));
    for (Setting s : settings) {
      header.append(String.format(Locale.ROOT, " %22s", s.label));
    }
    console.println(header);
    for (String phase : PHASES) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-14s", phase));
      for (Setting s : settings) {
        double[] st = stats(measured.get(s), phase);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("median", st[0]);
        row.put("mean", st[1]);
        @SuppressWarnings("unchecked")
        Map<String, Object> setting =
            (Map<String, Object>)
                results.computeIfAbsent(s.name(), k -> new LinkedHashMap<String, Object>());
        setting.put(phase, row);
        line.append(String.format(Locale.ROOT, " %10.1f / %9.1f", st[0], st[1]));
      }
      console.println(line);
    }
    Map<String, Object> derived = new LinkedHashMap<>();
    double naive =
        measured.containsKey(Setting.NAIVE)
            ? mean(measured.get(Setting.NAIVE), BenchStepCommand::stepWithoutEval)
            : Double.NaN;
    for (Setting s : settings) {
      List<StepMetrics> m = measured.get(s);
      double step = mean(m, BenchStepCommand::stepWithoutEval);
      double share = mean(m, BenchStepCommand::samplePhase) / step;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("stepWithoutEvalMean", step);
      row.put("samplingShare", share);
      row.put("speedupOverNaive", naive / step);
      row.put(
          "samplesPerSecond",
          samplesPerStep(base) / (mean(m, BenchStepCommand::samplePhase) / 1000));
      if (s.staleness == 1) {
        double[] ratio = summary(overlap);
        row.put("overMaxPhaseMedian", ratio[0]);
        row.put("overMaxPhaseMean", ratio[1]);
        row.put("overMaxPhaseP90", ratio[2]);
      }
      derived.put(s.name(), row);
      console.printf(
          Locale.ROOT,
          "%-12s step without eval and checkpoint %.1f ms (mean), sampling %.0f%% of it (%.1f"
              + " samples/s)%s%n",
          s.label,
          step,
          100 * share,
          row.get("samplesPerSecond"),
          Double.isNaN(naive)
              ? ""
              : String.format(Locale.ROOT, ", %.2fx faster than the naive order", naive / step));
    }
    double[] ratio = summary(overlap);
    if (!overlap.isEmpty()) {
      console.printf(
          Locale.ROOT,
          "staleness 1: step / max(sample + score of the samples drawn during it, logprobs + learn +"
              + " anchor + publish) = %.2f median, %.2f mean, %.2f 90th percentile over steps%n%n",
          ratio[0],
          ratio[1],
          ratio[2]);
    }
    results.put("derived", derived);
    return results;
  }

  private static List<String> phases() {
    List<String> phases = new ArrayList<>(RunEngine.PHASES);
    phases.add("total");
    return List.copyOf(phases);
  }

  /** A step's wall time without its evaluation and checkpoint (which only some steps have). */
  static double stepWithoutEval(StepMetrics m) {
    Map<String, Double> t = m.timings();
    return t.getOrDefault("total", 0.0)
        - t.getOrDefault("eval", 0.0)
        - t.getOrDefault("checkpoint", 0.0);
  }

  /** The sample phase: drawing and scoring the step's samples. */
  static double samplePhase(StepMetrics m) {
    return m.timings().getOrDefault("sample", 0.0) + m.timings().getOrDefault("score", 0.0);
  }

  /** The learner's phases: log-probabilities, the step, the anchor update and publishing. */
  static double learnerPhases(StepMetrics m) {
    Map<String, Double> t = m.timings();
    return t.getOrDefault("logprobs", 0.0)
        + t.getOrDefault("learn", 0.0)
        + t.getOrDefault("anchor", 0.0)
        + t.getOrDefault("publish", 0.0);
  }

  /**
   * Per step of one staleness-1 run (consecutive steps), the step's time without eval and
   * checkpoint over the larger of the sample phase that ran during it (the samples of the next
   * step, which record their own sample and score times) and its learner phases; the last step has
   * no successor and is left out.
   */
  static List<Double> overlapRatios(List<StepMetrics> run) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i + 1 < run.size(); i++) {
      StepMetrics m = run.get(i);
      out.add(stepWithoutEval(m) / Math.max(samplePhase(run.get(i + 1)), learnerPhases(m)));
    }
    return out;
  }

  /** Median, mean and 90th percentile (nearest rank). */
  static double[] summary(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (v.length == 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    int p90 = Math.max(0, (int) Math.ceil(0.9 * v.length) - 1);
    return new double[] {median(v), Arrays.stream(v).average().orElse(Double.NaN), v[p90]};
  }

  private static double mean(
      List<StepMetrics> metrics, java.util.function.ToDoubleFunction<StepMetrics> f) {
    return metrics.stream().mapToDouble(f).average().orElse(Double.NaN);
  }

  /** The demo's architecture at 25M parameters (width 512, 8 layers, 8 heads), random weights. */
  private RunConfig largeConfig(Path dir) throws IOException {
    RunConfig demo = DemoCommand.config(DemoCommand.assets(), largeSteps, 0);
    writeLargeDecoder(dir);
    RunConfig.Prompts p = demo.prompts();
    RunConfig.Sampling s = demo.sampling();
    return new RunConfig(
        new RunConfig.Policy(dir.toString()),
        demo.reference(),
        demo.reward(),
        new RunConfig.Prompts(p.file(), largePrompts, p.heldOut()),
        new RunConfig.Sampling(largeNewTokens, s.temperature(), s.topK(), s.topP()),
        demo.objective(),
        demo.optimizer(),
        demo.serving(),
        demo.eval(),
        demo.run());
  }

  /** Samples drawn per step: per prompt the objective's policy and comparison samples. */
  private static double samplesPerStep(RunConfig base) {
    var plan = RunComponents.objective(base.objective(), base.run().importanceBound()).plan();
    return (double) base.prompts().batchSize() * (plan.policySamples() + plan.comparisonSamples());
  }

  /**
   * Writes the demo policy's architecture at 25M parameters (width 512, 8 layers, 8 heads, random
   * weights of seed 7) with the demo's special tokens.
   *
   * @param dir the model directory to write
   * @throws IOException when the demo or the directory cannot be read or written
   */
  static void writeLargeDecoder(Path dir) throws IOException {
    RunConfig demo = DemoCommand.config(DemoCommand.assets(), 1, 0);
    ModelDirectory small = ModelDirectory.read(Path.of(demo.policy().model()));
    DecoderConfig config =
        small.config().toBuilder().setWidth(512).setLayers(8).setHeads(8).setSeed(7).build();
    ModelDirectory.write(
        dir, DecoderWeights.initialize(config), small.eosTokenId(), small.padTokenId());
  }

  private RunConfig withRun(RunConfig base, Setting setting, int runSteps, int runEvalEvery) {
    RunConfig.Run r = base.run();
    RunConfig.Run run =
        new RunConfig.Run(
            runSteps,
            r.seed(),
            setting.staleness,
            checkpointEvery,
            runEvalEvery,
            r.keepCheckpoints(),
            r.stepRetries(),
            setting.trackReferenceKl,
            r.maxKl(),
            true,
            r.importanceBound(),
            setting.reuseForward,
            r.samplerLogProbTolerance());
    RunConfig.Policy policy = base.policy();
    RunConfig.Serving serving = base.serving();
    RunConfig.Optimizer optimizer = base.optimizer();
    if (setting.lora != null) {
      policy = new RunConfig.Policy(policy.model(), new RunConfig.Lora(loraRank, 16.0, List.of()));
      RunConfig.Serving v = serving;
      serving =
          new RunConfig.Serving(
              v.mode(),
              v.transport(),
              v.endpoints(),
              v.deadline(),
              v.loadDeadline(),
              v.retry(),
              v.health(),
              v.models(),
              v.threads(),
              v.maxBatchRows(),
              new RunConfig.LoraServing(setting.lora, v.lora().dtype(), v.lora().cacheBytes()));
      RunConfig.Optimizer o = optimizer;
      // adapters learn at ten times the whole model's rate, as usual for LoRA
      optimizer =
          new RunConfig.Optimizer(
              o.learningRate() * 10,
              o.warmupSteps(),
              o.schedule(),
              o.minLearningRate(),
              o.weightDecay(),
              o.beta1(),
              o.beta2(),
              o.epsilon(),
              o.maxGradientNorm(),
              o.maxTokensPerRun(),
              o.threads());
    }
    RunConfig c =
        new RunConfig(
            policy,
            base.reference(),
            base.reward(),
            base.prompts(),
            base.sampling(),
            base.objective(),
            optimizer,
            serving,
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
    return new double[] {median(v), v.length == 0 ? Double.NaN : sum / v.length};
  }

  /** The median (the mean of the middle two for an even count), NaN for none. */
  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length == 0
        ? Double.NaN
        : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
