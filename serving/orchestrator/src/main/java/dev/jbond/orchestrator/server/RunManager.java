package dev.jbond.orchestrator.server;

import dev.jbond.internal.Json;
import dev.jbond.metrics.JsonLinesMetricsWriter;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.config.ConfigException;
import dev.jbond.orchestrator.config.ConfigYaml;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.eval.EvalResult;
import dev.jbond.orchestrator.report.RunReport;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.orchestrator.run.RunEngine;
import dev.jbond.orchestrator.run.RunListener;
import dev.jbond.orchestrator.run.RunOutcome;
import dev.jbond.orchestrator.run.StopSignal;
import io.micrometer.core.instrument.Gauge;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The runs of {@code bond server}: each a folder under the runs folder, in the layout {@code bond
 * run} writes, plus {@code status.json} (the status, the error of a failed run, when it was
 * created). Runs execute on a fixed number of threads ({@code --max-concurrent-runs}, default 1);
 * the others wait in a first-in, first-out queue.
 *
 * <p>On start the manager reads every run folder: runs left {@code running} or {@code stopping}
 * (the server died while they ran) become {@code stopped}, so they can be resumed from their newest
 * checkpoint; {@code queued} runs go back in the queue; folders that {@code bond run} wrote (no
 * {@code status.json}) are {@code finished} when their newest checkpoint is their last step, else
 * {@code stopped}. On shutdown every running run is asked to stop: it finishes its step,
 * checkpoints, and is {@code stopped}; queued runs stay queued.
 */
@Singleton
@Requires(property = "jbond.server.enabled", value = "true")
public final class RunManager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RunManager.class.getName());
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final ServerSettings settings;
  private final RunEngine engine;
  private final RunConfigLoader loader;
  private final RunMetrics metrics;
  private final AllowedPaths allowed;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final ThreadPoolExecutor executor;
  private volatile boolean closing;

  /**
   * Creates the manager and recovers the runs already in the runs folder.
   *
   * @param settings the server's settings
   * @param engine runs the runs
   * @param loader reads run configurations
   * @param metrics the runs' metrics
   * @throws IOException when the runs folder cannot be read or created
   */
  public RunManager(
      ServerSettings settings, RunEngine engine, RunConfigLoader loader, RunMetrics metrics)
      throws IOException {
    this.settings = settings;
    this.engine = engine;
    this.loader = loader;
    this.metrics = metrics;
    this.allowed = new AllowedPaths(settings.allowedRoots());
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            settings.maxConcurrentRuns(),
            settings.maxConcurrentRuns(),
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            task -> {
              Thread t = new Thread(task, "jbond-run-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    Files.createDirectories(settings.runs());
    recover();
    for (RunStatus s : RunStatus.values()) {
      Gauge.builder("jbond.runs", () -> runs.values().stream().filter(r -> r.status == s).count())
          .description("Runs by status")
          .tag("status", s.json())
          .register(metrics.registry());
    }
  }

  /**
   * Returns the settings.
   *
   * @return the settings
   */
  public ServerSettings settings() {
    return settings;
  }

  /**
   * Queues a run of a configuration submitted as text.
   *
   * @param text the YAML or JSON that {@code bond run --config} reads
   * @return the queued run
   * @throws ConfigException when the configuration is not valid or names a path outside the allowed
   *     roots (the message names the key)
   * @throws IOException when the run's folder cannot be written
   */
  public Run submit(String text) throws IOException {
    checkOpen();
    RunConfig config =
        loader.parse(text, "(request body)", Path.of("").toAbsolutePath(), allowed::check);
    Run run;
    synchronized (runs) {
      RunDirectory dir = RunDirectory.fresh(settings.runs(), "run", LocalDateTime.now());
      Files.createDirectory(dir.root());
      RunDirectory.writeAtomically(dir.config(), ConfigYaml.write(config));
      run = new Run(dir.root().getFileName().toString(), dir, Instant.now());
      run.config = config;
      run.totalSteps = config.run().steps();
      runs.put(run.id, run);
    }
    enqueue(run, false);
    return run;
  }

  /**
   * Returns the runs, newest first.
   *
   * @return the runs
   */
  public List<Run> list() {
    List<Run> all = new ArrayList<>(runs.values());
    all.sort(Comparator.comparing((Run r) -> r.created).thenComparing(r -> r.id).reversed());
    return all;
  }

  /**
   * Returns a run.
   *
   * @param id the run's id
   * @return the run
   * @throws RunRequestException 404 when there is no such run
   */
  public Run get(String id) {
    Run run = ID.matcher(id).matches() ? runs.get(id) : null;
    if (run == null) {
      throw RunRequestException.notFound(id);
    }
    return run;
  }

  /**
   * Asks a run to stop: a queued run stops at once; a running one finishes its step, checkpoints
   * and stops.
   *
   * @param id the run's id
   * @return the run
   * @throws RunRequestException 404 when there is no such run, 409 when it is neither queued nor
   *     running
   * @throws IOException when the status cannot be written
   */
  public Run stop(String id) throws IOException {
    Run run = get(id);
    synchronized (run) {
      switch (run.status) {
        case QUEUED -> run.setStatus(RunStatus.STOPPED, null);
        case RUNNING -> {
          run.setStatus(RunStatus.STOPPING, null);
          run.stop.request("POST /runs/" + id + "/stop");
        }
        default ->
            throw new RunRequestException(
                409,
                "Expected a queued or running run to stop, found run "
                    + id
                    + " "
                    + run.status.json());
      }
    }
    return run;
  }

  /**
   * Queues a stopped or failed run to continue from its newest checkpoint.
   *
   * @param id the run's id
   * @return the run
   * @throws RunRequestException 404 when there is no such run, 409 when it is not stopped or failed
   *     or another process runs it
   * @throws ConfigException when its configuration cannot be read or names a path outside the
   *     allowed roots
   * @throws IOException when the status cannot be written
   */
  public Run resume(String id) throws IOException {
    checkOpen();
    Run run = get(id);
    synchronized (run) {
      if (run.status != RunStatus.STOPPED && run.status != RunStatus.FAILED) {
        throw new RunRequestException(
            409,
            "Expected a stopped or failed run to resume, found run "
                + id
                + " "
                + run.status.json());
      }
      if (run.dir.locked()) {
        throw new RunRequestException(
            409,
            "Expected run "
                + id
                + " to run nowhere else, found another process holding "
                + run.dir.lockFile());
      }
      RunConfig config = loader.load(run.dir.config(), run.dir.root());
      allowed.check(config);
      run.config = config;
      run.totalSteps = config.run().steps();
      run.setStatus(RunStatus.QUEUED, null);
    }
    enqueue(run, true);
    return run;
  }

  private void enqueue(Run run, boolean resume) {
    executor.execute(() -> execute(run, resume));
  }

  private void execute(Run run, boolean resume) {
    StopSignal stop = StopSignal.manual();
    synchronized (run) {
      if (run.status != RunStatus.QUEUED || closing) {
        return; // stopped while queued, or the server is shutting down (it stays queued)
      }
      run.stop = stop;
      run.lastMetrics = null;
      run.lastEval = null;
      try {
        run.setStatus(RunStatus.RUNNING, null);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "Cannot write the status of run {0}: {1}", run.id, e);
      }
    }
    RunStatus end;
    String error = null;
    try {
      String resumeCommand =
          "POST /runs/"
              + run.id
              + "/resume (or: bond run --config "
              + run.dir.config()
              + " --out "
              + run.dir.root()
              + " --resume)";
      RunOutcome outcome =
          engine.run(
              new RunEngine.Request(
                  run.config,
                  run.dir,
                  resume || hasCheckpoints(run),
                  resumeCommand,
                  RunReport::write),
              stop,
              new Listener(run));
      end = outcome.status() == RunOutcome.Status.FINISHED ? RunStatus.FINISHED : RunStatus.STOPPED;
    } catch (Exception | LinkageError e) {
      end = RunStatus.FAILED;
      error = oneLine(e instanceof Error || e.getMessage() == null ? e.toString() : e.getMessage());
      LOG.log(System.Logger.Level.WARNING, "Run {0} failed: {1}", run.id, error);
    }
    synchronized (run) {
      try {
        run.setStatus(end, error);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "Cannot write the status of run {0}: {1}", run.id, e);
      }
    }
  }

  private static boolean hasCheckpoints(Run run) {
    return !run.dir.checkpointSteps().isEmpty();
  }

  private void checkOpen() {
    if (closing) {
      throw new RunRequestException(503, "Expected a running server, found it shutting down");
    }
  }

  /**
   * Stops every running run (each finishes its step and checkpoints) and waits for them, up to the
   * shutdown timeout. Queued runs stay queued.
   */
  @PreDestroy
  @Override
  public void close() {
    closing = true;
    for (Run run : runs.values()) {
      synchronized (run) {
        if (run.status == RunStatus.RUNNING) {
          try {
            run.setStatus(RunStatus.STOPPING, null);
          } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot write the status of {0}: {1}", run.id, e);
          }
          run.stop.request("server shutdown");
        }
      }
    }
    executor.shutdown();
    try {
      if (!executor.awaitTermination(
          settings.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.log(
            System.Logger.Level.WARNING,
            "Runs did not stop within {0}; their newest checkpoints stay",
            settings.shutdownTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
  }

  /** Reads the runs folder. */
  private void recover() throws IOException {
    List<Run> queued = new ArrayList<>();
    try (Stream<Path> children = Files.list(settings.runs())) {
      for (Path folder : children.sorted().toList()) {
        String id = folder.getFileName().toString();
        RunDirectory dir = new RunDirectory(folder);
        if (!ID.matcher(id).matches() || !Files.isRegularFile(dir.config())) {
          continue;
        }
        Run run = recover(id, dir);
        runs.put(id, run);
        if (run.status == RunStatus.QUEUED) {
          queued.add(run);
        }
      }
    }
    queued.sort(Comparator.comparing((Run r) -> r.created));
    for (Run run : queued) {
      try {
        RunConfig config = loader.load(run.dir.config(), run.dir.root());
        allowed.check(config);
        run.config = config;
        enqueue(run, hasCheckpoints(run));
      } catch (ConfigException e) {
        run.setStatus(RunStatus.FAILED, oneLine(e.getMessage()));
      }
    }
  }

  private Run recover(String id, RunDirectory dir) throws IOException {
    Instant created = Files.getLastModifiedTime(dir.config()).toInstant();
    RunStatus status = null;
    String error = null;
    if (Files.isRegularFile(dir.status())) {
      try {
        Map<String, Object> s = Json.parseObject(Files.readString(dir.status()));
        status = RunStatus.ofJson(String.valueOf(s.get("status")));
        error = s.get("error") instanceof String e ? e : null;
        if (s.get("created") instanceof String c) {
          created = Instant.parse(c);
        }
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "Ignoring unreadable {0}: {1}", dir.status(), e);
        status = null;
      }
    }
    Run run = new Run(id, dir, created);
    run.totalSteps = totalSteps(dir);
    if (status == null) {
      List<Long> steps = dir.checkpointSteps();
      status =
          !steps.isEmpty() && steps.get(steps.size() - 1) >= run.totalSteps
              ? RunStatus.FINISHED
              : RunStatus.STOPPED;
    } else if (status == RunStatus.RUNNING || status == RunStatus.STOPPING) {
      LOG.log(
          System.Logger.Level.INFO,
          "Run {0} was {1} when the server stopped; it is stopped and can be resumed",
          id,
          status.json());
      status = RunStatus.STOPPED;
    }
    run.status = status;
    run.error = error;
    run.writeStatus();
    return run;
  }

  /** run.steps of a folder's config.yaml, without checking the files it names. */
  @SuppressWarnings("unchecked")
  private static int totalSteps(RunDirectory dir) {
    try {
      Object tree = ConfigYaml.parse(Files.readString(dir.config(), StandardCharsets.UTF_8));
      if (tree instanceof Map<?, ?> m
          && m.get("run") instanceof Map<?, ?> r
          && ((Map<String, Object>) r).get("steps") instanceof Number n) {
        return n.intValue();
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "Cannot read run.steps of {0}: {1}", dir.config(), e);
    }
    return RunConfig.defaults().run().steps();
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.replace('\n', ' ').replace('\r', ' ').strip();
  }

  /** Hears one run's progress. */
  private final class Listener implements RunListener {
    private final Run run;

    Listener(Run run) {
      this.run = run;
    }

    @Override
    public void started(RunInfo info) {
      run.totalSteps = info.totalSteps();
      run.step = info.startStep();
    }

    @Override
    public void stepped(StepMetrics m, int totalSteps) {
      run.lastMetrics = JsonLinesMetricsWriter.toJson(m);
      run.step = m.step();
      metrics.stepped(run.id, m);
      run.changed(); // after the step's metrics and evaluation lines were written
    }

    @Override
    public void evaluated(EvalResult result) {
      run.lastEval = result.toJson();
      metrics.evaluated(run.id, result);
    }

    @Override
    public void retrying(long step, int attempt, RuntimeException failure) {
      metrics.retrying(run.id);
    }

    @Override
    public void tritonCall(String method, String outcome) {
      metrics.tritonCall(run.id, method, outcome);
    }
  }

  /** One run: its folder and what the server knows about it. */
  public static final class Run {
    private final String id;
    private final RunDirectory dir;
    private final Instant created;
    private volatile RunStatus status = RunStatus.QUEUED;
    private volatile String error;
    private volatile RunConfig config;
    private volatile StopSignal stop = StopSignal.manual();
    private volatile int totalSteps;
    private volatile long step = -1;
    private volatile String lastMetrics;
    private volatile String lastEval;
    private final Sinks.Many<Long> changes = Sinks.many().multicast().directBestEffort();
    private long changeCount;

    Run(String id, RunDirectory dir, Instant created) {
      this.id = id;
      this.dir = dir;
      this.created = created;
    }

    /**
     * Returns the id: the folder's name.
     *
     * @return the id
     */
    public String id() {
      return id;
    }

    /**
     * Returns the folder.
     *
     * @return the folder
     */
    public RunDirectory directory() {
      return dir;
    }

    /**
     * Returns the status.
     *
     * @return the status
     */
    public RunStatus status() {
      return status;
    }

    /**
     * Returns the configuration, once the server has read it (submitted, queued or resumed runs).
     *
     * @return the configuration, or null
     */
    public RunConfig config() {
      return config;
    }

    /**
     * Returns the summary that {@code GET /runs/{id}} answers.
     *
     * @return the fields, in order
     */
    public Map<String, Object> summary() {
      String metricsLine = lastMetrics != null ? lastMetrics : lastLine(dir.metrics());
      String evalLine = lastEval != null ? lastEval : lastLine(dir.eval());
      Map<String, Object> metricsFields = parse(metricsLine);
      List<Long> checkpoints = dir.checkpointSteps();
      long latest =
          metricsFields != null && metricsFields.get("step") instanceof Number n
              ? n.longValue()
              : Math.max(0, step);
      RunStatus s = status;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("id", id);
      out.put("status", s.json());
      out.put("step", latest);
      out.put("totalSteps", totalSteps);
      out.put(
          "checkpointStep", checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1));
      out.put("resumable", s == RunStatus.STOPPED || s == RunStatus.FAILED);
      out.put("created", created.toString());
      out.put("error", error);
      out.put("metrics", metricsFields);
      out.put("eval", parse(evalLine));
      return out;
    }

    /**
     * Returns the summary as JSON.
     *
     * @return one JSON object
     */
    public String summaryJson() {
      return Json.write(summary());
    }

    void setStatus(RunStatus status, String error) throws IOException {
      this.status = status;
      this.error = error;
      writeStatus();
      changed();
    }

    /**
     * Returns a signal for every change of the run (a step's lines written, an evaluation, a new
     * status), for followers that read its files only then. Signals are dropped for followers that
     * are busy; a follower reads everything new when it gets to the next.
     *
     * @return the signals (the count of changes so far)
     */
    public Flux<Long> changes() {
      return changes.asFlux();
    }

    void changed() {
      synchronized (changes) {
        changes.tryEmitNext(++changeCount);
      }
    }

    private void writeStatus() throws IOException {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("status", status.json());
      s.put("error", error);
      s.put("created", created.toString());
      s.put("updated", Instant.now().toString());
      RunDirectory.writeAtomically(dir.status(), Json.write(s) + "\n");
    }

    private static Map<String, Object> parse(String line) {
      if (line == null || line.isBlank()) {
        return null;
      }
      try {
        return Json.parseObject(line);
      } catch (RuntimeException e) {
        return null; // a line being written; the next request sees it whole
      }
    }
  }

  /** The last complete line of a file, reading at most its last 64 KiB; null when none. */
  static String lastLine(Path file) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      int n = (int) Math.min(size, 1 << 16);
      byte[] tail = new byte[n];
      f.seek(size - n);
      f.readFully(tail);
      int end = n;
      while (end > 0 && tail[end - 1] != '\n') {
        end--; // a line being appended
      }
      if (end == 0) {
        return null;
      }
      int start = end - 1;
      while (start > 0 && tail[start - 1] != '\n') {
        start--;
      }
      return new String(tail, start, end - 1 - start, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }
}
