package dev.jbond.orchestrator.cli;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.orchestrator.run.OrtSpinning;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.embedded.GenerationModelFactory;
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bond bench sample}: candidates/s and tokens/s of sampling through the embedded
 * Triton-protocol server (Netty loopback, {@link TritonSampler} over {@link TritonClient}, the
 * TensorRT-LLM profile with step-level batching) against the direct in-process {@link
 * DirectSampler} for the same workload, decoder and thread count; then the server's throughput with
 * many concurrent single-candidate clients against one, with p50/p99 latencies.
 *
 * <p>Completions have no EOS, so every candidate has exactly {@code --new-tokens} tokens and both
 * paths do the same work.
 */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    description = "Sampling throughput: embedded Triton server over gRPC vs the direct sampler.")
public final class BenchSampleCommand implements Callable<Integer> {
  @Option(names = "--prompts", description = "Prompts per call (default: ${DEFAULT-VALUE}).")
  int prompts = 16;

  @Option(names = "--samples", description = "Samples per prompt (default: ${DEFAULT-VALUE}).")
  int samples = 4;

  @Option(names = "--new-tokens", description = "Tokens per candidate (default: ${DEFAULT-VALUE}).")
  int newTokens = 32;

  @Option(names = "--prompt-length", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int promptLength = 16;

  @Option(names = "--vocab", description = "Vocabulary (default: ${DEFAULT-VALUE}).")
  int vocab = 512;

  @Option(names = "--width", description = "Model width (default: ${DEFAULT-VALUE}).")
  int width = 192;

  @Option(names = "--heads", description = "Attention heads (default: ${DEFAULT-VALUE}).")
  int heads = 4;

  @Option(names = "--layers", description = "Layers (default: ${DEFAULT-VALUE}).")
  int layers = 4;

  @Option(names = "--threads", description = "ONNX Runtime threads (default: ${DEFAULT-VALUE}).")
  int threads = 2;

  @Option(names = "--rounds", description = "Timed calls per path (default: ${DEFAULT-VALUE}).")
  int rounds = 15;

  @Option(
      names = "--warmup",
      description =
          "Untimed calls per path first (default: ${DEFAULT-VALUE}): the gRPC paths run far more"
              + " Java (Netty, protobuf) than the direct one, which the JIT compiles fully only"
              + " after some thousand requests; a J-BOND run samples for thousands of steps.")
  int warmup = 20;

  @Option(names = "--clients", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients = 16;

  @Option(
      names = "--requests-per-client",
      description = "Single-candidate requests per client (default: ${DEFAULT-VALUE}).")
  int requestsPerClient = 16;

  @Option(
      names = "--batch-window-us",
      description = "Server batch window in microseconds (default: ${DEFAULT-VALUE}).")
  long batchWindowMicros = 1000;

  @Option(
      names = "--batch-threads",
      description = "Server batches decoded at once (default: ${DEFAULT-VALUE}).")
  int batchThreads = 1;

  @Option(
      names = "--burst-hint",
      description =
          "Clients announce each call's row count (request parameter jbond_burst_rows) so the"
              + " server decodes a call in one batch.")
  boolean burstHint;

  @Mixin SpinOption spin;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-sample.json");

  @Override
  public Integer call() throws Exception {
    DecoderConfig decoder =
        DecoderConfig.builder()
            .setVocabSize(vocab)
            .setContextLength(promptLength + newTokens)
            .setLayers(layers)
            .setWidth(width)
            .setHeads(heads)
            .setSeed(1)
            .build();
    Path repo = Files.createTempDirectory("jbond-bench-sample");
    TrtLlmModelConfig.write(
        repo,
        TrtLlmModelConfig.config("jbond-policy", 256, false, TensorProfile.trtLlm()),
        1,
        DecoderWeights.initialize(decoder),
        OptionalInt.empty(),
        OptionalInt.of(0));
    TrtLlmModelConfig.write(
        repo,
        TrtLlmModelConfig.config("jbond-policy-stream", 256, true, TensorProfile.trtLlm()),
        1,
        DecoderWeights.initialize(decoder),
        OptionalInt.empty(),
        OptionalInt.of(0));
    boolean spinning = spin.resolve(threads);
    SessionConfig session =
        OrtSpinning.apply(SessionConfig.builder().optIntraOpThreads(threads), spinning).build();
    SamplingConfig sampling =
        SamplingConfig.builder().setMaxNewTokens(newTokens).optPadTokenId(0).build();
    List<Prompt> workload = prompts(prompts, 11);
    int candidates = prompts * samples;

    Map<String, Object> direct;
    Map<String, Object> grpc;
    Map<String, Object> stream;
    Map<String, Object> perCandidateStream;
    Map<String, Object> one;
    Map<String, Object> many;
    TrtLlmGenerationModel.Settings settings =
        new TrtLlmGenerationModel.Settings(
            TensorProfile.trtLlm(),
            Duration.ofNanos(batchWindowMicros * 1000),
            Math.max(candidates, clients),
            batchThreads,
            session);
    Map<String, TrtLlmGenerationModel> models = new ConcurrentHashMap<>();
    GenerationModelFactory factory =
        (config, version) -> {
          TrtLlmGenerationModel model =
              TrtLlmGenerationModel.open(config.getName(), version, settings);
          models.put(config.getName(), model);
          return model;
        };
    try (DirectSampler directSampler =
            DirectSampler.builder(
                    ModelDirectory.read(repo.resolve("jbond-policy").resolve("1")), sampling)
                .optSessionConfig(session)
                .optMaxBatchRows(Math.max(candidates, 1))
                .build();
        EmbeddedTritonServer server =
            EmbeddedTritonServer.builder(repo)
                .optPort(0)
                .optSessionConfig(session)
                .optWorkerThreads(Math.max(4, clients))
                .optGenerationModelFactory(factory)
                .build()
                .start();
        TritonClient client =
            TritonClient.builder(
                    TritonClientConfig.builder()
                        .optEndpoints(
                            List.of(TritonEndpoint.plaintext("localhost:" + server.port())))
                        .optDeadline(Duration.ofMinutes(5))
                        .build())
                .optRandom(new SplittableRandom(3))
                .build();
        TritonSampler sampler =
            TritonSampler.builder(client, sampling).optBurstHint(burstHint).build();
        TritonSampler perCandidateStreamSampler =
            TritonSampler.builder(client, sampling)
                .optStream(true)
                .optBurstHint(burstHint)
                .build();
        TritonSampler streamSampler =
            TritonSampler.builder(client, sampling)
                .optDecoupled(true)
                .optBatchSamples(true)
                .optBurstHint(burstHint)
                .optModelName(PolicyRole.POLICY, "jbond-policy-stream")
                .build()) {
      TrtLlmGenerationModel policy = models.get("jbond-policy");
      TrtLlmGenerationModel policyStream = models.get("jbond-policy-stream");
      // admissions (prefill groups) per path: calls run one at a time, so a call's count is the
      // change during it
      long[] admissions = new long[3];
      List<InterleavedRounds.Call<List<Generation>>> paths =
          List.of(
              round -> directSampler.sample(workload, samples, PolicyRole.POLICY, 5),
              round -> counted(policy, admissions, 0, sampler, workload),
              round -> counted(policyStream, admissions, 1, streamSampler, workload),
              round -> counted(policy, admissions, 2, perCandidateStreamSampler, workload));
      List<Map<String, Object>> timed = timeInterleaved(paths, candidates);
      direct = timed.get(0);
      grpc = timed.get(1);
      stream = timed.get(2);
      perCandidateStream = timed.get(3);
      double calls = warmup + rounds;
      grpc.put("admissions_per_call", admissions[0] / calls);
      stream.put("admissions_per_call", admissions[1] / calls);
      perCandidateStream.put("admissions_per_call", admissions[2] / calls);
      int before = policy.batchCount();
      one = clients(sampler, 1);
      one.put("requests_per_admission", requestsPer(one, policy.batchCount() - before));
      before = policy.batchCount();
      many = clients(sampler, clients);
      many.put("requests_per_admission", requestsPer(many, policy.batchCount() - before));
    }

    double directRate = (double) direct.get("candidates_per_second");
    double grpcRate = (double) grpc.get("candidates_per_second");
    double oneRate = (double) one.get("candidates_per_second");
    double manyRate = (double) many.get("candidates_per_second");
    Map<String, Object> result = new LinkedHashMap<>();
    Map<String, Object> setup = new LinkedHashMap<>();
    setup.put("parameters", decoder.parameterCount());
    setup.put("prompts", prompts);
    setup.put("samples_per_prompt", samples);
    setup.put("new_tokens", newTokens);
    setup.put("prompt_length", promptLength);
    setup.put("ort_threads", threads);
    setup.put("ort_spinning", spinning);
    setup.put("batch_window_us", batchWindowMicros);
    setup.put("batch_threads", batchThreads);
    setup.put("burst_hint", burstHint);
    setup.put("cores", Runtime.getRuntime().availableProcessors());
    setup.put("java", System.getProperty("java.version"));
    result.put("setup", setup);
    result.put("direct", direct);
    result.put("grpc", grpc);
    result.put("grpc_over_direct", grpcRate / directRate);
    result.put("grpc_stream_batched", stream);
    result.put(
        "grpc_stream_batched_over_direct",
        (double) stream.get("candidates_per_second") / directRate);
    result.put("grpc_stream_per_candidate", perCandidateStream);
    result.put(
        "grpc_stream_per_candidate_over_direct",
        (double) perCandidateStream.get("candidates_per_second") / directRate);
    result.put("clients_1", one);
    result.put("clients_" + clients, many);
    result.put("concurrency_speedup", manyRate / oneRate);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, Json.write(result) + "\n", StandardCharsets.UTF_8);

    System.out.printf(
        Locale.ROOT,
        "%nDecoder %,d parameters; %d prompts x %d samples x %d new tokens; %d ORT threads, %s%n%n",
        decoder.parameterCount(),
        prompts,
        samples,
        newTokens,
        threads,
        spinning ? "spinning" : "not spinning");
    System.out.printf(
        Locale.ROOT,
        "%-22s %14s %12s %10s %10s%n",
        "path",
        "candidates/s",
        "tokens/s",
        "p50 ms",
        "p99 ms");
    print("direct (in-process)", direct);
    print("gRPC (embedded)", grpc);
    print("gRPC stream, N rows/req", stream);
    print("gRPC stream, 1 req/sample", perCandidateStream);
    print("gRPC, 1 client", one);
    print("gRPC, " + clients + " clients", many);
    System.out.printf(
        Locale.ROOT,
        "%ngRPC / direct throughput (target >= 0.90): unary %.3f, stream 1 request/sample %.3f,"
            + " stream N rows/request %.3f; %d clients / 1: %.2fx (target >= 3x)%n",
        grpcRate / directRate,
        (double) perCandidateStream.get("candidates_per_second") / directRate,
        (double) stream.get("candidates_per_second") / directRate,
        clients,
        manyRate / oneRate);
    System.out.printf(
        Locale.ROOT,
        "Median over rounds of direct time / gRPC time: unary %.3f, stream 1 request/sample %.3f,"
            + " stream N rows/request %.3f%n",
        (double) grpc.get("median_round_ratio_to_first"),
        (double) perCandidateStream.get("median_round_ratio_to_first"),
        (double) stream.get("median_round_ratio_to_first"));
    System.out.printf(
        Locale.ROOT,
        "Server admissions (prefill groups) per workload call: unary %.2f, stream 1"
            + " request/sample %.2f, stream N rows/request %.2f; requests per admission:"
            + " 1 client %.2f, %d clients %.2f%n",
        (double) grpc.get("admissions_per_call"),
        (double) perCandidateStream.get("admissions_per_call"),
        (double) stream.get("admissions_per_call"),
        (double) one.get("requests_per_admission"),
        clients,
        (double) many.get("requests_per_admission"));
    System.out.println("Wrote " + out);
    return 0;
  }

  private List<Generation> counted(
      TrtLlmGenerationModel model,
      long[] admissions,
      int path,
      TritonSampler sampler,
      List<Prompt> workload) {
    int before = model.batchCount();
    List<Generation> out = sampler.sample(workload, samples, PolicyRole.POLICY, 5);
    admissions[path] += model.batchCount() - before;
    return out;
  }

  private double requestsPer(Map<String, Object> r, int batches) {
    return ((long) r.get("candidates") + warmup) / (double) batches;
  }

  private static void print(String path, Map<String, Object> r) {
    System.out.printf(
        Locale.ROOT,
        "%-22s %14.1f %12.0f %10.2f %10.2f%n",
        path,
        (double) r.get("candidates_per_second"),
        (double) r.get("tokens_per_second"),
        (double) r.get("p50_ms"),
        (double) r.get("p99_ms"));
  }

  /**
   * Times the paths side by side ({@link InterleavedRounds}). Per path: throughput over its own
   * calls, p50/p99 per call, and for paths after the first the median over rounds of (first path's
   * call time / this path's call time).
   */
  private List<Map<String, Object>> timeInterleaved(
      List<InterleavedRounds.Call<List<Generation>>> paths, int candidates) throws Exception {
    List<List<InterleavedRounds.Timed<List<Generation>>>> timed =
        InterleavedRounds.time(paths, warmup, rounds);
    int count = paths.size();
    double[][] seconds = new double[count][rounds];
    List<Map<String, Object>> out = new ArrayList<>();
    for (int p = 0; p < count; p++) {
      long tokens = 0;
      for (int i = 0; i < rounds; i++) {
        InterleavedRounds.Timed<List<Generation>> call = timed.get(p).get(i);
        seconds[p][i] = call.seconds();
        if (call.result().size() != candidates) {
          throw new IllegalStateException(
              "Expected " + candidates + " candidates per call, found " + call.result().size());
        }
        for (Generation g : call.result()) {
          tokens += g.completion().length();
        }
      }
      double total = Arrays.stream(seconds[p]).sum();
      Map<String, Object> stats = stats((long) rounds * candidates, tokens, total, seconds[p]);
      if (p > 0) {
        double[] ratios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
          ratios[i] = seconds[0][i] / seconds[p][i];
        }
        Arrays.sort(ratios);
        stats.put("median_round_ratio_to_first", percentile(ratios, 0.5));
      }
      out.add(stats);
    }
    return out;
  }

  /** {@code count} clients, each sending single-candidate requests one after another. */
  private Map<String, Object> clients(TritonSampler sampler, int count) throws Exception {
    List<Prompt> pool = prompts(Math.max(count, 1), 17);
    ExecutorService threads = Executors.newFixedThreadPool(count);
    try {
      for (int i = 0; i < warmup; i++) {
        sampler.sample(List.of(pool.get(0)), 1, PolicyRole.POLICY, i);
      }
      List<Future<double[]>> futures = new ArrayList<>();
      long start = System.nanoTime();
      for (int c = 0; c < count; c++) {
        Prompt prompt = pool.get(c);
        int client = c;
        futures.add(
            threads.submit(
                () -> {
                  double[] latencies = new double[requestsPerClient];
                  for (int r = 0; r < requestsPerClient; r++) {
                    long t0 = System.nanoTime();
                    sampler.sample(List.of(prompt), 1, PolicyRole.POLICY, client * 1000L + r);
                    latencies[r] = (System.nanoTime() - t0) / 1e9;
                  }
                  return latencies;
                }));
      }
      double[] all = new double[count * requestsPerClient];
      for (int c = 0; c < count; c++) {
        System.arraycopy(futures.get(c).get(), 0, all, c * requestsPerClient, requestsPerClient);
      }
      double total = (System.nanoTime() - start) / 1e9;
      long requests = (long) count * requestsPerClient;
      return stats(requests, requests * newTokens, total, all);
    } finally {
      threads.shutdownNow();
    }
  }

  private static Map<String, Object> stats(
      long candidates, long tokens, double totalSeconds, double[] latencies) {
    double[] sorted = latencies.clone();
    Arrays.sort(sorted);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("candidates", candidates);
    r.put("seconds", totalSeconds);
    r.put("candidates_per_second", candidates / totalSeconds);
    r.put("tokens_per_second", tokens / totalSeconds);
    r.put("p50_ms", percentile(sorted, 0.50) * 1000);
    r.put("p99_ms", percentile(sorted, 0.99) * 1000);
    return r;
  }

  private static double percentile(double[] sorted, double q) {
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private List<Prompt> prompts(int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Prompt> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] tokens = new int[promptLength];
      for (int k = 0; k < tokens.length; k++) {
        tokens[k] = 1 + random.nextInt(vocab - 1);
      }
      out.add(new Prompt("bench-" + i, TokenSequence.of(tokens)));
    }
    return out;
  }
}
