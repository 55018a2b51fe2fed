package dev.jbond.orchestrator.cli;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench train}: tokens/s of one training step (forward, weighted sequence
 * log-likelihood, backward, clipping, AdamW) of a GPT-2-style decoder on jbond's ONNX Runtime
 * engine against PyTorch eager on the same model, batch and thread count, measured in the same run.
 *
 * <p>PyTorch's side is {@code bench/torch_train_bench.py} (Debian's python3-torch, run with {@code
 * /usr/bin/python3}); it also exports the model, so both engines train the same weights. With
 * {@code --no-torch} jbond's own decoder of the same shape is benchmarked alone.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Training-step throughput: jbond (ONNX Runtime) vs PyTorch eager, same model.")
public final class BenchTrainCommand implements Callable<Integer> {
  @Option(names = "--batch", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
  int batch = 8;

  @Option(names = "--seq", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
  int seq = 128;

  @Option(names = "--threads", description = "Threads of both engines (default: ${DEFAULT-VALUE}).")
  int threads = 2;

  @Option(names = "--steps", description = "Timed steps (default: ${DEFAULT-VALUE}).")
  int steps = 10;

  @Option(names = "--warmup", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup = 3;

  @Option(names = "--vocab", description = "Vocabulary (default: ${DEFAULT-VALUE}).")
  int vocab = 512;

  @Option(names = "--width", description = "Model width (default: ${DEFAULT-VALUE}).")
  int width = 256;

  @Option(names = "--heads", description = "Attention heads (default: ${DEFAULT-VALUE}).")
  int heads = 8;

  @Option(names = "--layers", description = "Layers (default: ${DEFAULT-VALUE}).")
  int layers = 4;

  @Option(names = "--python", description = "Python with torch (default: ${DEFAULT-VALUE}).")
  String python = "/usr/bin/python3";

  @Option(names = "--script", description = "PyTorch benchmark script (default: ${DEFAULT-VALUE}).")
  Path script = Path.of("bench", "torch_train_bench.py");

  @Option(names = "--no-torch", description = "Benchmark jbond alone on its own decoder.")
  boolean noTorch;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-train.json");

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("jbond-bench-train");
    Path model;
    Map<String, Object> torch = null;
    if (noTorch) {
      DecoderConfig config =
          DecoderConfig.builder()
              .setVocabSize(vocab)
              .setContextLength(Math.max(seq + 1, 16))
              .setLayers(layers)
              .setWidth(width)
              .setHeads(heads)
              .setSeed(1)
              .build();
      ModelDirectory.write(
          work, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
      model = work.resolve(ModelDirectory.FULL_GRAPH_FILE);
    } else {
      model = work.resolve("bench.onnx");
      torch = runTorch(model);
    }
    Map<String, Object> jbond = runJbond(model);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("machine", machine());
    result.put("jbond", jbond);
    if (torch != null) {
      result.put("pytorch", torch);
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, Json.write(result) + "\n", StandardCharsets.UTF_8);
    System.out.printf(
        Locale.ROOT,
        "%n%-14s %12s %14s %12s %14s%n",
        "engine",
        "parameters",
        "step (median)",
        "tokens/s",
        "peak RSS MiB");
    print("jbond-ort", jbond);
    if (torch != null) {
      print("pytorch-eager", torch);
      double ratio =
          ((Number) jbond.get("tokens_per_second")).doubleValue()
              / ((Number) torch.get("tokens_per_second")).doubleValue();
      System.out.printf(Locale.ROOT, "%njbond / pytorch throughput: %.2fx%n", ratio);
    }
    System.out.printf("results: %s%n", out);
    return 0;
  }

  private static void print(String engine, Map<String, Object> r) {
    System.out.printf(
        Locale.ROOT,
        "%-14s %12d %12.1f ms %12.0f %14.0f%n",
        engine,
        ((Number) r.get("parameters")).longValue(),
        ((Number) r.get("median_step_seconds")).doubleValue() * 1000,
        ((Number) r.get("tokens_per_second")).doubleValue(),
        ((Number) r.get("peak_rss_mib")).doubleValue());
  }

  private Map<String, Object> runTorch(Path onnx) throws IOException, InterruptedException {
    if (!Files.isRegularFile(script)) {
      throw new IllegalArgumentException(
          "Expected the PyTorch benchmark script at "
              + script.toAbsolutePath()
              + ", found no file (run from the repository root, or pass --script, or --no-torch)");
    }
    List<String> cmd =
        List.of(
            python,
            script.toString(),
            "--onnx",
            onnx.toString(),
            "--batch",
            Integer.toString(batch),
            "--seq",
            Integer.toString(seq),
            "--threads",
            Integer.toString(threads),
            "--steps",
            Integer.toString(steps),
            "--warmup",
            Integer.toString(warmup),
            "--vocab",
            Integer.toString(vocab),
            "--width",
            Integer.toString(width),
            "--heads",
            Integer.toString(heads),
            "--layers",
            Integer.toString(layers));
    return PythonBenchmark.run(cmd, "the PyTorch training benchmark");
  }

  private Map<String, Object> runJbond(Path model) throws IOException {
    LearnerConfig config =
        LearnerConfig.builder()
            .optLearningRate(1e-4)
            .optWeightDecay(0.01)
            .optMaxGradientNorm(1.0)
            .optSchedule(LearningRateSchedule.constant(0))
            .optContextLength(Math.max(seq + 1, 16))
            .optMaxTokensPerRun(batch * seq)
            .optSession(SessionConfig.builder().optIntraOpThreads(threads).build())
            .build();
    List<WeightedSequence> data = syntheticBatch(batch, seq, vocab, false);
    List<Double> times = new ArrayList<>();
    long parameters;
    try (OrtPolicyLearner learner = OrtPolicyLearner.open(model, config)) {
      parameters = learner.model().parameterCount();
      for (int i = 0; i < warmup + steps; i++) {
        long t0 = System.nanoTime();
        learner.step(data);
        if (i >= warmup) {
          times.add((System.nanoTime() - t0) / 1e9);
        }
      }
    }
    List<Double> sorted = new ArrayList<>(times);
    sorted.sort(Double::compare);
    double median = sorted.get(sorted.size() / 2);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("engine", "jbond-onnxruntime");
    r.put("threads", threads);
    r.put("parameters", parameters);
    r.put("batch", batch);
    r.put("seq", seq);
    r.put("step_seconds", times);
    r.put("median_step_seconds", median);
    r.put("tokens_per_second", batch * seq / median);
    r.put("peak_rss_mib", peakRssMib());
    return r;
  }

  /**
   * A batch of random token sequences (seed 1): each a one-token prompt and {@code seq - 1}
   * completion tokens, weighted {@code -1 / batch} (supervised fine-tuning's mean) or, with {@code
   * signed}, a random weight in {@code (-1, 1) / batch} (as J-BOND's signed terms).
   */
  static List<WeightedSequence> syntheticBatch(int batch, int seq, int vocab, boolean signed) {
    SplittableRandom rng = new SplittableRandom(1);
    List<WeightedSequence> data = new ArrayList<>();
    ModelVersion source = new ModelVersion("bench", 0);
    for (int s = 0; s < batch; s++) {
      int[] tokens = new int[seq];
      for (int t = 0; t < seq; t++) {
        tokens[t] = rng.nextInt(vocab);
      }
      data.add(
          new WeightedSequence(
              Generation.of(
                  new Prompt("b" + s, TokenSequence.of(tokens[0])),
                  TokenSequence.of(java.util.Arrays.copyOfRange(tokens, 1, seq)),
                  source),
              signed ? rng.nextDouble(-1, 1) / batch : -1.0 / batch));
    }
    return data;
  }

  /** The process's peak resident memory in MiB ({@code VmHWM}), NaN where unknown. */
  static double peakRssMib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    return m;
  }
}
