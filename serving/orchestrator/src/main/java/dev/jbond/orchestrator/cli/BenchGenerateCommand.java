package dev.jbond.orchestrator.cli;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.FullSequenceSampler;
import dev.jbond.models.generate.KvCacheSampler;
import dev.jbond.models.generate.SampledSequence;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.generate.SequenceSampler;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
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
 * {@code bond bench generate}: generated tokens/s of jbond's KV-cache sampler against recomputing
 * the full sequence for every token, and against PyTorch eager generating with the same
 * torch-exported model, for batch 1 and 32 at 64 new tokens, measured in the same run.
 *
 * <p>jbond's own decoder (seeded init) is sampled by {@link KvCacheSampler} as configured (with
 * {@code --threads > 1} and {@code --small-batch-rows N > 0}, batches of at most {@code N} rows run
 * on a second session with one intra-op thread, as {@link DirectSampler} does), by the cached
 * sampler on the {@code --threads} session only and on the one-thread session only (the two columns
 * that locate the crossover), and by {@link FullSequenceSampler}. Then {@code
 * bench/torch_generate_bench.py} builds a torch GPT of the same sizes, exports it with past
 * key/values ({@code --export}) and times PyTorch generating with that module, and {@link
 * KvCacheSampler#forDecodeGraph} times the exported file at the same settings (same small-batch
 * rule), after checking that ONNX Runtime's first-token log-probability on it equals torch's.
 * PyTorch runs first, in its own process, so the two never compete for the cores; the script limits
 * OpenBLAS to {@code --threads} threads and makes idle OpenMP threads wait passively (see its
 * docstring).
 *
 * <p>The KV-cache cases of one batch size are timed round by round ({@code --kv-runs}, each round
 * in a rotated order), the recompute sampler separately ({@code --runs}); every figure is a median.
 * The second session's memory is the process's RSS growth over opening it and running it once.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description =
        "Generation throughput: KV cache vs recompute, and jbond vs PyTorch eager on the same"
            + " torch-exported model.")
public final class BenchGenerateCommand implements Callable<Integer> {
  @Option(names = "--batches", split = ",", description = "Batch sizes (default: 1,32).")
  int[] batches = {1, 32};

  @Option(names = "--prompt", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int prompt = 8;

  @Option(names = "--new", description = "New tokens (default: ${DEFAULT-VALUE}).")
  int newTokens = 64;

  @Option(names = "--threads", description = "Threads of all engines (default: ${DEFAULT-VALUE}).")
  int threads = 2;

  @Option(
      names = "--small-batch-rows",
      description =
          "Batches of at most this many rows run on a one-thread session when --threads > 1,"
              + " 0 = off (default: ${DEFAULT-VALUE}, DirectSampler's default).")
  int smallBatchRows = DirectSampler.DEFAULT_SMALL_BATCH_ROWS;

  @Option(
      names = "--no-spin",
      description =
          "Stop ONNX Runtime's intra-op threads from spin-waiting"
              + " (session.intra_op.allow_spinning=0).")
  boolean noSpin;

  @Option(
      names = "--runs",
      description = "Timed runs of the recompute sampler (default: ${DEFAULT-VALUE}).")
  int runs = 3;

  @Option(
      names = "--kv-runs",
      description =
          "Timed runs of every KV-cache case, jbond's interleaved round by round, and PyTorch's"
              + " (default: ${DEFAULT-VALUE}).")
  int kvRuns = 15;

  @Option(names = "--python", description = "Python with torch (default: ${DEFAULT-VALUE}).")
  String python = "/usr/bin/python3";

  @Option(names = "--script", description = "PyTorch script (default: ${DEFAULT-VALUE}).")
  Path script = Path.of("bench", "torch_generate_bench.py");

  @Option(
      names = "--export",
      description = "Where PyTorch writes its exported decode graph (default: ${DEFAULT-VALUE}).")
  Path export = Path.of("runs", "bench-generate-torch-decode.onnx");

  @Option(names = "--no-torch", description = "Skip PyTorch and its exported model.")
  boolean noTorch;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-generate.json");

  private static final int VOCAB = 259;
  private static final int WIDTH = 256;
  private static final int HEADS = 4;
  private static final int LAYERS = 4;
  private static final int CONTEXT = 128;

  /** Largest |log p(jbond) - log p(torch)| accepted in the exported model's check. */
  private static final double CHECK_TOLERANCE = 1e-3;

  @Override
  public Integer call() throws Exception {
    Checks.checkArgument(threads >= 1, "Expected --threads >= 1, found %d", threads);
    Checks.checkArgument(
        smallBatchRows >= 0, "Expected --small-batch-rows >= 0, found %d", smallBatchRows);
    Checks.checkArgument(runs >= 1, "Expected --runs >= 1, found %d", runs);
    Checks.checkArgument(kvRuns >= 1, "Expected --kv-runs >= 1, found %d", kvRuns);
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(VOCAB)
            .setContextLength(CONTEXT)
            .setLayers(LAYERS)
            .setWidth(WIDTH)
            .setHeads(HEADS)
            .setSeed(1)
            .build();
    Path dir = Files.createTempDirectory("jbond-bench-generate");
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
    SamplingConfig sampling = SamplingConfig.builder().setMaxNewTokens(newTokens).build();
    SessionConfig.Builder sessionBuilder = SessionConfig.builder().optIntraOpThreads(threads);
    if (noSpin) {
      sessionBuilder.optConfigEntry("session.intra_op.allow_spinning", "0");
    }
    SessionConfig session = sessionBuilder.build();
    SessionConfig oneThread = session.withIntraOpThreads(1);
    boolean split = threads > 1;
    int small = split ? smallBatchRows : 0;
    List<Prompt> check = prompts(1);

    Map<String, Object> torch = noTorch ? null : torch(check.get(0));
    Map<String, Object> result = new LinkedHashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    System.out.printf(
        Locale.ROOT,
        "%d parameters, prompt %d, %d new tokens, %d threads%s, small-batch rows %d%n",
        config.parameterCount(),
        prompt,
        newTokens,
        threads,
        noSpin ? " (no spinning)" : "",
        small);
    try (OrtModelSession decode = OrtSessions.open(model.decodeGraph(), session);
        OrtModelSession full = OrtSessions.open(model.fullGraph(), session)) {
      Samplers samplers = new Samplers();
      samplers.main = new KvCacheSampler(decode, config);
      samplers.recompute = new FullSequenceSampler(full, config);
      samplers.main.sample(check, 1, sampling, 0);
      double rssBefore = rssMib();
      try (OrtModelSession decodeOne =
          split ? OrtSessions.open(model.decodeGraph(), oneThread) : null) {
        if (decodeOne != null) {
          samplers.one = new KvCacheSampler(decodeOne, config);
          samplers.one.sample(check, 1, sampling, 0);
          double rssAfter = rssMib();
          result.put("second_session_rss_mib", rssAfter - rssBefore);
          System.out.printf(
              Locale.ROOT,
              "second (one-thread) session of jbond's decoder: +%.1f MiB RSS after opening and"
                  + " one batch-1 run (weights: %.1f MiB as floats)%n",
              rssAfter - rssBefore,
              config.parameterCount() * 4.0 / (1 << 20));
        }
        samplers.kv =
            small > 0 ? samplers.main.withSmallBatchSession(decodeOne, small) : samplers.main;
        try (Exported exported =
            torch == null ? null : new Exported(session, oneThread, split, small)) {
          if (exported != null) {
            result.put(
                "torch_export_check_max_abs_log_prob_difference",
                exported.check(torch, check, sampling));
            samplers.export = exported.sampler;
          }
          measure(samplers, torch, sampling, small, rows);
        }
      }
    }
    if (small > 0) {
      System.out.printf("%n* on the one-thread small-batch session%n");
    }
    result.put("parameters", config.parameterCount());
    result.put("threads", threads);
    result.put("intra_op_spinning", !noSpin);
    result.put("small_batch_rows", small);
    result.put("prompt", prompt);
    result.put("new_tokens", newTokens);
    result.put("recompute_runs", runs);
    result.put("kv_cache_runs", kvRuns);
    result.put("cores", Runtime.getRuntime().availableProcessors());
    if (torch != null) {
      result.put("torch_export", export.toString());
      result.put("pytorch", torch.get("torch"));
    }
    result.put("rows", rows);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, Json.write(result) + "\n", StandardCharsets.UTF_8);
    System.out.printf("%nresults: %s%n", out);
    return 0;
  }

  /** The samplers timed; {@code one} and {@code export} are null when not measured. */
  private static final class Samplers {
    KvCacheSampler kv;
    KvCacheSampler main;
    KvCacheSampler one;
    KvCacheSampler export;
    FullSequenceSampler recompute;
  }

  private void measure(
      Samplers samplers,
      Map<String, Object> torch,
      SamplingConfig sampling,
      int small,
      List<Map<String, Object>> rows)
      throws Exception {
    Map<Integer, Double> torchRates = new LinkedHashMap<>();
    if (torch != null) {
      for (Object row : (List<?>) torch.get("rows")) {
        Map<?, ?> r = (Map<?, ?>) row;
        torchRates.put(
            ((Number) r.get("batch")).intValue(),
            ((Number) r.get("tokens_per_second")).doubleValue());
      }
    }
    boolean split = samplers.one != null;
    System.out.printf(
        Locale.ROOT,
        "%n%6s %11s %11s %11s %11s %9s %13s %13s %9s%n",
        "batch",
        "KV t/s",
        split ? "KV " + threads + "thr t/s" : "",
        split ? "KV 1thr t/s" : "",
        "recomp t/s",
        "KV/recomp",
        "export: jbond",
        "export: torch",
        "jbond/pt");
    for (int batch : batches) {
      List<Prompt> prompts = prompts(batch);
      Map<String, SequenceSampler> cases = new LinkedHashMap<>();
      cases.put("kv", samplers.kv);
      if (split) {
        if (small > 0) {
          cases.put("main", samplers.main);
        }
        cases.put("one", samplers.one);
      }
      if (samplers.export != null) {
        cases.put("export", samplers.export);
      }
      Map<String, Double> rates = tokensPerSecond(cases, prompts, sampling, kvRuns);
      double cached = rates.get("kv");
      double mainOnly = rates.getOrDefault("main", cached);
      double oneOnly = rates.getOrDefault("one", Double.NaN);
      double recomputed =
          tokensPerSecond(Map.of("recompute", samplers.recompute), prompts, sampling, runs)
              .get("recompute");
      double jbondExport = rates.getOrDefault("export", Double.NaN);
      double torchExport = torchRates.getOrDefault(batch, Double.NaN);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("batch", batch);
      r.put("kv_cache_on_small_batch_session", batch <= small);
      r.put("kv_cache_tokens_per_second", cached);
      r.put("kv_cache_threads_session_tokens_per_second", mainOnly);
      r.put("kv_cache_one_thread_session_tokens_per_second", oneOnly);
      r.put("recompute_tokens_per_second", recomputed);
      r.put("kv_cache_over_recompute", cached / recomputed);
      r.put("torch_export_jbond_kv_cache_tokens_per_second", jbondExport);
      r.put("torch_export_pytorch_kv_cache_tokens_per_second", torchExport);
      rows.add(r);
      System.out.printf(
          Locale.ROOT,
          "%6d %10.0f%s %11s %11s %11.0f %8.1fx %13s %13s %9s%n",
          batch,
          cached,
          batch <= small ? "*" : " ",
          split ? format("%.0f", mainOnly) : "",
          split ? format("%.0f", oneOnly) : "",
          recomputed,
          cached / recomputed,
          format("%.0f", jbondExport),
          format("%.0f", torchExport),
          format("%.1fx", jbondExport / torchExport));
    }
  }

  /** jbond's cached sampler on PyTorch's exported decode graph, with the same session rule. */
  private final class Exported implements AutoCloseable {
    private final OrtModelSession main;
    private final OrtModelSession one;
    final KvCacheSampler sampler;

    Exported(SessionConfig session, SessionConfig oneThread, boolean split, int small)
        throws ModelLoadException {
      main = OrtSessions.open(export, session);
      OrtModelSession opened = null;
      try {
        opened = split && small > 0 ? OrtSessions.open(export, oneThread) : null;
        KvCacheSampler s =
            KvCacheSampler.forDecodeGraph(main, CONTEXT, KvCacheSampler.DEFAULT_MAX_BATCH_ROWS);
        sampler = opened == null ? s : s.withSmallBatchSession(opened, small);
      } catch (ModelLoadException | RuntimeException e) {
        main.close();
        if (opened != null) {
          opened.close();
        }
        throw e;
      }
      one = opened;
    }

    /**
     * Checks that ONNX Runtime runs the export like torch: the log-probability jbond reports for
     * the first token it samples after the check prompt against torch's log-softmax there.
     */
    double check(Map<String, Object> torch, List<Prompt> prompts, SamplingConfig sampling) {
      SampledSequence s = sampler.sample(prompts, 1, sampling, 0).get(0);
      int token = s.completion().get(0);
      double expected =
          ((Number) ((List<?>) torch.get("check_log_probs")).get(token)).doubleValue();
      double found = s.modelLogProbs().get(0);
      double difference = Math.abs(found - expected);
      Checks.verify(
          difference <= CHECK_TOLERANCE,
          "Expected the exported model's first-token log-prob %s within %s of torch's, found %s",
          expected,
          CHECK_TOLERANCE,
          found);
      System.out.printf(
          Locale.ROOT,
          "torch export %s: ONNX Runtime's first-token log-prob %.6f, torch's %.6f (|diff| %.1e)%n",
          export,
          found,
          expected,
          difference);
      return difference;
    }

    @Override
    public void close() {
      main.close();
      if (one != null) {
        one.close();
      }
    }
  }

  private List<Prompt> prompts(int batch) {
    SplittableRandom rng = new SplittableRandom(5);
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      int[] ids = new int[prompt];
      for (int t = 0; t < prompt; t++) {
        ids[t] = rng.nextInt(256);
      }
      prompts.add(new Prompt("b" + i, TokenSequence.of(ids)));
    }
    return prompts;
  }

  /**
   * Median tokens/s of each sampler over {@code rounds} timed runs after one warm-up run each, the
   * samplers taking turns within every round ({@link InterleavedRounds}); run {@code r} uses seed
   * {@code r}.
   */
  private static Map<String, Double> tokensPerSecond(
      Map<String, SequenceSampler> samplers,
      List<Prompt> prompts,
      SamplingConfig sampling,
      int rounds)
      throws Exception {
    List<String> names = new ArrayList<>(samplers.keySet());
    List<InterleavedRounds.Call<List<SampledSequence>>> calls = new ArrayList<>();
    for (String name : names) {
      calls.add(round -> samplers.get(name).sample(prompts, 1, sampling, round));
    }
    List<List<InterleavedRounds.Timed<List<SampledSequence>>>> timed =
        InterleavedRounds.time(calls, 1, rounds);
    Map<String, Double> medians = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      List<Double> rates = new ArrayList<>();
      for (InterleavedRounds.Timed<List<SampledSequence>> run : timed.get(i)) {
        long tokens = 0;
        for (SampledSequence s : run.result()) {
          tokens += s.completion().length();
        }
        rates.add(tokens / run.seconds());
      }
      rates.sort(Double::compare);
      medians.put(names.get(i), rates.get(rates.size() / 2));
    }
    return medians;
  }

  /** {@code value} formatted, or "-" when it was not measured (NaN). */
  private static String format(String pattern, double value) {
    return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, pattern, value);
  }

  private static double rssMib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  private Map<String, Object> torch(Prompt check) throws IOException, InterruptedException {
    Path parent = export.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    StringBuilder batchList = new StringBuilder();
    for (int batch : batches) {
      batchList.append(batchList.length() == 0 ? "" : ",").append(batch);
    }
    StringBuilder checkIds = new StringBuilder();
    for (int t : check.tokens().toArray()) {
      checkIds.append(checkIds.length() == 0 ? "" : ",").append(t);
    }
    List<String> cmd =
        List.of(
            python,
            script.toString(),
            "--export",
            export.toString(),
            "--batches",
            batchList.toString(),
            "--prompt",
            Integer.toString(prompt),
            "--new",
            Integer.toString(newTokens),
            "--threads",
            Integer.toString(threads),
            "--vocab",
            Integer.toString(VOCAB),
            "--width",
            Integer.toString(WIDTH),
            "--heads",
            Integer.toString(HEADS),
            "--layers",
            Integer.toString(LAYERS),
            "--context",
            Integer.toString(CONTEXT),
            "--runs",
            Integer.toString(kvRuns),
            "--check-prompt",
            checkIds.toString());
    return PythonBenchmark.run(cmd, "the PyTorch generation benchmark and export");
  }
}
