package dev.jbond.orchestrator.run;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TrainingDivergedException;
import dev.jbond.checkpoint.FileCheckpointStore;
import dev.jbond.internal.Json;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.JsonLinesMetricsWriter;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.PolicySamplers;
import dev.jbond.models.policy.ExportDirectory;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.policy.WeightMapping;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.objective.Objective;
import dev.jbond.objective.SamplePlan;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.orchestrator.config.ConfigException;
import dev.jbond.orchestrator.config.ConfigYaml;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.eval.EvalResult;
import dev.jbond.orchestrator.eval.Evaluator;
import dev.jbond.orchestrator.export.Exporter;
import dev.jbond.spi.RewardModel;
import dev.jbond.spi.WeightPublisher;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs J-BOND (or another configured objective) end to end, as {@code bond run} and {@code bond
 * demo} do: policy and anchor samples over Triton's gRPC protocol ({@link RunServing}: the embedded
 * server or a fleet), the learner on ONNX Runtime ({@link OrtPolicyLearner}) with the EMA anchor,
 * the reward on ONNX Runtime, weights published after every step; evaluation on held-out prompts,
 * checkpoints, metrics, the final export and the report. The weights after step s are served as
 * model version s + 1 (version 1: the initial weights in the servers' repository).
 *
 * <h2>Files and resuming</h2>
 *
 * A run writes its folder ({@link RunDirectory}). Checkpoints are taken every {@code
 * run.checkpoint-every} steps, at the last step, at a clean stop and when a step keeps failing;
 * each carries the step's metrics and evaluation lines ({@link RunState}) and is written before
 * those lines are appended. Resuming from the checkpoint of step s drops every line of step s or
 * later from {@code metrics.jsonl} and {@code eval.jsonl} and puts back the lines the checkpoint
 * carries, so that, whatever moment a run was killed at, the resumed run writes from step s on
 * exactly the lines an uninterrupted run writes (timings aside; with staleness 0: with staleness 1
 * the first resumed step samples afresh from the restored weights). Every random choice derives
 * from {@code run.seed} and the step.
 *
 * <h2>Failures</h2>
 *
 * A step that fails in sampling, scoring or publishing (a {@link BackendException}: for example no
 * Triton endpoint answers) is tried again {@code run.step-retries} times with growing pauses; then
 * the run checkpoints and throws {@link RunFailedException}. Endpoints that die are ejected by the
 * client and quarantined by the publisher until they hold the current weights again.
 */
@Singleton
public final class RunEngine {
  private static final System.Logger LOG = System.getLogger(RunEngine.class.getName());

  /**
   * The phases of a step's {@code timings}, in the order they happen: the loop's ({@code sample}
   * ... {@code publish}) and the engine's ({@code checkpoint}, {@code eval}); {@code total} is the
   * whole step.
   */
  public static final List<String> PHASES =
      List.of(
          "sample",
          "score",
          "logprobs",
          "learn",
          "anchor",
          "prefetchWait",
          "publish",
          "checkpoint",
          "eval");

  private final RunConfigLoader loader;

  /**
   * Creates the engine.
   *
   * @param loader reads a resumed run's {@code config.yaml}
   */
  public RunEngine(RunConfigLoader loader) {
    this.loader = Objects.requireNonNull(loader, "loader");
  }

  /**
   * What to run.
   *
   * @param config the resolved configuration
   * @param directory the run's folder
   * @param resume whether to continue from the folder's newest valid checkpoint
   * @param resumeCommand the command that resumes this run, for messages
   * @param report writes the run's report at the end; null: none
   */
  public record Request(
      RunConfig config,
      RunDirectory directory,
      boolean resume,
      String resumeCommand,
      ReportWriter report) {
    /**
     * Validates the components.
     *
     * @param config see the record description
     * @param directory see the record description
     * @param resume see the record description
     * @param resumeCommand see the record description
     * @param report see the record description
     */
    public Request {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(directory, "directory");
      Objects.requireNonNull(resumeCommand, "resumeCommand");
    }
  }

  /**
   * Runs a request to its last step, or until {@code stop} is requested.
   *
   * @param request what to run
   * @param stop requests a clean stop
   * @param listener hears progress
   * @return how the run ended
   * @throws ConfigException when the folder or configuration does not fit the request
   * @throws RunFailedException when a step keeps failing or training diverges (checkpointed)
   * @throws IOException when the run's files cannot be read or written
   */
  public RunOutcome run(Request request, StopSignal stop, RunListener listener) throws IOException {
    long started = System.nanoTime();
    RunDirectory dir = request.directory();
    Optional<RunDirectory.Lock> lock = dir.tryLock();
    if (lock.isEmpty()) {
      throw new ConfigException(
          "",
          "Expected no other process running the run in "
              + dir.root()
              + ", found one holding "
              + dir.lockFile()
              + " (wait for it to stop, or stop it first)");
    }
    try {
      return run(request, dir, stop, listener, started);
    } finally {
      lock.get().close();
    }
  }

  private RunOutcome run(
      Request request, RunDirectory dir, StopSignal stop, RunListener listener, long started)
      throws IOException {
    RunConfig config = request.config();
    prepare(config, dir, request.resume());

    PolicyFiles policy = PolicyFiles.open(Path.of(config.policy().model()));
    String referenceIdentity = policy.identity();
    checkReference(config, referenceIdentity);
    List<Prompt> all =
        CorpusFiles.readPrompts(
            Path.of(config.prompts().file()), policy.tokenizer(), policy.chatTemplate());
    Split split = split(all, config.prompts().heldOut(), config.eval().maxPrompts(), config.run());
    Objective objective =
        RunComponents.objective(config.objective(), config.run().importanceBound());
    SamplePlan plan = objective.plan();
    boolean needsReference =
        plan.comparisonRole() == PolicyRole.REFERENCE && plan.comparisonSamples() > 0;
    int cores = Runtime.getRuntime().availableProcessors();
    boolean spin = OrtSpinning.spin(null, Math.max(1, config.optimizer().threads()), cores);
    RunConfig.Run run = config.run();
    int total = run.steps();

    ExecutorService prefetch =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "jbond-prefetch");
              t.setDaemon(true);
              return t;
            });
    try (OrtPolicyLearner learner = RunComponents.openLearner(policy, config, spin);
        RunServing serving = RunServing.start(config, dir, policy, needsReference, spin, listener);
        RewardModel reward = RunComponents.reward(config.reward(), policy, spin, serving)) {
      List<String> notes = policyNotes(policy, learner, config);
      FileCheckpointStore store =
          FileCheckpointStore.open(dir.checkpoints(), run.keepCheckpoints());
      AtomicReference<JbondLoop> loopRef = new AtomicReference<>();
      RunState state =
          new RunState(
              run.seed(),
              config.prompts().batchSize(),
              referenceIdentity,
              () -> loopRef.get() == null ? Map.of() : loopRef.get().servedVersions());
      AtomicReference<StepMetrics> captured = new AtomicReference<>();
      JbondLoop.Builder builder =
          JbondLoop.builder(
                  objective,
                  serving.training(),
                  reward,
                  learner,
                  stepNumbered(serving.publisher()),
                  PromptSource.shuffled(split.train(), config.prompts().batchSize(), run.seed()))
              .optCheckpoints(store, Integer.MAX_VALUE)
              .optCheckpointExtension(state)
              .optStaleness(run.staleness())
              .optSeed(run.seed())
              .optExecutor(prefetch)
              .optTrackReferenceKl(run.trackReferenceKl())
              .optImportanceCorrection(run.importanceCorrection())
              .optReuseForward(run.reuseForward())
              .optSamplerLogProbTolerance(run.samplerLogProbTolerance())
              .optMetricsSink(captured::set);
      if (run.maxKl() != null) {
        builder.optMaxKl(run.maxKl());
      }
      try (JbondLoop loop = builder.build()) {
        loopRef.set(loop);
        Session session =
            new Session(request, config, dir, loop, learner, state, stop, listener, captured);
        long start = session.restore();
        Evaluator evaluator =
            run.evalEvery() > 0 && !split.eval().isEmpty()
                ? evaluator(config, dir, policy, split.eval(), reward, serving, referenceIdentity)
                : null;
        if (evaluator != null) {
          Optional<Tokenizer> tokenizer = policy.tokenizer();
          evaluator.onSamples(
              (step, samples, rewards) ->
                  writeSamples(dir.samples(), step, samples, rewards, tokenizer));
        }
        listener.started(
            new RunListener.RunInfo(
                dir,
                start,
                total,
                config.prompts().batchSize() * (plan.policySamples() + plan.comparisonSamples()),
                split.train().size(),
                split.eval().size(),
                serving
                    .embeddedTarget()
                    .map(t -> "embedded Triton-protocol server on " + t)
                    .orElse("Triton endpoints " + serving.client().endpointNames()),
                notes));
        return session.loop(evaluator, start, started);
      }
    } finally {
      prefetch.shutdownNow();
    }
  }

  /**
   * Publishes the weights after step s as model version s + 1, the initial weights (step 0)
   * included: a run never trusts what the servers hold when it starts (a fleet may still serve
   * another run's weights). On fresh servers, whose repository holds the initial weights as version
   * 1, a run and its resumed continuation (which republishes its restored weights) see the same
   * version numbers; servers that served other weights number new content above what they served.
   */
  private static WeightPublisher stepNumbered(WeightPublisher publisher) {
    return (learner, role, version) -> publisher.publish(learner, role, version + 1);
  }

  /** The steps of one invocation, with what they share. */
  private final class Session {
    private final Request request;
    private final RunConfig config;
    private final RunDirectory dir;
    private final JbondLoop loop;
    private final OrtPolicyLearner learner;
    private final RunState state;
    private final StopSignal stop;
    private final RunListener listener;
    private final AtomicReference<StepMetrics> captured;
    private String lastMetricsLine = "";
    private String lastEvalLine = "";
    private long lastLineStep = -1; // the step lastMetricsLine and lastEvalLine belong to
    private EvalResult lastEval;
    private long checkpointed = -1;

    Session(
        Request request,
        RunConfig config,
        RunDirectory dir,
        JbondLoop loop,
        OrtPolicyLearner learner,
        RunState state,
        StopSignal stop,
        RunListener listener,
        AtomicReference<StepMetrics> captured) {
      this.request = request;
      this.config = config;
      this.dir = dir;
      this.loop = loop;
      this.learner = learner;
      this.state = state;
      this.stop = stop;
      this.listener = listener;
      this.captured = captured;
    }

    /** Resumes the loop (when asked) and makes the metric files agree with the checkpoint. */
    long restore() throws IOException {
      long start = 0;
      if (request.resume()) {
        Optional<Long> restored = loop.resume();
        start = restored.orElse(0L);
        if (restored.isPresent()) {
          checkpointed = start;
          lastMetricsLine = state.restoredMetricsLine();
          lastEvalLine = state.restoredEvalLine();
          lastLineStep = start;
        }
      }
      RunDirectory.keepLinesBefore(dir.metrics(), start);
      RunDirectory.keepLinesBefore(dir.eval(), start);
      // samples of the restored step were written with its evaluation, before its checkpoint
      RunDirectory.keepLinesBefore(dir.samples(), start + 1);
      if (!lastMetricsLine.isEmpty()) {
        RunDirectory.appendLine(dir.metrics(), lastMetricsLine);
      }
      if (!lastEvalLine.isEmpty()) {
        RunDirectory.appendLine(dir.eval(), lastEvalLine);
      }
      List<EvalResult> evals = EvalResult.read(dir.eval());
      lastEval = evals.isEmpty() ? null : evals.get(evals.size() - 1);
      return start;
    }

    RunOutcome loop(Evaluator evaluator, long start, long startedNanos) throws IOException {
      RunConfig.Run run = config.run();
      int total = run.steps();
      if (evaluator != null
          && start % run.evalEvery() == 0
          && (lastEval == null || lastEval.step() != start)) {
        EvalResult result = evaluate(evaluator, start);
        RunDirectory.appendLine(dir.eval(), result.toJson());
        lastEvalLine = start == 0 ? "" : result.toJson();
      }
      while (learner.stepCount() < total && !stop.requested()) {
        StepMetrics raw = step();
        if (raw == null) {
          break; // stopped while waiting to retry
        }
        long s = raw.step();
        Map<String, Double> timings = new LinkedHashMap<>(raw.timings());
        String evalLine = "";
        if (evaluator != null && (s % run.evalEvery() == 0 || s == total)) {
          long t = System.nanoTime();
          EvalResult result = evaluate(evaluator, s);
          timings.put("eval", (System.nanoTime() - t) / 1e6);
          evalLine = result.toJson();
        }
        StepMetrics m = withTimings(raw, timings);
        if (s % run.checkpointEvery() == 0 || s == total) {
          state.pending(JsonLinesMetricsWriter.toJson(m), evalLine);
          long t = System.nanoTime();
          loop.checkpoint();
          checkpointed = s;
          timings.put("checkpoint", (System.nanoTime() - t) / 1e6);
          m = withTimings(raw, timings);
        }
        lastMetricsLine = JsonLinesMetricsWriter.toJson(m);
        lastEvalLine = evalLine;
        lastLineStep = s;
        RunDirectory.appendLine(dir.metrics(), lastMetricsLine);
        if (!evalLine.isEmpty()) {
          RunDirectory.appendLine(dir.eval(), evalLine);
        }
        listener.stepped(m, total);
      }
      long step = learner.stepCount();
      if (checkpointed != step) {
        checkpoint();
      }
      boolean finished = step >= total;
      Optional<Path> export = Optional.empty();
      Optional<Path> report = Optional.empty();
      if (finished) {
        export = Optional.of(Exporter.exportRun(learner, config, dir.export(), step));
      }
      if (request.report() != null && (finished || step > 0)) {
        try {
          report = Optional.of(request.report().write(List.of(dir.root()), dir.root()));
        } catch (IOException | RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "Cannot write the run report: {0}", e.toString());
        }
      }
      return new RunOutcome(
          finished ? RunOutcome.Status.FINISHED : RunOutcome.Status.STOPPED,
          step,
          total,
          checkpointed,
          Optional.ofNullable(lastEval),
          report,
          export,
          (System.nanoTime() - startedNanos) / 1e9);
    }

    /** One training step, retried on backend failures; null when a stop came during a pause. */
    private StepMetrics step() {
      int retries = config.run().stepRetries();
      for (int attempt = 1; ; attempt++) {
        long before = learner.stepCount();
        try {
          captured.set(null);
          loop.step();
          StepMetrics m = captured.get();
          if (m == null) {
            throw new IllegalStateException("Expected the step's metrics from the loop");
          }
          return m;
        } catch (TrainingDivergedException e) {
          failed(before, attempt, e, "training diverged");
        } catch (BackendException | UncheckedIOException e) {
          if (attempt > retries) {
            failed(before, attempt, e, "it kept failing");
          }
          listener.retrying(before, attempt, e);
          if (!pause(attempt)) {
            return null;
          }
        }
      }
    }

    private EvalResult evaluate(Evaluator evaluator, long step) {
      int retries = config.run().stepRetries();
      for (int attempt = 1; ; attempt++) {
        try {
          EvalResult result = evaluator.evaluate(step, learner);
          lastEval = result;
          listener.evaluated(result);
          return result;
        } catch (BackendException e) {
          if (attempt > retries) {
            failed(step, attempt, e, "its evaluation kept failing");
          }
          listener.retrying(step, attempt, e);
          if (!pause(attempt)) {
            failed(step, attempt, e, "a stop was requested while its evaluation was retried");
          }
        }
      }
    }

    /** Sleeps before retry {@code attempt}; false when a stop was requested meanwhile. */
    private boolean pause(int attempt) {
      long end =
          System.nanoTime() + Math.min(30_000L, 1000L << Math.min(attempt - 1, 5)) * 1_000_000L;
      while (System.nanoTime() < end) {
        if (stop.requested()) {
          return false;
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return !stop.requested();
    }

    private void failed(long step, int attempts, RuntimeException e, String why) {
      String where;
      try {
        long at = checkpoint();
        where = "the run is checkpointed at step " + at + " in " + dir.root();
      } catch (RuntimeException checkpointFailure) {
        e.addSuppressed(checkpointFailure);
        where =
            "no new checkpoint could be written ("
                + checkpointFailure.getMessage()
                + "); the last one is step "
                + checkpointed;
      }
      throw new RunFailedException(
          "Step "
              + (step + 1)
              + " failed after "
              + attempts
              + (attempts == 1 ? " attempt" : " attempts")
              + " ("
              + why
              + "): "
              + oneLine(e.getMessage())
              + "; "
              + where
              + "; continue with: "
              + request.resumeCommand(),
          e);
    }

    /** Checkpoints the learner's current step with the last lines; returns the step. */
    private long checkpoint() {
      long step = learner.stepCount();
      boolean linesBelong = lastLineStep == step;
      state.pending(linesBelong ? lastMetricsLine : "", linesBelong ? lastEvalLine : "");
      loop.checkpoint();
      checkpointed = step;
      return step;
    }
  }

  /**
   * The loop's metrics with the engine's timings: {@code eval} added, {@code checkpoint} replaced
   * (the engine checkpoints, not the loop), and {@code total} grown by both.
   */
  private static StepMetrics withTimings(StepMetrics m, Map<String, Double> timings) {
    Map<String, Double> t = new LinkedHashMap<>(timings);
    double total =
        m.timings().getOrDefault("total", 0.0)
            + t.getOrDefault("eval", 0.0)
            + t.getOrDefault("checkpoint", 0.0)
            - m.timings().getOrDefault("checkpoint", 0.0);
    t.remove("total");
    t.put("total", total);
    return new StepMetrics(
        m.step(),
        m.prompts(),
        m.policyVersion(),
        m.anchorVersion(),
        m.staleness(),
        m.rewardMean(),
        m.anchorRewardMean(),
        m.winRate(),
        m.klAnchor(),
        m.klReference(),
        m.lossForward(),
        m.lossBackward(),
        m.lossRegularizer(),
        m.loss(),
        m.entropy(),
        m.completionLength(),
        m.gradientNorm(),
        m.learningRate(),
        t,
        m.extras());
  }

  private Evaluator evaluator(
      RunConfig config,
      RunDirectory dir,
      PolicyFiles policy,
      List<Prompt> prompts,
      RewardModel reward,
      RunServing serving,
      String referenceIdentity)
      throws IOException {
    Evaluator.ReferenceSamples reference;
    try (DirectSampler sampler =
        DirectSampler.builder(policy, RunComponents.training(config.sampling(), policy))
            .optSessionConfig(RunComponents.session(1, false))
            .build()) {
      reference =
          Evaluator.referenceSamples(
              dir.evalReference(),
              prompts,
              config.eval().referenceSamples(),
              sampler,
              reward,
              config.run().seed(),
              referenceIdentity + " max-new-tokens " + config.sampling().maxNewTokens(),
              (path, text) -> {
                try {
                  RunDirectory.writeAtomically(path, text);
                } catch (IOException e) {
                  throw new UncheckedIOException("Cannot write " + path + ": " + e.getMessage(), e);
                }
              });
    }
    return new Evaluator(
        reference,
        serving.evaluation(),
        reward,
        config.eval().samplesPerPrompt(),
        config.run().seed());
  }

  /** Refuses a directory that holds another run, and writes (or checks) {@code config.yaml}. */
  private void prepare(RunConfig config, RunDirectory dir, boolean resume) throws IOException {
    List<Long> steps = dir.checkpointSteps();
    if (!resume && !steps.isEmpty()) {
      throw new ConfigException(
          "",
          "Expected an empty run directory, found checkpoints of steps "
              + steps
              + " in "
              + dir.root()
              + " (pass --resume to continue that run, or choose another --out)");
    }
    if (resume && Files.exists(dir.config())) {
      RunConfig previous = loader.load(dir.config(), dir.root());
      String difference = firstDifference(ConfigYaml.tree(previous), ConfigYaml.tree(config), "");
      if (difference != null) {
        throw new ConfigException(
            difference,
            "expected the value this run started with ("
                + valueAt(ConfigYaml.tree(previous), difference)
                + ", in "
                + dir.config()
                + ") to resume it, found "
                + valueAt(ConfigYaml.tree(config), difference)
                + " (only run.steps may change)");
      }
    }
    Files.createDirectories(dir.root());
    RunDirectory.writeAtomically(dir.config(), ConfigYaml.write(config));
  }

  /** The first key path whose value differs, run.steps aside; null when none does. */
  @SuppressWarnings("unchecked")
  static String firstDifference(Map<String, Object> a, Map<String, Object> b, String path) {
    for (Map.Entry<String, Object> e : a.entrySet()) {
      String key = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      if (key.equals("run.steps")) {
        continue;
      }
      Object other = b.get(e.getKey());
      if (e.getValue() instanceof Map<?, ?> m && other instanceof Map<?, ?> o) {
        String inner = firstDifference((Map<String, Object>) m, (Map<String, Object>) o, key);
        if (inner != null) {
          return inner;
        }
      } else if (!Objects.equals(e.getValue(), other)) {
        return key;
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Object valueAt(Map<String, Object> tree, String path) {
    Object node = tree;
    for (String part : path.split("\\.")) {
      node = node instanceof Map<?, ?> m ? ((Map<String, Object>) m).get(part) : null;
    }
    return node;
  }

  /** The reference must be the policy's initial weights (the learner's frozen copy). */
  private static void checkReference(RunConfig config, String policyIdentity) throws IOException {
    String reference = config.reference().model();
    if (reference == null) {
      return;
    }
    if (!PolicyFiles.open(Path.of(reference)).identity().equals(policyIdentity)) {
      throw new ConfigException(
          "reference.model",
          "expected the weights the policy starts from (a reference other than the initial"
              + " policy is not supported yet), found other weights in "
              + reference);
    }
  }

  /**
   * What the user should know about an export's policy: the mapping from the learner's weights to
   * the sampling graph's (derived here, so that an unmatched weight fails the run before its first
   * step), and the cost of sampling without a past-key/values graph.
   */
  static List<String> policyNotes(PolicyFiles policy, OrtPolicyLearner learner, RunConfig config)
      throws IOException {
    List<String> notes = new ArrayList<>();
    if (policy instanceof ExportDirectory export) {
      WeightMapping mapping;
      try {
        mapping = export.mapping(learner.servedWeights(PolicyRole.POLICY).keySet());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("policy.model", e.getMessage());
      }
      List<String> lines = mapping.describe();
      if (!lines.isEmpty()) {
        notes.add(
            "Weight mapping "
                + export.fullGraph().getFileName()
                + " -> "
                + export.samplingGraph().getFileName()
                + " ("
                + lines.size()
                + " of "
                + mapping.entries().size()
                + " weights named differently): "
                + String.join("; ", lines));
      }
    }
    String cost = PolicySamplers.costNote(policy, config.sampling().maxNewTokens());
    if (!cost.isEmpty()) {
      notes.add(cost);
    }
    return notes;
  }

  /** Appends one line per sample: ids, decoded text when there is a tokenizer, and reward. */
  static void writeSamples(
      Path file,
      long step,
      List<Generation> samples,
      double[] rewards,
      Optional<Tokenizer> tokenizer) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < samples.size(); i++) {
      Generation g = samples.get(i);
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("step", step);
      line.put("id", g.prompt().id());
      line.put("prompt", g.prompt().tokens().toList());
      tokenizer.ifPresent(t -> line.put("prompt_text", t.decodeLenient(g.prompt().tokens())));
      line.put("completion", g.completion().toList());
      tokenizer.ifPresent(t -> line.put("text", t.decodeLenient(g.completion())));
      line.put("reward", rewards[i]);
      lines.append(Json.write(line));
      if (i + 1 < samples.size()) {
        lines.append('\n');
      }
    }
    try {
      RunDirectory.appendLine(file, lines.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** The training and held-out prompts. */
  record Split(List<Prompt> train, List<Prompt> eval) {}

  /**
   * Splits prompts by a seeded shuffle: the first {@code round(n * heldOut)} (at least one when
   * {@code heldOut > 0}) are held out, capped at {@code maxPrompts} when it is positive.
   */
  static Split split(List<Prompt> all, double heldOut, int maxPrompts, RunConfig.Run run) {
    if (all.size() < 2 && heldOut > 0) {
      throw new ConfigException(
          "prompts.file",
          "expected at least 2 prompts to hold some out for evaluation, found " + all.size());
    }
    if (all.isEmpty()) {
      throw new ConfigException("prompts.file", "expected at least one prompt, found none");
    }
    List<Prompt> shuffled = new ArrayList<>(all);
    SplittableRandom random = new SplittableRandom(run.seed() ^ 0x5EED5EEDL);
    for (int i = shuffled.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Prompt t = shuffled.get(i);
      shuffled.set(i, shuffled.get(j));
      shuffled.set(j, t);
    }
    int held = heldOut == 0 ? 0 : Math.max(1, (int) Math.round(all.size() * heldOut));
    held = Math.min(held, all.size() - 1);
    List<Prompt> eval = new ArrayList<>(shuffled.subList(0, held));
    List<Prompt> train = new ArrayList<>(shuffled.subList(held, shuffled.size()));
    if (maxPrompts > 0 && eval.size() > maxPrompts) {
      eval = new ArrayList<>(eval.subList(0, maxPrompts));
    }
    return new Split(List.copyOf(train), List.copyOf(eval));
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.replace('\n', ' ').replace('\r', ' ').strip();
  }
}
