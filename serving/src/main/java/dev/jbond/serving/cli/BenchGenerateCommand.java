package dev.jbond.serving.cli;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.FullSequenceSampler;
import dev.jbond.models.generate.KvCacheSampler;
import dev.jbond.models.generate.SampledSequence;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.generate.SequenceSampler;
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
 * {@code bond bench generate}: generated tokens/s of jbond's sampler with its KV cache against
 * recomputing the full sequence for every token, and against PyTorch eager sampling with a KV cache
 * on a model of the same sizes ({@code bench/torch_generate_bench.py}), for batch 1 and 32 at 64
 * new tokens, measured in the same run.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = "Generation throughput: KV cache vs recompute vs PyTorch eager (KV cache).")
public final class BenchGenerateCommand implements Callable<Integer> {
  @Option(names = "--batches", split = ",", description = "Batch sizes (default: 1,32).")
  int[] batches = {1, 32};

  @Option(names = "--prompt", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int prompt = 8;

  @Option(names = "--new", description = "New tokens (default: ${DEFAULT-VALUE}).")
  int newTokens = 64;

  @Option(names = "--threads", description = "Threads of all engines (default: ${DEFAULT-VALUE}).")
  int threads = 2;

  @Option(names = "--runs", description = "Timed runs per case (default: ${DEFAULT-VALUE}).")
  int runs = 3;

  @Option(names = "--python", description = "Python with torch (default: ${DEFAULT-VALUE}).")
  String python = "/usr/bin/python3";

  @Option(names = "--script", description = "PyTorch script (default: ${DEFAULT-VALUE}).")
  Path script = Path.of("bench", "torch_generate_bench.py");

  @Option(names = "--no-torch", description = "Skip PyTorch.")
  boolean noTorch;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-generate.json");

  private static final int VOCAB = 259;
  private static final int WIDTH = 256;
  private static final int HEADS = 4;
  private static final int LAYERS = 4;
  private static final int CONTEXT = 128;

  @Override
  public Integer call() throws Exception {
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
    SessionConfig session = SessionConfig.builder().optIntraOpThreads(threads).build();
    List<Map<String, Object>> rows = new ArrayList<>();
    System.out.printf(
        Locale.ROOT,
        "%d parameters, prompt %d, %d new tokens, %d threads%n%n%6s %14s %14s %9s %14s%n",
        config.parameterCount(),
        prompt,
        newTokens,
        threads,
        "batch",
        "KV cache t/s",
        "recompute t/s",
        "KV/recomp",
        "PyTorch KV t/s");
    try (OrtModelSession decode = OrtSessions.open(model.decodeGraph(), session);
        OrtModelSession full = OrtSessions.open(model.fullGraph(), session)) {
      KvCacheSampler kv = new KvCacheSampler(decode, config);
      FullSequenceSampler recompute = new FullSequenceSampler(full, config);
      for (int batch : batches) {
        List<Prompt> prompts = prompts(batch);
        double cached = tokensPerSecond(kv, prompts, sampling);
        double recomputed = tokensPerSecond(recompute, prompts, sampling);
        double torch = noTorch ? Double.NaN : torch(batch);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("batch", batch);
        r.put("kv_cache_tokens_per_second", cached);
        r.put("recompute_tokens_per_second", recomputed);
        r.put("pytorch_kv_cache_tokens_per_second", torch);
        rows.add(r);
        System.out.printf(
            Locale.ROOT,
            "%6d %14.0f %14.0f %8.1fx %14.0f%n",
            batch,
            cached,
            recomputed,
            cached / recomputed,
            torch);
      }
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("parameters", config.parameterCount());
    result.put("threads", threads);
    result.put("prompt", prompt);
    result.put("new_tokens", newTokens);
    result.put("rows", rows);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, Json.write(result) + "\n", StandardCharsets.UTF_8);
    System.out.printf("%nresults: %s%n", out);
    return 0;
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

  private double tokensPerSecond(
      SequenceSampler sampler, List<Prompt> prompts, SamplingConfig sampling) {
    sampler.sample(prompts, 1, sampling, 0);
    List<Double> rates = new ArrayList<>();
    for (int r = 1; r <= runs; r++) {
      long start = System.nanoTime();
      long tokens = 0;
      for (SampledSequence s : sampler.sample(prompts, 1, sampling, r)) {
        tokens += s.completion().length();
      }
      rates.add(tokens / ((System.nanoTime() - start) / 1e9));
    }
    rates.sort(Double::compare);
    return rates.get(rates.size() / 2);
  }

  private double torch(int batch) throws IOException, InterruptedException {
    List<String> cmd =
        List.of(
            python,
            script.toString(),
            "--batch",
            Integer.toString(batch),
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
            Integer.toString(runs));
    Map<String, Object> r = PythonBenchmark.run(cmd, "the PyTorch generation benchmark");
    return ((Number) r.get("tokens_per_second")).doubleValue();
  }
}
