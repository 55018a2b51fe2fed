package dev.jbond.orchestrator.cli;

import static dev.jbond.orchestrator.eval.Evaluator.mean;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.config.ConfigYaml;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.orchestrator.server.RunManager;
import dev.jbond.orchestrator.server.RunStatus;
import dev.jbond.orchestrator.server.ServerSettings;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench server}: what serving the dashboard and its event streams costs a running job.
 * Starts {@code bond server} in this process (loopback, a free port), submits the demo
 * configuration over {@code POST /runs}, and while that one run trains switches between windows of
 * {@code --window} steps with no client and with {@code --clients} clients, alternating (0, C, 0,
 * C, ...) so that drift in the machine's load falls on both settings alike.
 *
 * <p>A client does what an open dashboard page does, somewhat more often: it loads the page ({@code
 * GET /}, {@code /dashboard/app.js}, {@code /dashboard/app.css}; a 404 counts as loaded), holds two
 * server-sent-event streams open ({@code /runs/ID/metrics?since=0} and {@code
 * /runs/ID/eval?since=0}) and polls {@code GET /runs/ID} and {@code GET /runs} every {@code
 * --poll-ms} (the page polls {@code GET /runs} every 5 s and {@code GET /runs/ID} on status
 * events). The clients run in a child JVM, so that the CPU they use shows apart from the server's;
 * they still share the machine's cores with the run, as browsers on the same machine would.
 *
 * <p>Step times are the loop's own {@code timings.total} from the run's {@code metrics.jsonl}. Left
 * out: the first {@code --warmup} steps of the run (no clients; class loading, JIT, ONNX Runtime's
 * first runs) and in every window the step under way while the clients connect or disconnect (and
 * any further step that started before the switch was done). Windows start after the warm-up, so
 * with {@code --window} equal to {@code --eval-every} and {@code --checkpoint-every} every window
 * holds exactly one evaluation and one checkpoint step. The overhead is given three ways: the ratio
 * of the settings' mean and of their median step time, each with a 95% percentile bootstrap
 * interval over steps (10,000 resamples, seeded with {@code --seed}; stratified, plain steps apart
 * from the several times longer evaluation steps), which treats steps as independent and is
 * optimistic where the machine's load drifts; and the window-paired mean: each client window's mean
 * step over that of its neighbouring windows without clients, with a Student's t interval over the
 * client windows, which drift within a window's neighbourhood does not bias.
 *
 * <p>CPU per setting, in cores (CPU seconds per wall second, from the end of each window's switch
 * to its end): this process (run and server), its HTTP-serving thread pools (Java threads only;
 * ONNX Runtime's native threads are in the process figure alone), and the clients' process.
 */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description =
        "Step time of a run served by bond server with no client and with C dashboard clients"
            + " (event streams and polls), in alternating windows of one run.")
public final class BenchServerCommand implements Callable<Integer> {
  private static final int RESAMPLES = 10_000;
  private static final Duration CLIENT_REPLY = Duration.ofSeconds(60);

  /**
   * The thread pools that serve HTTP in this process: Micronaut's Netty event loops and its I/O
   * executor, Reactor's schedulers (the event streams' timers) and Micronaut's scheduled executor.
   * The run itself uses none of them (its gRPC server and client have threads of their own).
   */
  private static final Pattern SERVING_THREADS =
      Pattern.compile(
          "(default-(nio|epoll)?eventLoopGroup|io-executor-thread|parallel-|boundedElastic"
              + "|scheduled-executor-thread)",
          java.util.regex.Pattern.CASE_INSENSITIVE);

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(names = "--steps", description = "Steps of the run (default: ${DEFAULT-VALUE}).")
  int steps = 125;

  @Option(
      names = "--warmup",
      description = "Steps before the first window, left out (default: ${DEFAULT-VALUE}).")
  int warmup = 5;

  @Option(names = "--window", description = "Steps per window (default: ${DEFAULT-VALUE}).")
  int window = 10;

  @Option(
      names = "--clients",
      description = "Dashboard clients in every other window (default: ${DEFAULT-VALUE}).")
  int clients = 10;

  @Option(
      names = "--poll-ms",
      description =
          "How often each client polls GET /runs/ID and GET /runs, in ms (default:"
              + " ${DEFAULT-VALUE}).")
  long pollMs = 1000;

  @Option(
      names = "--eval-every",
      description = "Evaluate every so many steps (default: ${DEFAULT-VALUE}).")
  int evalEvery = 10;

  @Option(
      names = "--checkpoint-every",
      description = "Checkpoint every so many steps (default: ${DEFAULT-VALUE}).")
  int checkpointEvery = 10;

  @Option(names = "--seed", description = "The run's and the bootstrap's seed (default: 0).")
  long seed;

  @Option(
      names = "--out",
      description =
          "The server's runs folder, new or empty, kept afterwards (default: a temporary folder,"
              + " deleted).")
  Path out;

  @Option(names = "--json", description = "Where the figures go (default: ${DEFAULT-VALUE}).")
  Path json = Path.of("runs", "bench-server.json");

  @Override
  public Integer call() throws Exception {
    int windows = window < 1 ? 0 : (steps - Math.max(0, warmup)) / window;
    if (warmup < 0
        || window < 2
        || windows < 2
        || clients < 1
        || pollMs < 100
        || evalEvery < 0
        || checkpointEvery < 1) {
      throw new IllegalArgumentException(
          "Expected --warmup >= 0, --window >= 2, --steps >= --warmup + 2 x --window,"
              + " --clients >= 1, --poll-ms >= 100, --eval-every >= 0 and --checkpoint-every >= 1,"
              + " found "
              + warmup
              + ", "
              + window
              + ", "
              + steps
              + ", "
              + clients
              + ", "
              + pollMs
              + ", "
              + evalEvery
              + ", "
              + checkpointEvery);
    }
    if (out != null && Files.isDirectory(out)) {
      try (Stream<Path> entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(
              "Expected --out to name a new or empty folder (the server would take up the runs in"
                  + " it), found "
                  + out.toAbsolutePath()
                  + " with files in it");
        }
      }
    }
    PrintWriter console = spec.commandLine().getOut();
    Path assets = DemoCommand.assets().toAbsolutePath().normalize();
    String yaml = ConfigYaml.write(withRun(DemoCommand.config(assets, steps, seed)));
    Path runs = out == null ? Files.createTempDirectory("jbond-bench-server-") : out;
    Files.createDirectories(runs);
    Optional<String> token =
        ServerSettings.readToken(null, System.getenv(ServerSettings.TOKEN_VARIABLE));
    List<Window> measured = new ArrayList<>();
    List<StepMetrics> metrics;
    String runId;
    try (ApplicationContext context = startServer(runs, assets)) {
      URI base =
          URI.create("http://127.0.0.1:" + context.getBean(EmbeddedServer.class).getPort() + "/");
      runId = submit(base, token, yaml);
      RunManager.Run run = context.getBean(RunManager.class).get(runId);
      Path metricsFile = run.directory().metrics();
      console.printf(
          Locale.ROOT,
          "bond server on %s, run %s: %d steps, %d warm-up, then %d windows of %d steps"
              + " alternating 0 and %d clients...%n",
          base,
          runId,
          steps,
          warmup,
          windows,
          window,
          clients);
      console.flush();
      try (ClientProcess children = ClientProcess.start(base, runId, clients, pollMs)) {
        StepTail tail = new StepTail(metricsFile);
        Sample previous = null;
        for (int k = 0; k <= windows; k++) {
          waitForStep(tail, run, warmup + (long) k * window);
          Sample end = Sample.take(children);
          if (previous != null) {
            measured.get(k - 1).finish(previous, end);
          }
          if (k > 0 && measured.get(k - 1).clients > 0) {
            Window served = measured.get(k - 1);
            served.served = children.command("disconnect");
            console.printf(Locale.ROOT, "  clients %s%n", served.served);
          }
          if (k == windows) {
            break;
          }
          int c = k % 2 == 0 ? 0 : clients;
          if (c > 0) {
            children.command("connect");
          }
          long clean = tail.lastStep() + 2; // the step under way as the switch ended is mixed
          previous = Sample.take(children);
          Window w = new Window(k, c, warmup + (long) k * window + 1, clean);
          measured.add(w);
          console.printf(
              Locale.ROOT,
              "window %d/%d: steps %d-%d, %d clients%n",
              k + 1,
              windows,
              w.first,
              w.first + window - 1,
              c);
          console.flush();
        }
      }
      while (!run.status().settled()) {
        Thread.sleep(200);
      }
      if (run.status() != RunStatus.FINISHED) {
        throw new IllegalStateException(
            "Expected run " + runId + " to finish, found it " + run.status().json());
      }
      metrics = JsonLinesMetricsReader.read(metricsFile);
    } finally {
      if (out == null) {
        RunDirectory.deleteTree(runs);
      }
    }
    report(console, measured, metrics, runId);
    return 0;
  }

  private ApplicationContext startServer(Path runs, Path assets) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("jbond.server.enabled", "true");
    p.put("micronaut.server.host", "127.0.0.1");
    p.put("micronaut.server.port", -1); // Micronaut's "any free port"
    p.put("jbond.server.runs", runs.toString());
    p.put(
        "jbond.server.allow-paths",
        List.of(runs.toAbsolutePath().normalize().toString(), assets.toString()));
    p.put("jbond.server.max-concurrent-runs", 1);
    return Micronaut.build(new String[0])
        .mainClass(BondCommand.class)
        .banner(false)
        .properties(p)
        .start();
  }

  private static String submit(URI base, Optional<String> token, String yaml)
      throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve("runs"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/yaml")
            .POST(HttpRequest.BodyPublishers.ofString(yaml));
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 201) {
      throw new IllegalStateException(
          "Expected POST /runs to answer 201, found "
              + response.statusCode()
              + ": "
              + response.body().strip());
    }
    return String.valueOf(Json.parseObject(response.body()).get("id"));
  }

  private static void waitForStep(StepTail tail, RunManager.Run run, long step)
      throws IOException, InterruptedException {
    while (tail.lastStep() < step) {
      RunStatus s = run.status();
      if (s.settled()) {
        tail.poll();
        if (tail.lastStep() >= step) {
          return;
        }
        throw new IllegalStateException(
            "Expected run "
                + run.id()
                + " to reach step "
                + step
                + ", found it "
                + s.json()
                + " after step "
                + tail.lastStep());
      }
      Thread.sleep(20);
      tail.poll();
    }
  }

  private RunConfig withRun(RunConfig base) {
    RunConfig.Run r = base.run();
    return new RunConfig(
        base.policy(),
        base.reference(),
        base.reward(),
        base.prompts(),
        base.sampling(),
        base.objective(),
        base.optimizer(),
        base.serving(),
        base.eval(),
        new RunConfig.Run(
            steps,
            seed,
            r.staleness(),
            checkpointEvery,
            evalEvery,
            r.keepCheckpoints(),
            r.stepRetries(),
            r.trackReferenceKl(),
            r.maxKl(),
            r.importanceCorrection(),
            r.importanceBound(),
            r.reuseForward(),
            r.samplerLogProbTolerance()));
  }

  private void report(
      PrintWriter console, List<Window> measured, List<StepMetrics> metrics, String runId)
      throws IOException {
    Map<Long, Double> total = new HashMap<>();
    Map<Long, Boolean> periodic = new HashMap<>();
    for (StepMetrics m : metrics) {
      total.put(m.step(), m.timings().getOrDefault("total", Double.NaN));
      periodic.put(m.step(), m.timings().containsKey("eval")); // checkpoint: every step, ~0 ms
    }
    // strata for the bootstrap: [setting][0: plain steps, 1: evaluation steps]
    Map<Integer, List<List<Double>>> strata = new TreeMap<>();
    strata.put(0, List.of(new ArrayList<>(), new ArrayList<>()));
    strata.put(clients, List.of(new ArrayList<>(), new ArrayList<>()));
    Map<Integer, List<Double>> bySetting = new TreeMap<>();
    bySetting.put(0, new ArrayList<>());
    bySetting.put(clients, new ArrayList<>());
    List<Object> windowRows = new ArrayList<>();
    for (Window w : measured) {
      for (long s = Math.max(w.first + 1, w.clean); s < w.first + window; s++) {
        Double t = total.get(s);
        if (t != null && !t.isNaN()) {
          w.times.add(t);
          strata.get(w.clients).get(periodic.get(s) ? 1 : 0).add(t);
        }
      }
      bySetting.get(w.clients).addAll(w.times);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("window", w.index + 1);
      row.put("clients", w.clients);
      row.put("firstStep", w.first);
      row.put("firstMeasuredStep", Math.max(w.first + 1, w.clean));
      row.put("stepMs", w.times);
      row.put("meanStepMs", mean(toArray(w.times)));
      row.put("wallSeconds", w.wallSeconds());
      row.put("processCores", w.processCores());
      row.put("clientProcessCores", w.clientCores());
      if (!w.served.isEmpty()) {
        row.put("clientsReport", w.served);
      }
      windowRows.add(row);
    }
    double[] none = toArray(bySetting.get(0));
    double[] some = toArray(bySetting.get(clients));
    if (none.length == 0 || some.length == 0) {
      throw new IllegalStateException(
          "Expected measured steps in both settings, found "
              + none.length
              + " and "
              + some.length
              + " (make --window longer)");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    List<double[]> noneStrata = strata.get(0).stream().map(BenchServerCommand::toArray).toList();
    List<double[]> someStrata =
        strata.get(clients).stream().map(BenchServerCommand::toArray).toList();
    double[] meanInterval = bootstrap(noneStrata, someStrata, false, rng);
    double[] medianInterval = bootstrap(noneStrata, someStrata, true, rng);
    double meanOverhead = mean(some) / mean(none) - 1;
    double medianOverhead = quantile(some, 0.5) / quantile(none, 0.5) - 1;

    console.printf(
        Locale.ROOT,
        "%nStep time (timings.total, ms), %d windows of %d steps; left out: the first %d steps and"
            + " the first step of each window:%n",
        measured.size(),
        window,
        warmup);
    console.printf(
        Locale.ROOT,
        "%8s %8s %6s %9s %9s %9s %14s %14s %14s%n",
        "clients",
        "windows",
        "steps",
        "mean",
        "median",
        "p90",
        "process cores",
        "serving cores",
        "client cores");
    Map<String, Object> settings = new LinkedHashMap<>();
    for (Map.Entry<Integer, List<Double>> e : bySetting.entrySet()) {
      int c = e.getKey();
      double[] v = toArray(e.getValue());
      List<Window> ws = measured.stream().filter(w -> w.clients == c).toList();
      double wall = ws.stream().mapToDouble(Window::wallSeconds).sum();
      double cpu = ws.stream().mapToDouble(w -> w.processCpuSeconds).sum();
      double childCpu = ws.stream().mapToDouble(w -> w.clientCpuSeconds).sum();
      Map<String, Double> threads = threadCores(ws, wall);
      double serving =
          threads.entrySet().stream()
              .filter(t -> SERVING_THREADS.matcher(t.getKey()).lookingAt())
              .mapToDouble(Map.Entry::getValue)
              .sum();
      console.printf(
          Locale.ROOT,
          "%8d %8d %6d %9.1f %9.1f %9.1f %14.3f %14.3f %14.3f%n",
          c,
          ws.size(),
          v.length,
          mean(v),
          quantile(v, 0.5),
          quantile(v, 0.9),
          cpu / wall,
          serving,
          childCpu / wall);
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("clients", c);
      s.put("windows", ws.size());
      s.put("steps", v.length);
      s.put("meanStepMs", mean(v));
      s.put("medianStepMs", quantile(v, 0.5));
      s.put("p90StepMs", quantile(v, 0.9));
      s.put("wallSeconds", wall);
      s.put("processCores", cpu / wall);
      s.put("servingThreadCores", serving);
      s.put("clientProcessCores", childCpu / wall);
      s.put("threadCores", threads);
      settings.put("clients" + c, s);
    }
    double[] paired = pairedWindows(measured);
    double[] pairedInterval = tInterval(paired);
    console.printf(
        Locale.ROOT,
        "%nOverhead of %d clients (95%% intervals):%n"
            + "  mean step   %+6.1f%% (%+.1f%% .. %+.1f%%, bootstrap over steps)%n"
            + "  median step %+6.1f%% (%+.1f%% .. %+.1f%%, bootstrap over steps; both"
            + " stratified: plain and eval steps)%n"
            + "  window-paired mean %+6.1f%% (%+.1f%% .. %+.1f%%, t over %d client windows, each"
            + " against its neighbours)%n",
        clients,
        100 * meanOverhead,
        100 * meanInterval[0],
        100 * meanInterval[1],
        100 * medianOverhead,
        100 * medianInterval[0],
        100 * medianInterval[1],
        100 * mean(paired),
        100 * pairedInterval[0],
        100 * pairedInterval[1],
        paired.length);
    StringBuilder line = new StringBuilder("Window means, ms (clients:mean):");
    for (Window w : measured) {
      line.append(String.format(Locale.ROOT, " %d:%.0f", w.clients, mean(toArray(w.times))));
    }
    console.println(line);

    Map<String, Object> results = new LinkedHashMap<>();
    results.put("config", "demo");
    results.put("run", runId);
    results.put("steps", steps);
    results.put("warmup", warmup);
    results.put("window", window);
    results.put("clients", clients);
    results.put("pollMs", pollMs);
    results.put("evalEvery", evalEvery);
    results.put("checkpointEvery", checkpointEvery);
    results.put("seed", seed);
    results.put("cores", Runtime.getRuntime().availableProcessors());
    results.put("java", System.getProperty("java.version"));
    results.put("settings", settings);
    Map<String, Object> overhead = new LinkedHashMap<>();
    overhead.put("mean", meanOverhead);
    overhead.put("meanCi95", List.of(meanInterval[0], meanInterval[1]));
    overhead.put("median", medianOverhead);
    overhead.put("medianCi95", List.of(medianInterval[0], medianInterval[1]));
    overhead.put("resamples", RESAMPLES);
    overhead.put("windowPaired", mean(paired));
    overhead.put("windowPairedCi95", List.of(pairedInterval[0], pairedInterval[1]));
    overhead.put("windowPairedRatios", Arrays.stream(paired).boxed().toList());
    results.put("overhead", overhead);
    results.put("windows", windowRows);
    RunDirectory.writeAtomically(json, Json.write(results) + "\n");
    console.println("Wrote " + json);
    console.flush();
  }

  /** CPU of this process's Java threads per wall second, by thread name with digits as #. */
  private static Map<String, Double> threadCores(List<Window> windows, double wall) {
    Map<String, Double> cores = new TreeMap<>();
    for (Window w : windows) {
      w.threadCpuSeconds.forEach((k, v) -> cores.merge(k, v / wall, Double::sum));
    }
    return cores;
  }

  /**
   * Per window with clients: its mean step time over the mean of its neighbouring windows without
   * (one or two), minus 1. Drift that is linear across three windows cancels.
   */
  static double[] pairedWindows(List<Window> windows) {
    List<Double> out = new ArrayList<>();
    for (int k = 0; k < windows.size(); k++) {
      Window w = windows.get(k);
      if (w.clients == 0 || w.times.isEmpty()) {
        continue;
      }
      double sum = 0;
      int n = 0;
      for (int j : new int[] {k - 1, k + 1}) {
        if (j >= 0 && j < windows.size() && !windows.get(j).times.isEmpty()) {
          sum += mean(toArray(windows.get(j).times));
          n++;
        }
      }
      if (n > 0) {
        out.add(mean(toArray(w.times)) / (sum / n) - 1);
      }
    }
    return toArray(out);
  }

  /** Student's t 95% interval of the mean (NaN with fewer than 2 values). */
  static double[] tInterval(double[] v) {
    if (v.length < 2) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double m = mean(v);
    double ss = 0;
    for (double x : v) {
      ss += (x - m) * (x - m);
    }
    double half = t975(v.length - 1) * Math.sqrt(ss / (v.length - 1) / v.length);
    return new double[] {m - half, m + half};
  }

  /** The 97.5% quantile of Student's t: a table to 30 degrees of freedom, then Cornish-Fisher. */
  static double t975(int df) {
    double[] table = {
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
      2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
      2.052, 2.048, 2.045, 2.042
    };
    if (df <= table.length) {
      return table[df - 1];
    }
    double z = 1.959964;
    double z3 = z * z * z;
    return z + (z3 + z) / (4.0 * df) + (5 * z3 * z * z + 16 * z3 + 3 * z) / (96.0 * df * df);
  }

  /**
   * 95% percentile bootstrap interval of mean (or median) with clients over without, minus 1. Each
   * setting's steps are resampled within strata (plain steps; steps with an evaluation, several
   * times longer), so that every resample keeps each setting's share of long steps.
   */
  static double[] bootstrap(
      List<double[]> none, List<double[]> some, boolean median, SplittableRandom rng) {
    double[] ratios = new double[RESAMPLES];
    for (int r = 0; r < RESAMPLES; r++) {
      double[] a = resample(none, rng);
      double[] b = resample(some, rng);
      ratios[r] = median ? quantile(b, 0.5) / quantile(a, 0.5) - 1 : mean(b) / mean(a) - 1;
    }
    return new double[] {quantile(ratios, 0.025), quantile(ratios, 0.975)};
  }

  private static double[] resample(List<double[]> strata, SplittableRandom rng) {
    double[] out = new double[strata.stream().mapToInt(v -> v.length).sum()];
    int i = 0;
    for (double[] stratum : strata) {
      for (int k = 0; k < stratum.length; k++) {
        out[i++] = stratum[rng.nextInt(stratum.length)];
      }
    }
    return out;
  }

  /** The q-quantile with linear interpolation between order statistics (NaN when empty). */
  static double quantile(double[] v, double q) {
    if (v.length == 0) {
      return Double.NaN;
    }
    double[] s = v.clone();
    Arrays.sort(s);
    double pos = q * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, s.length - 1);
    return s[lo] + (pos - lo) * (s[hi] - s[lo]);
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** One window: its steps, setting, and the CPU used between the end of its switch and its end. */
  private static final class Window {
    final int index;
    final int clients;
    final long first;
    final long clean;
    final List<Double> times = new ArrayList<>();
    String served = "";
    double wallNanos;
    double processCpuSeconds;
    double clientCpuSeconds;
    Map<String, Double> threadCpuSeconds = Map.of();

    Window(int index, int clients, long first, long clean) {
      this.index = index;
      this.clients = clients;
      this.first = first;
      this.clean = clean;
    }

    void finish(Sample start, Sample end) {
      wallNanos = end.nanos - start.nanos;
      processCpuSeconds = (end.processCpuNanos - start.processCpuNanos) / 1e9;
      clientCpuSeconds = (end.clientCpuNanos - start.clientCpuNanos) / 1e9;
      Map<String, Double> threads = new TreeMap<>();
      end.threadCpuNanos.forEach(
          (id, named) -> {
            long before =
                start.threadCpuNanos.containsKey(id) ? start.threadCpuNanos.get(id).cpu : 0;
            threads.merge(named.group, (named.cpu - before) / 1e9, Double::sum);
          });
      threadCpuSeconds = threads;
    }

    double wallSeconds() {
      return wallNanos / 1e9;
    }

    double processCores() {
      return processCpuSeconds / wallSeconds();
    }

    double clientCores() {
      return clientCpuSeconds / wallSeconds();
    }
  }

  /** CPU time of one thread and its name with digits replaced by #. */
  private record ThreadCpu(String group, long cpu) {}

  /** The clocks at one moment: wall, this process's CPU, the clients' CPU, per-thread CPU. */
  private record Sample(
      long nanos, long processCpuNanos, long clientCpuNanos, Map<Long, ThreadCpu> threadCpuNanos) {
    static Sample take(ClientProcess clients) {
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      Map<Long, ThreadCpu> perThread = new HashMap<>();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        long cpu = threads.getThreadCpuTime(t.getId());
        if (cpu >= 0) {
          perThread.put(t.getId(), new ThreadCpu(t.getName().replaceAll("[0-9]+", "#"), cpu));
        }
      }
      long process =
          ManagementFactory.getOperatingSystemMXBean()
                  instanceof com.sun.management.OperatingSystemMXBean os
              ? os.getProcessCpuTime()
              : 0;
      return new Sample(System.nanoTime(), process, clients.cpuNanos(), perThread);
    }
  }

  /** The newest step in a growing metrics.jsonl, read incrementally. */
  private static final class StepTail {
    private final Path file;
    private long position;
    private long lastStep = -1;
    private final StringBuilder partial = new StringBuilder();

    StepTail(Path file) {
      this.file = file;
    }

    long lastStep() throws IOException {
      poll();
      return lastStep;
    }

    void poll() throws IOException {
      byte[] bytes;
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = channel.size();
        if (size <= position) {
          return;
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) (size - position));
        while (buffer.hasRemaining() && channel.read(buffer, position + buffer.position()) > 0) {
          // read to the size seen
        }
        bytes = Arrays.copyOf(buffer.array(), buffer.position());
      } catch (NoSuchFileException e) {
        return;
      }
      position += bytes.length;
      partial.append(new String(bytes, StandardCharsets.UTF_8));
      int newline;
      while ((newline = partial.indexOf("\n")) >= 0) {
        String line = partial.substring(0, newline).strip();
        partial.delete(0, newline + 1);
        if (!line.isEmpty() && Json.parseObject(line).get("step") instanceof Number n) {
          lastStep = Math.max(lastStep, n.longValue());
        }
      }
    }
  }

  /**
   * The child JVM that runs the clients ({@link Clients#main}), told on its standard input to
   * {@code connect} or {@code disconnect}; it answers one line each. Closing it closes its input,
   * on which it exits.
   */
  private static final class ClientProcess implements AutoCloseable {
    private final Process process;
    private final Writer in;
    private final BufferedReader outLines;
    private final ExecutorService reader =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "bench-client-reply");
              t.setDaemon(true);
              return t;
            });
    private boolean closed;

    private ClientProcess(Process process) {
      this.process = process;
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      this.outLines =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static ClientProcess start(URI base, String runId, int clients, long pollMs)
        throws IOException {
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      Process p =
          new ProcessBuilder(
                  java.toString(),
                  "-XX:+UseSerialGC",
                  "-Xmx256m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Clients.class.getName(),
                  base.toString(),
                  runId,
                  Integer.toString(clients),
                  Long.toString(pollMs))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      return new ClientProcess(p);
    }

    /** Sends a command and returns the child's answer. */
    String command(String command) throws IOException, InterruptedException {
      in.write(command + "\n");
      in.flush();
      Future<String> reply = reader.submit(outLines::readLine);
      try {
        String line = reply.get(CLIENT_REPLY.toSeconds(), TimeUnit.SECONDS);
        if (line == null) {
          throw new IllegalStateException(
              "Expected the clients' process to answer '" + command + "', found it ended");
        }
        return line.strip();
      } catch (ExecutionException e) {
        throw new IOException("Cannot read the clients' answer: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        reply.cancel(true);
        throw new IllegalStateException(
            "Expected the clients' process to answer '"
                + command
                + "' within "
                + CLIENT_REPLY.toSeconds()
                + " s, found no answer",
            e);
      }
    }

    long cpuNanos() {
      return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        in.close();
      } catch (IOException e) {
        // the child is gone already
      }
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroy();
        }
      } catch (InterruptedException e) {
        process.destroy();
        Thread.currentThread().interrupt();
      }
      reader.shutdownNow();
    }
  }

  /**
   * The clients, in their own JVM: arguments base URL, run id, clients, poll interval in ms; the
   * token, where the server wants one, comes from {@value ServerSettings#TOKEN_VARIABLE} as for the
   * server. Reads {@code connect} and {@code disconnect} lines and answers each with one line of
   * counts; exits at the end of its input.
   */
  static final class Clients {
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final URI base;
    private final String runId;
    private final int count;
    private final long pollMs;
    private final String token;
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final List<InputStream> streams = new ArrayList<>();
    private final List<Thread> readers = new ArrayList<>();
    private ScheduledExecutorService poller;

    private Clients(URI base, String runId, int count, long pollMs, String token) {
      this.base = base;
      this.runId = runId;
      this.count = count;
      this.pollMs = pollMs;
      this.token = token;
    }

    /**
     * Runs the clients until the end of standard input.
     *
     * @param args base URL, run id, clients, poll interval in ms
     * @throws IOException when standard input or output fail
     */
    public static void main(String[] args) throws IOException {
      String token = System.getenv(ServerSettings.TOKEN_VARIABLE);
      Clients clients =
          new Clients(
              URI.create(args[0]),
              args[1],
              Integer.parseInt(args[2]),
              Long.parseLong(args[3]),
              token == null ? null : token.strip());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String answer =
            switch (line.strip()) {
              case "connect" -> clients.connect();
              case "disconnect" -> clients.disconnect();
              default -> "unknown command " + line.strip();
            };
        System.out.println(answer);
        System.out.flush();
      }
      clients.disconnect();
      System.exit(0);
    }

    private HttpRequest.Builder request(String path) {
      HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
      if (token != null) {
        b.header("Authorization", "Bearer " + token);
      }
      return b;
    }

    private void get(String path) {
      try {
        HttpResponse<Void> r =
            http.send(
                request(path).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.discarding());
        requests.incrementAndGet();
        if (r.statusCode() != 200 && !(r.statusCode() == 404 && path.startsWith("dashboard/"))) {
          errors.incrementAndGet();
        }
      } catch (IOException e) {
        errors.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private String connect() {
      events.set(0);
      requests.set(0);
      errors.set(0);
      poller =
          Executors.newScheduledThreadPool(
              2,
              r -> {
                Thread t = new Thread(r, "client-poll");
                t.setDaemon(true);
                return t;
              });
      String run = "runs/" + runId;
      for (int i = 0; i < count; i++) {
        get("");
        get("dashboard/app.js");
        get("dashboard/app.css");
        for (String kind : List.of("metrics", "eval")) {
          open(run + "/" + kind + "?since=0");
        }
        poller.scheduleAtFixedRate(
            () -> {
              get(run);
              get("runs");
            },
            i * pollMs / count,
            pollMs,
            TimeUnit.MILLISECONDS);
      }
      return "connected " + streams.size() + " streams";
    }

    private void open(String path) {
      try {
        HttpResponse<InputStream> r =
            http.send(
                request(path).header("Accept", "text/event-stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        requests.incrementAndGet();
        if (r.statusCode() != 200) {
          errors.incrementAndGet();
          r.body().close();
          return;
        }
        InputStream body = r.body();
        streams.add(body);
        Thread t =
            new Thread(
                () -> {
                  try (BufferedReader lines =
                      new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                    for (String l = lines.readLine(); l != null; l = lines.readLine()) {
                      if (l.startsWith("event:")) {
                        events.incrementAndGet();
                      }
                    }
                  } catch (IOException e) {
                    // closed by disconnect
                  }
                },
                "client-stream");
        t.setDaemon(true);
        t.start();
        readers.add(t);
      } catch (IOException e) {
        errors.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private String disconnect() {
      if (poller == null) {
        return "disconnected (none)";
      }
      poller.shutdownNow();
      try {
        poller.awaitTermination(10, TimeUnit.SECONDS);
        for (InputStream s : streams) {
          try {
            s.close();
          } catch (IOException e) {
            errors.incrementAndGet();
          }
        }
        for (Thread t : readers) {
          t.interrupt();
          t.join(5000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      streams.clear();
      readers.clear();
      poller = null;
      return "disconnected after "
          + events.get()
          + " events, "
          + requests.get()
          + " requests, "
          + errors.get()
          + " errors";
    }
  }
}
