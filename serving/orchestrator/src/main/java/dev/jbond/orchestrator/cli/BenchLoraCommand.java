package dev.jbond.orchestrator.cli;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.onnx.train.PolicyModel;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.run.RunComponents;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.serving.lora.LoraTensors;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench lora}: what training adapters instead of the whole model saves, on the demo
 * policy and on a 25M-parameter decoder (the demo's architecture at width 512, 8 layers, 8 heads):
 *
 * <ul>
 *   <li>bytes published per step and role: the whole model's served files (what a full-weight
 *       publish writes) against the adapter's {@code lora_weights} and {@code lora_config} in FP16
 *       (what a per-request publish sends to each endpoint);
 *   <li>learner step time (median) and peak resident memory, whole model against adapters, each
 *       measured in a JVM of its own (peak memory is per process), alternating round after round in
 *       one benchmark run, on the same synthetic batch of J-BOND's size.
 * </ul>
 *
 * Sampling with adapters per request against merged weights is {@code bond bench step --settings
 * staleness0,lora-adapters,lora-merged}.
 */
@Command(
    name = "lora",
    mixinStandardHelpOptions = true,
    description =
        "LoRA against full fine-tuning: bytes published per step, learner step time and peak"
            + " memory (one JVM per measurement), on the demo and a 25M-parameter decoder.")
public final class BenchLoraCommand implements Callable<Integer> {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--models",
      split = ",",
      description = "Which models: demo, 25m (default: ${DEFAULT-VALUE}).")
  List<String> models = List.of("demo", "25m");

  @Option(names = "--rank", description = "Adapter rank (default: ${DEFAULT-VALUE}).")
  int rank = 8;

  @Option(names = "--steps", description = "Timed learner steps (default: ${DEFAULT-VALUE}).")
  int steps = 6;

  @Option(names = "--warmup", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup = 2;

  @Option(names = "--rounds", description = "Child JVMs per variant (default: ${DEFAULT-VALUE}).")
  int rounds = 2;

  @Option(names = "--out", description = "Where the figures go (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-lora.json");

  @Override
  public Integer call() throws Exception {
    if (rank < 1 || steps < 1 || warmup < 0 || rounds < 1) {
      throw new IllegalArgumentException(
          "Expected --rank >= 1, --steps >= 1, --warmup >= 0 and --rounds >= 1, found "
              + List.of(rank, steps, warmup, rounds));
    }
    PrintWriter console = spec.commandLine().getOut();
    Path scratch = Files.createTempDirectory("jbond-bench-lora-");
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("cores", Runtime.getRuntime().availableProcessors());
    results.put("rank", rank);
    try {
      for (String m : models) {
        Path dir;
        int batch;
        int seq;
        if (m.equals("demo")) {
          dir = Path.of(DemoCommand.config(DemoCommand.assets(), 1, 0).policy().model());
          batch = 64 * 4; // 64 prompts x (2 policy + 2 anchor samples) of J-BOND
          seq = 64;
        } else if (m.equals("25m")) {
          dir = scratch.resolve(m);
          BenchStepCommand.writeLargeDecoder(dir);
          batch = 8 * 4;
          seq = 48;
        } else {
          throw new IllegalArgumentException(
              "Expected --models from [demo, 25m], found '" + m + "'");
        }
        results.put(m, measure(console, m, dir, scratch.resolve(m + "-served"), batch, seq));
      }
    } finally {
      RunDirectory.deleteTree(scratch);
    }
    RunDirectory.writeAtomically(out, Json.write(results) + "\n");
    console.println("Wrote " + out);
    console.flush();
    return 0;
  }

  private Map<String, Object> measure(
      PrintWriter console, String name, Path dir, Path served, int batch, int seq)
      throws Exception {
    ModelDirectory model = ModelDirectory.read(dir);
    PolicyModel base = PolicyModel.load(model.fullGraph());
    LoraPolicy lora = LoraPolicy.create(base, spec(base, rank));
    List<dev.jbond.onnx.lora.LoraAdapter> adapters =
        lora.adapters(lora.model().graph().initializers());
    LoraTensors fp16 = LoraTensors.of(adapters, lora.spec().alpha(), LoraTensors.Dtype.FP16);
    long adapterBytes = fp16.weights().raw().size() + (long) fp16.config().raw().size();
    model.writeServed(served, Map.of());
    long fullBytes = treeSize(served);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("parameters", base.parameterCount());
    r.put("adapterParameters", lora.model().parameterCount());
    r.put("modules", lora.spec().modules().toString());
    r.put("fullBytesPerRole", fullBytes);
    r.put("adapterBytesPerRole", adapterBytes);
    console.printf(
        Locale.ROOT,
        "%s: %,d parameters, adapters of rank %d on %s: %,d parameters (%.2f%%)%n"
            + "  bytes published per step and role: whole model %,d, adapter (FP16 rows) %,d"
            + " (%.0fx less)%n",
        name,
        base.parameterCount(),
        rank,
        lora.spec().modules(),
        lora.model().parameterCount(),
        100.0 * lora.model().parameterCount() / base.parameterCount(),
        fullBytes,
        adapterBytes,
        (double) fullBytes / adapterBytes);
    console.flush();
    Map<String, List<Map<String, Object>>> runs = new LinkedHashMap<>();
    for (int round = 0; round < rounds; round++) {
      for (String variant : List.of("full", "lora")) {
        Map<String, Object> child = child(dir, variant, batch, seq);
        runs.computeIfAbsent(variant, k -> new ArrayList<>()).add(child);
        console.printf(
            Locale.ROOT,
            "  round %d, %s: step %.1f ms (median), peak RSS %.0f MiB%n",
            round + 1,
            variant,
            ((Number) child.get("medianStepMs")).doubleValue(),
            ((Number) child.get("peakRssMib")).doubleValue());
        console.flush();
      }
    }
    r.put("batch", batch);
    r.put("tokensPerSequence", seq);
    r.put("learner", runs);
    double fullStep = median(runs.get("full"), "medianStepMs");
    double loraStep = median(runs.get("lora"), "medianStepMs");
    double fullRss = median(runs.get("full"), "peakRssMib");
    double loraRss = median(runs.get("lora"), "peakRssMib");
    console.printf(
        Locale.ROOT,
        "  learner (%d sequences x %d tokens): step %.1f -> %.1f ms (%.2fx), peak RSS %.0f -> %.0f"
            + " MiB%n%n",
        batch,
        seq,
        fullStep,
        loraStep,
        fullStep / loraStep,
        fullRss,
        loraRss);
    console.flush();
    return r;
  }

  /** The adapters' spec: every module the model has, {@code attn_qkv} where fused, alpha 2r. */
  static LoraSpec spec(PolicyModel base, int rank) {
    return RunComponents.loraSpec(new RunConfig.Lora(rank, 2.0 * rank, List.of()), base, 1);
  }

  private static double median(List<Map<String, Object>> runs, String key) {
    return BenchStepCommand.median(
        runs.stream().mapToDouble(m -> ((Number) m.get(key)).doubleValue()).toArray());
  }

  /** Runs {@link Child} in a new JVM; returns what it printed. */
  private Map<String, Object> child(Path dir, String variant, int batch, int seq)
      throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd =
        List.of(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            Child.class.getName(),
            dir.toString(),
            variant,
            Integer.toString(rank),
            Integer.toString(batch),
            Integer.toString(seq),
            Integer.toString(steps),
            Integer.toString(warmup));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(
          "Expected the " + variant + " learner benchmark to succeed, found: " + stderr.strip());
    }
    String last = stdout.strip().lines().reduce((a, b) -> b).orElse("{}");
    return Json.parseObject(last);
  }

  private static long treeSize(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  /**
   * One learner measurement in a JVM of its own: {@code dir variant rank batch seq steps warmup};
   * prints one JSON line with the median step time and the process's peak resident memory.
   */
  public static final class Child {
    private Child() {}

    /**
     * Runs the measurement.
     *
     * @param args the model directory, {@code full} or {@code lora}, rank, batch, tokens per
     *     sequence, timed steps, untimed steps
     * @throws IOException when the model cannot be read
     */
    public static void main(String[] args) throws IOException {
      Path dir = Path.of(args[0]);
      boolean adapters = args[1].equals("lora");
      int rank = Integer.parseInt(args[2]);
      int batch = Integer.parseInt(args[3]);
      int seq = Integer.parseInt(args[4]);
      int steps = Integer.parseInt(args[5]);
      int warmup = Integer.parseInt(args[6]);
      ModelDirectory model = ModelDirectory.read(dir);
      PolicyModel base = PolicyModel.load(model.fullGraph());
      LearnerConfig config =
          LearnerConfig.builder()
              .optLearningRate(1e-4)
              .optSchedule(LearningRateSchedule.constant(0))
              .optMaxTokensPerRun(4096)
              .optSession(SessionConfig.builder().optIntraOpThreads(1).build())
              .build();
      int vocab = base.vocabularySize();
      List<WeightedSequence> data = BenchTrainCommand.syntheticBatch(batch, seq, vocab, true);
      List<Double> times = new ArrayList<>();
      long trained;
      try (OrtPolicyLearner learner =
          adapters
              ? OrtPolicyLearner.create(LoraPolicy.create(base, spec(base, rank)), config)
              : OrtPolicyLearner.create(base, config)) {
        trained = learner.model().parameterCount();
        List<Generation> generations = data.stream().map(WeightedSequence::generation).toList();
        for (int i = 0; i < warmup + steps; i++) {
          long t0 = System.nanoTime();
          learner.prepareStep(generations);
          learner.step(data);
          learner.updateAnchor(0.02);
          if (i >= warmup) {
            times.add((System.nanoTime() - t0) / 1e6);
          }
        }
        learner.logProbs(PolicyRole.ANCHOR, generations);
      }
      times.sort(Double::compare);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("trainedParameters", trained);
      r.put("stepMs", times);
      r.put("medianStepMs", times.get(times.size() / 2));
      r.put("peakRssMib", BenchTrainCommand.peakRssMib());
      System.out.println(Json.write(r));
    }
  }
}
