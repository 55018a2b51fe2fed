package dev.jbond.loop;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TrainingDivergedException;
import dev.jbond.internal.Checks;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.objective.Objective;
import dev.jbond.objective.ObjectiveOutput;
import dev.jbond.objective.PromptGroup;
import dev.jbond.objective.SamplePlan;
import dev.jbond.objective.ScoredSample;
import dev.jbond.spi.CheckpointStore;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightPublisher;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The training loop of J-BOND and its relatives, written against the SPI.
 *
 * <p>One {@link #step()}:
 *
 * <ol>
 *   <li>take the step's prompts from the {@link PromptSource};
 *   <li>sample per the objective's {@link SamplePlan}: policy samples and comparison (anchor or
 *       reference) samples, each as one batched request;
 *   <li>score all samples with one reward request;
 *   <li>compute the sequence log-probabilities the objective needs, plus those for the metrics: the
 *       policy's in one forward pass over what the step trains on ({@link
 *       PolicyLearner#prepareStep}, which the step's backward pass reuses), the anchor's (and the
 *       reference's when tracked) on their own; at staleness 0, check that the sampler's
 *       log-probabilities of the policy samples agree with the learner's (the served weights are
 *       the trained ones);
 *   <li>compute the weights ({@link Objective#weights}) and take one optimizer step;
 *   <li>update the anchor per the objective's schedule;
 *   <li>publish the new policy (and anchor) versions, emit {@link StepMetrics}, and checkpoint
 *       every {@code checkpointEvery} steps.
 * </ol>
 *
 * <p><b>Staleness.</b> With staleness 0, each step samples from the weights of the previous step.
 * With staleness 1, the samples of step t+1 are drawn (on the executor) while step t computes
 * log-probabilities and learns; they come from the weights before step t's update, one optimizer
 * step old. Publishing waits for that sampling to finish, so every sample batch comes from exactly
 * one model version and runs are deterministic for a given seed.
 *
 * <p><b>Failures.</b> A failure in sampling, scoring or log-probabilities leaves the run unchanged:
 * calling {@link #step()} again retries the step with fresh samples. A failure of the learner
 * propagates ({@link TrainingDivergedException} for NaN losses and runaway KL). A failure while
 * publishing after the optimizer step is logged, the step's metrics are emitted as usual, and the
 * next {@link #step()} publishes before it samples (failing, and so retryable, while it cannot).
 * Nothing is lost: the checkpoint store is atomic, and {@link #resume()} restarts from the newest
 * checkpoint (with staleness 1, the first resumed step samples afresh from the restored weights).
 *
 * <p>Lifecycle: build, optionally {@link #resume()}, then {@link #step()} or {@link #run(int)},
 * then {@link #close()} (which cancels prefetching; it does not close the SPI components, which
 * belong to the caller). Not thread-safe: drive a loop from one thread.
 */
public final class JbondLoop implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(JbondLoop.class.getName());

  /**
   * The default tolerance of {@link Builder#optSamplerLogProbTolerance}, {@value} nats per
   * sequence: float32 serving.
   */
  public static final double DEFAULT_SAMPLER_LOGPROB_TOLERANCE = 0.01;

  /** Format 1: learner snapshot only; format 2: then a length-prefixed extension block. */
  private static final int CHECKPOINT_FORMAT = 2;

  private final Objective objective;
  private final PolicySampler sampler;
  private final RewardModel reward;
  private final PolicyLearner learner;
  private final WeightPublisher publisher;
  private final PromptSource prompts;
  private final CheckpointStore checkpoints;
  private final int checkpointEvery;
  private final Consumer<StepMetrics> metricsSink;
  private final int staleness;
  private final long seed;
  private final LongSupplier ticker;
  private final Executor executor;
  private final boolean trackReferenceKl;
  private final boolean trackForwardLoss;
  private final boolean importanceCorrection;
  private final boolean reuseForward;
  private final double samplerLogProbTolerance;
  private final double maxKl;
  private final CheckpointExtension extension;

  private boolean started;
  private boolean closed;
  private boolean publishPending;
  private long policyVersion = -1;
  private long anchorVersion = -1;
  private final Map<PolicyRole, ModelVersion> served = new EnumMap<>(PolicyRole.class);
  private CompletableFuture<Rollout> prefetch;

  private JbondLoop(Builder b) {
    this.objective = b.objective;
    this.sampler = b.sampler;
    this.reward = b.reward;
    this.learner = b.learner;
    this.publisher = b.publisher;
    this.prompts = b.prompts;
    this.checkpoints = b.checkpoints;
    this.checkpointEvery = b.checkpointEvery;
    this.metricsSink = b.metricsSink;
    this.staleness = b.staleness;
    this.seed = b.seed;
    this.ticker = b.ticker;
    this.executor = b.executor;
    this.trackReferenceKl = b.trackReferenceKl;
    this.trackForwardLoss = b.trackForwardLoss;
    this.importanceCorrection = b.importanceCorrection;
    this.reuseForward = b.reuseForward;
    this.samplerLogProbTolerance = b.samplerLogProbTolerance;
    this.maxKl = b.maxKl;
    this.extension = b.extension;
  }

  /**
   * Returns a builder.
   *
   * @param objective the objective
   * @param sampler draws policy, anchor and reference samples
   * @param reward scores samples
   * @param learner holds the weights and trains
   * @param publisher makes new versions servable to the sampler
   * @param prompts supplies each step's prompts
   * @return the builder
   */
  public static Builder builder(
      Objective objective,
      PolicySampler sampler,
      RewardModel reward,
      PolicyLearner learner,
      WeightPublisher publisher,
      PromptSource prompts) {
    return new Builder(objective, sampler, reward, learner, publisher, prompts);
  }

  /**
   * Returns the objective.
   *
   * @return the objective
   */
  public Objective objective() {
    return objective;
  }

  /**
   * Restores the learner from the newest checkpoint, if there is one, and republishes its weights.
   * Call before the first {@link #step()}.
   *
   * <p>A checkpoint that is corrupt or does not match the learner is skipped with a warning, and
   * the one before it is tried.
   *
   * @return the restored step, or empty when the store holds no checkpoint
   * @throws IllegalStateException when no checkpoint store is configured or steps were already run
   * @throws UncheckedIOException when checkpoints exist but none can be restored
   */
  public Optional<Long> resume() {
    checkOpen();
    Checks.checkState(checkpoints != null, "Cannot resume: no checkpoint store is configured");
    Checks.checkState(!started, "Cannot resume after steps were run");
    List<Long> steps;
    try {
      steps = checkpoints.steps();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list checkpoints: " + e.getMessage(), e);
    }
    IOException last = null;
    for (int i = steps.size() - 1; i >= 0; i--) {
      long step = steps.get(i);
      try {
        restoreFrom(step);
        publishAll();
        started = true;
        return Optional.of(step);
      } catch (IOException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "Checkpoint of step {0} is unusable ({1}); trying the previous one",
            step,
            e.getMessage());
        last = e;
      }
    }
    if (last != null) {
      throw new UncheckedIOException(
          "Cannot resume: none of the checkpoints "
              + steps
              + " is usable, last error: "
              + last.getMessage(),
          last);
    }
    return Optional.empty();
  }

  /**
   * Restores only the learner from a checkpoint that a loop wrote, for tools that read a run's
   * weights (export, evaluation) without running it.
   *
   * @param store the run's checkpoint store
   * @param step a step listed by the store
   * @param learner a learner of the run's model, restored in place
   * @throws IOException when the checkpoint is unreadable or not a loop checkpoint of that step
   */
  public static void restoreLearner(CheckpointStore store, long step, PolicyLearner learner)
      throws IOException {
    try (InputStream in = store.open(step);
        DataInputStream data = new DataInputStream(in)) {
      readHeader(data, step);
      data.readUTF(); // the objective that wrote it
      learner.restore(data);
      if (learner.stepCount() != step) {
        throw new IOException(
            "Expected the learner snapshot at step " + step + ", found " + learner.stepCount());
      }
    }
  }

  /** Reads the format and step of a checkpoint; returns the format. */
  private static int readHeader(DataInputStream data, long step) throws IOException {
    int format = data.readInt();
    if (format != 1 && format != CHECKPOINT_FORMAT) {
      throw new IOException(
          "Expected loop checkpoint format 1 or " + CHECKPOINT_FORMAT + ", found " + format);
    }
    long written = data.readLong();
    if (written != step) {
      throw new IOException("Expected loop state of step " + step + ", found " + written);
    }
    return format;
  }

  private void restoreFrom(long step) throws IOException {
    try (InputStream in = checkpoints.open(step);
        DataInputStream data = new DataInputStream(in)) {
      int format = readHeader(data, step);
      String writtenBy = data.readUTF();
      if (!writtenBy.equals(objective.toString())) {
        LOG.log(
            System.Logger.Level.WARNING,
            "Resuming step {0} written by objective {1} with objective {2}",
            step,
            writtenBy,
            objective);
      }
      learner.restore(data);
      if (learner.stepCount() != step) {
        throw new IOException(
            "Expected the learner snapshot at step " + step + ", found " + learner.stepCount());
      }
      int length = format == 1 ? -1 : data.readInt();
      if (extension != null) {
        if (length < 0) {
          throw new IOException(
              "Expected the run state written beside the learner in the checkpoint of step "
                  + step
                  + ", found a checkpoint without it");
        }
        byte[] block = data.readNBytes(length);
        if (block.length != length) {
          throw new IOException(
              "Expected " + length + " bytes of run state, found " + block.length);
        }
        extension.read(step, new DataInputStream(new ByteArrayInputStream(block)));
      }
    }
  }

  /**
   * Runs {@code steps} training steps.
   *
   * @param steps how many, {@code >= 0}
   * @return the metrics of each step
   */
  public List<StepMetrics> run(int steps) {
    Checks.checkAtLeast(steps, 0, "steps");
    List<StepMetrics> out = new ArrayList<>(steps);
    for (int i = 0; i < steps; i++) {
      out.add(step());
    }
    return out;
  }

  /**
   * Runs one training step (see the class description).
   *
   * @return the step's metrics
   * @throws TrainingDivergedException when the loss is not finite or the KL to the anchor exceeds
   *     the configured limit
   */
  public StepMetrics step() {
    checkOpen();
    if (!started) {
      publishAll();
      started = true;
    } else if (publishPending) {
      publishAll();
    }
    long t0 = ticker.getAsLong();
    long index = learner.stepCount();
    Rollout rollout;
    try {
      rollout = takeRollout(index);
      if (staleness > 0) {
        long next = index + 1;
        prefetch = CompletableFuture.supplyAsync(() -> collect(next), executor);
      }
    } catch (RuntimeException e) {
      cancelPrefetch();
      throw e;
    }
    try {
      return learn(index, rollout, t0);
    } catch (RuntimeException e) {
      cancelPrefetch();
      throw e;
    }
  }

  private StepMetrics learn(long index, Rollout rollout, long t0) {
    SamplePlan plan = objective.plan();
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("sample", rollout.sampleMillis);
    timings.put("score", rollout.scoreMillis);

    long t = ticker.getAsLong();
    Set<PolicyRole> roles = EnumSet.copyOf(plan.policyLogProbRoles());
    roles.add(PolicyRole.ANCHOR);
    if (trackReferenceKl) {
      roles.add(PolicyRole.REFERENCE);
    }
    boolean anchorCompared =
        plan.comparisonRole() == PolicyRole.ANCHOR && !rollout.comparison.isEmpty();
    boolean correct = staleness > 0 && importanceCorrection;
    Map<PolicyRole, double[]> policyLogProbs = new LinkedHashMap<>();
    double[] comparisonLogPolicy = null;
    double[] comparisonLogAnchor = null;
    if (reuseForward) {
      // the policy's forward pass over what the step trains on, once: for the weights and,
      // kept by the learner, for the step's backward pass
      int n = rollout.policy.size();
      List<Generation> trained = new ArrayList<>(rollout.policy);
      List<Integer> trainedComparisons = trainedComparisons(rollout, plan);
      for (int c : trainedComparisons) {
        trained.add(rollout.comparison.get(c));
      }
      double[] forward = learner.prepareStep(trained);
      policyLogProbs.put(PolicyRole.POLICY, Arrays.copyOf(forward, n));
      if (plan.comparisonPolicyLogProbs() && trackForwardLoss && !trainedComparisons.isEmpty()) {
        comparisonLogPolicy = new double[rollout.comparison.size()];
        Arrays.fill(comparisonLogPolicy, Double.NaN);
        for (int k = 0; k < trainedComparisons.size(); k++) {
          comparisonLogPolicy[trainedComparisons.get(k)] = forward[n + k];
        }
      }
      // other roles: one call each, the anchor's over the anchor samples too when correcting
      for (PolicyRole role : roles) {
        if (role == PolicyRole.POLICY) {
          continue;
        }
        if (role == PolicyRole.ANCHOR && correct && anchorCompared) {
          List<Generation> both = new ArrayList<>(rollout.policy);
          both.addAll(rollout.comparison);
          double[] all = learner.logProbs(role, both);
          policyLogProbs.put(role, Arrays.copyOf(all, n));
          comparisonLogAnchor = Arrays.copyOfRange(all, n, all.length);
        } else {
          policyLogProbs.put(role, learner.logProbs(role, rollout.policy));
        }
      }
    } else {
      // the paper's order: every forward pass on its own, the step's included
      for (PolicyRole role : roles) {
        policyLogProbs.put(role, learner.logProbs(role, rollout.policy));
      }
      comparisonLogPolicy =
          plan.comparisonPolicyLogProbs() && trackForwardLoss && !rollout.comparison.isEmpty()
              ? learner.logProbs(PolicyRole.POLICY, rollout.comparison)
              : null;
      if (correct && anchorCompared) {
        comparisonLogAnchor = learner.logProbs(PolicyRole.ANCHOR, rollout.comparison);
      }
    }
    Stale stale = null;
    if (correct) {
      stale =
          new Stale(
              behaviour(rollout.policy, index),
              anchorCompared ? behaviour(rollout.comparison, index) : null,
              comparisonLogAnchor);
    }
    timings.put("logprobs", millisSince(t));

    for (Map.Entry<PolicyRole, double[]> e : policyLogProbs.entrySet()) {
      checkFinite(e.getValue(), e.getKey(), rollout.policy, index);
    }
    double syncError = checkSync(rollout, policyLogProbs.get(PolicyRole.POLICY), index);
    List<PromptGroup> groups =
        groups(rollout, plan, policyLogProbs, comparisonLogPolicy, roles, stale);
    ObjectiveOutput out = objective.weights(groups);
    double klAnchor = meanDifference(policyLogProbs, PolicyRole.ANCHOR);
    if (klAnchor > maxKl) {
      throw new TrainingDivergedException(
          index + 1, "KL(pi || pi_anchor) estimate " + klAnchor + " exceeds the limit " + maxKl);
    }

    t = ticker.getAsLong();
    StepOutcome outcome = learner.step(out.batch());
    timings.put("learn", millisSince(t));

    t = ticker.getAsLong();
    double eta = objective.anchorSchedule().etaAfterStep(outcome.step());
    if (eta > 0) {
      learner.updateAnchor(eta);
    }
    timings.put("anchor", millisSince(t));

    if (prefetch != null) {
      t = ticker.getAsLong();
      try {
        prefetch.join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        // the next step samples afresh; this step's learning stands
        LOG.log(
            System.Logger.Level.WARNING,
            "Prefetching the samples of step {0} failed ({1}); they will be drawn again",
            index + 2,
            String.valueOf(e.getCause() == null ? e : e.getCause()));
        prefetch = null;
      }
      timings.put("prefetchWait", millisSince(t));
    }

    t = ticker.getAsLong();
    try {
      publish(eta > 0);
    } catch (RuntimeException e) {
      // the step's learning stands and its metrics are emitted; the next step publishes first
      LOG.log(
          System.Logger.Level.WARNING,
          "Publishing the weights of step {0} failed ({1}); the next step publishes them first",
          outcome.step(),
          String.valueOf(e.getMessage()));
    }
    timings.put("publish", millisSince(t));

    t = ticker.getAsLong();
    if (checkpoints != null && outcome.step() % checkpointEvery == 0) {
      checkpoint(outcome.step());
    }
    timings.put("checkpoint", millisSince(t));
    timings.put("total", millisSince(t0));

    StepMetrics metrics =
        metrics(rollout, groups, policyLogProbs, out, outcome, klAnchor, index, timings, syncError);
    metricsSink.accept(metrics);
    return metrics;
  }

  private static void checkFinite(
      double[] logProbs, PolicyRole role, List<Generation> samples, long index) {
    for (int i = 0; i < logProbs.length; i++) {
      if (!Double.isFinite(logProbs[i])) {
        throw new TrainingDivergedException(
            index + 1,
            "log pi_"
                + role.label()
                + " of policy sample "
                + i
                + " (prompt '"
                + samples.get(i).prompt().id()
                + "') is "
                + logProbs[i]);
      }
    }
  }

  private Rollout takeRollout(long index) {
    if (prefetch != null) {
      CompletableFuture<Rollout> f = prefetch;
      prefetch = null;
      try {
        Rollout r = f.join();
        if (r.step == index) {
          return r;
        }
      } catch (CompletionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw e;
      }
    }
    return collect(index);
  }

  /** Samples and scores the rollout of step {@code index}; may run on the executor. */
  private Rollout collect(long index) {
    SamplePlan plan = objective.plan();
    List<Prompt> batch = prompts.batch(index);
    Checks.checkState(
        batch != null && !batch.isEmpty(), "Expected prompts for step %d, found none", index);
    long t = ticker.getAsLong();
    List<Generation> policy =
        checkedSample(batch, plan.policySamples(), PolicyRole.POLICY, mix(index, 1));
    List<Generation> comparison =
        plan.comparisonSamples() == 0
            ? List.of()
            : checkedSample(batch, plan.comparisonSamples(), plan.comparisonRole(), mix(index, 2));
    double sampleMillis = millisSince(t);
    long sampledWeightsStep = policyVersion;

    t = ticker.getAsLong();
    List<Generation> all = new ArrayList<>(policy.size() + comparison.size());
    all.addAll(policy);
    all.addAll(comparison);
    double[] rewards = reward.score(all);
    Checks.checkState(
        rewards != null && rewards.length == all.size(),
        "Expected %d rewards from the reward model, found %s",
        all.size(),
        rewards == null ? "null" : rewards.length);
    for (int i = 0; i < rewards.length; i++) {
      if (!Double.isFinite(rewards[i])) {
        Generation g = all.get(i);
        throw new IllegalStateException(
            "Expected a finite reward, found "
                + rewards[i]
                + " for sample "
                + i
                + " of prompt '"
                + g.prompt().id()
                + "' from "
                + g.model());
      }
    }
    return new Rollout(
        index,
        batch,
        policy,
        comparison,
        rewards,
        sampleMillis,
        millisSince(t),
        sampledWeightsStep);
  }

  private List<Generation> checkedSample(
      List<Prompt> batch, int perPrompt, PolicyRole role, long requestSeed) {
    List<Generation> out = sampler.sample(batch, perPrompt, role, requestSeed);
    int expected = batch.size() * perPrompt;
    Checks.checkState(
        out != null && out.size() == expected,
        "Expected %d %s samples (%d prompts x %d), found %s",
        expected,
        role.label(),
        batch.size(),
        perPrompt,
        out == null ? "null" : out.size());
    for (int i = 0; i < expected; i++) {
      Prompt p = batch.get(i / perPrompt);
      Checks.checkState(
          out.get(i).prompt().id().equals(p.id()),
          "Expected %s sample %d to complete prompt '%s', found prompt '%s'",
          role.label(),
          i,
          p.id(),
          out.get(i).prompt().id());
    }
    return List.copyOf(out);
  }

  /**
   * What importance weighting of stale samples needs: the behaviour log-probabilities of the policy
   * and comparison samples, and the current anchor's log-probabilities of the comparison samples
   * (null when the comparison is not the anchor).
   */
  private record Stale(double[] policy, double[] comparison, double[] comparisonLogAnchor) {}

  /** The sampler's log-probabilities of each generation, summed over its tokens. */
  private static double[] behaviour(List<Generation> generations, long index) {
    double[] out = new double[generations.size()];
    for (int i = 0; i < out.length; i++) {
      Generation g = generations.get(i);
      int row = i;
      out[i] =
          g.engineLogProbs()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "Expected the sampler's log-probabilities of every sample to importance"
                              + " weight stale samples (staleness 1) at step "
                              + (index + 1)
                              + ", found none for sample "
                              + row
                              + " of prompt '"
                              + g.prompt().id()
                              + "' (use a sampler that returns them, or turn the correction off)"))
              .sum();
    }
    return out;
  }

  /**
   * Compares the sampler's log-probabilities of the policy samples with the learner's, when the
   * samples were drawn from the weights being trained (staleness 0, and every sample carries the
   * sampler's per-token log-probabilities): returns the largest absolute difference of a sequence's
   * log-probability, or NaN when there is nothing to compare. Past the tolerance the served weights
   * are not the trained ones (a publish that did not take, a replica that missed it): the step
   * fails before anything learns from the samples, and the next attempt publishes both roles anew.
   */
  private double checkSync(Rollout rollout, double[] learnerLogProbs, long index) {
    if (rollout.sampledWeightsStep != index
        || rollout.policy.stream().anyMatch(g -> g.engineLogProbs().isEmpty())) {
      return Double.NaN;
    }
    double worst = 0;
    int row = 0;
    for (int i = 0; i < learnerLogProbs.length; i++) {
      double d =
          Math.abs(rollout.policy.get(i).engineLogProbs().orElseThrow().sum() - learnerLogProbs[i]);
      if (!(d <= worst)) {
        worst = d;
        row = i;
      }
    }
    if (!(worst <= samplerLogProbTolerance)) {
      Generation g = rollout.policy.get(row);
      policyVersion = -1;
      anchorVersion = -1;
      publishPending = true;
      throw new dev.jbond.BackendException(
          dev.jbond.BackendException.Code.OUT_OF_SYNC,
          String.format(
              java.util.Locale.ROOT,
              "Expected the policy samples of step %d from the weights of step %d, found samples"
                  + " served as %s whose log-probability differs from the learner's by %.4g nats"
                  + " (sample %d of prompt '%s'; tolerance %.4g): the served weights are not the"
                  + " trained ones; both roles are published again before the step is retried",
              index + 1,
              index,
              g.model(),
              worst,
              row,
              g.prompt().id(),
              samplerLogProbTolerance),
          null);
    }
    return worst;
  }

  /** Indices into the rollout's comparison samples that the objective will train on. */
  private List<Integer> trainedComparisons(Rollout r, SamplePlan plan) {
    int m = plan.comparisonSamples();
    List<Integer> out = new ArrayList<>();
    if (m == 0 || r.comparison.isEmpty()) {
      return out;
    }
    for (int p = 0; p < r.prompts.size(); p++) {
      double[] rewards = new double[m];
      for (int j = 0; j < m; j++) {
        rewards[j] = r.rewards[r.policy.size() + p * m + j];
      }
      for (int j : objective.trainedComparisons(rewards)) {
        out.add(p * m + j);
      }
    }
    return out;
  }

  private static List<PromptGroup> groups(
      Rollout r,
      SamplePlan plan,
      Map<PolicyRole, double[]> logProbs,
      double[] comparisonLogPolicy,
      Set<PolicyRole> roles,
      Stale stale) {
    int k = plan.policySamples();
    int m = plan.comparisonSamples();
    List<PromptGroup> groups = new ArrayList<>(r.prompts.size());
    for (int p = 0; p < r.prompts.size(); p++) {
      List<ScoredSample> policy = new ArrayList<>(k);
      for (int j = 0; j < k; j++) {
        int i = p * k + j;
        policy.add(
            new ScoredSample(
                r.policy.get(i),
                r.rewards[i],
                logProbs.get(PolicyRole.POLICY)[i],
                roles.contains(PolicyRole.ANCHOR) ? logProbs.get(PolicyRole.ANCHOR)[i] : Double.NaN,
                roles.contains(PolicyRole.REFERENCE)
                    ? logProbs.get(PolicyRole.REFERENCE)[i]
                    : Double.NaN,
                stale == null ? Double.NaN : stale.policy()[i]));
      }
      List<ScoredSample> comparison = new ArrayList<>(m);
      for (int j = 0; j < m; j++) {
        int i = p * m + j;
        comparison.add(
            new ScoredSample(
                r.comparison.get(i),
                r.rewards[r.policy.size() + i],
                comparisonLogPolicy == null ? Double.NaN : comparisonLogPolicy[i],
                stale == null || stale.comparison() == null
                    ? Double.NaN
                    : stale.comparisonLogAnchor()[i],
                Double.NaN,
                stale == null || stale.comparison() == null ? Double.NaN : stale.comparison()[i]));
      }
      groups.add(new PromptGroup(r.prompts.get(p), policy, comparison));
    }
    return groups;
  }

  private StepMetrics metrics(
      Rollout r,
      List<PromptGroup> groups,
      Map<PolicyRole, double[]> logProbs,
      ObjectiveOutput out,
      StepOutcome outcome,
      double klAnchor,
      long index,
      Map<String, Double> timings,
      double syncError) {
    int n = r.policy.size();
    double rewardSum = 0;
    double lengthSum = 0;
    for (int i = 0; i < n; i++) {
      rewardSum += r.rewards[i];
      lengthSum += r.policy.get(i).completion().length();
    }
    double cmpSum = 0;
    for (int i = n; i < r.rewards.length; i++) {
      cmpSum += r.rewards[i];
    }
    double winSum = 0;
    int winCount = 0;
    for (PromptGroup g : groups) {
      if (g.comparisonSamples().isEmpty()) {
        continue;
      }
      for (ScoredSample y : g.policySamples()) {
        double wins = 0;
        for (ScoredSample a : g.comparisonSamples()) {
          wins += y.reward() > a.reward() ? 1 : y.reward() == a.reward() ? 0.5 : 0;
        }
        winSum += wins / g.comparisonSamples().size();
        winCount++;
      }
    }
    double entropy = 0;
    for (double lp : logProbs.get(PolicyRole.POLICY)) {
      entropy -= lp;
    }
    long sampledVersion = r.policy.get(0).model().version();
    double tokens = lengthSum;
    for (Generation g : r.comparison) {
      tokens += g.completion().length();
    }
    Map<String, Double> extras = new LinkedHashMap<>(out.extras());
    extras.put("samples", (double) (n + r.comparison.size()));
    extras.put("tokensGenerated", tokens);
    if (!Double.isNaN(syncError)) {
      extras.put("samplerLogProbError", syncError);
    }
    return new StepMetrics(
        outcome.step(),
        r.prompts.size(),
        sampledVersion,
        r.comparison.isEmpty() ? -1 : r.comparison.get(0).model().version(),
        r.sampledWeightsStep < 0 ? 0 : Math.max(0, index - r.sampledWeightsStep),
        rewardSum / n,
        r.comparison.isEmpty() ? Double.NaN : cmpSum / r.comparison.size(),
        winCount == 0 ? Double.NaN : winSum / winCount,
        klAnchor,
        logProbs.containsKey(PolicyRole.REFERENCE)
            ? meanDifference(logProbs, PolicyRole.REFERENCE)
            : Double.NaN,
        out.lossForward(),
        out.lossBackward(),
        out.lossRegularizer(),
        out.loss(),
        entropy / n,
        lengthSum / n,
        outcome.gradientNorm(),
        outcome.learningRate(),
        timings,
        extras);
  }

  private static double meanDifference(Map<PolicyRole, double[]> logProbs, PolicyRole other) {
    double[] lp = logProbs.get(PolicyRole.POLICY);
    double[] lo = logProbs.get(other);
    double s = 0;
    for (int i = 0; i < lp.length; i++) {
      s += lp[i] - lo[i];
    }
    return s / lp.length;
  }

  private void publishAll() {
    publish(true);
  }

  /** Publishes the policy, and the anchor when asked, unless already published at this step. */
  private void publish(boolean anchor) {
    publishPending = true;
    long v = learner.stepCount();
    Set<PolicyRole> due = EnumSet.noneOf(PolicyRole.class);
    if (v != policyVersion) {
      due.add(PolicyRole.POLICY);
    }
    if (anchor && v != anchorVersion) {
      due.add(PolicyRole.ANCHOR);
    }
    if (!due.isEmpty()) {
      // the roles at once: a publisher may load them concurrently
      Map<PolicyRole, ModelVersion> published = publisher.publish(learner, due, v);
      for (PolicyRole role : due) {
        ModelVersion version = published.get(role);
        Checks.verify(
            version != null, "Expected the publisher to report the %s version, found none", role);
        served.put(role, version);
      }
      if (due.contains(PolicyRole.POLICY)) {
        policyVersion = v;
      }
      if (due.contains(PolicyRole.ANCHOR)) {
        anchorVersion = v;
      }
    }
    publishPending = false;
  }

  /**
   * Returns the model versions the publisher reported for the latest weights of each role it
   * published (policy; anchor), as the servers number them.
   *
   * @return role to served version; empty before the first publish
   */
  public Map<PolicyRole, ModelVersion> servedVersions() {
    return Map.copyOf(served);
  }

  /**
   * Saves a checkpoint of the current state now (the learner's, and the {@link
   * CheckpointExtension}'s), whatever the interval; for callers that checkpoint on their own
   * schedule (set a large interval in {@link Builder#optCheckpoints}) or at a clean stop.
   *
   * @return the step the checkpoint belongs to
   * @throws IllegalStateException when no checkpoint store is configured or the loop is closed
   * @throws UncheckedIOException when writing fails (the previous checkpoints stay intact)
   */
  public long checkpoint() {
    checkOpen();
    Checks.checkState(checkpoints != null, "Cannot checkpoint: no checkpoint store is configured");
    long step = learner.stepCount();
    checkpoint(step);
    return step;
  }

  private void checkpoint(long step) {
    try {
      checkpoints.save(
          step,
          out -> {
            DataOutputStream data = new DataOutputStream(out);
            data.writeInt(CHECKPOINT_FORMAT);
            data.writeLong(step);
            data.writeUTF(objective.toString());
            learner.snapshot(data);
            ByteArrayOutputStream block = new ByteArrayOutputStream();
            if (extension != null) {
              try (DataOutputStream blockData = new DataOutputStream(block)) {
                extension.write(step, blockData);
              }
            }
            data.writeInt(block.size());
            block.writeTo(data);
            data.flush();
          });
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the checkpoint of step " + step, e);
    }
  }

  private long mix(long index, long stream) {
    long z = seed + 0x9E3779B97F4A7C15L * (index * 4 + stream + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private double millisSince(long start) {
    return (ticker.getAsLong() - start) / 1e6;
  }

  private void cancelPrefetch() {
    if (prefetch != null) {
      prefetch.cancel(true);
      prefetch = null;
    }
  }

  private void checkOpen() {
    Checks.checkState(!closed, "JbondLoop is closed");
  }

  /** Cancels any prefetch in flight; idempotent. The SPI components stay open (the caller's). */
  @Override
  public void close() {
    closed = true;
    cancelPrefetch();
  }

  private record Rollout(
      long step,
      List<Prompt> prompts,
      List<Generation> policy,
      List<Generation> comparison,
      double[] rewards,
      double sampleMillis,
      double scoreMillis,
      long sampledWeightsStep) {}

  /** Builds a {@link JbondLoop}. */
  public static final class Builder {
    private final Objective objective;
    private final PolicySampler sampler;
    private final RewardModel reward;
    private final PolicyLearner learner;
    private final WeightPublisher publisher;
    private final PromptSource prompts;
    private CheckpointStore checkpoints;
    private int checkpointEvery = 100;
    private Consumer<StepMetrics> metricsSink = m -> {};
    private int staleness = 0;
    private long seed = 0;
    private LongSupplier ticker = System::nanoTime;
    private Executor executor = ForkJoinPool.commonPool();
    private boolean trackReferenceKl = false;
    private boolean trackForwardLoss = true;
    private boolean importanceCorrection = true;
    private boolean reuseForward = true;
    private double samplerLogProbTolerance = DEFAULT_SAMPLER_LOGPROB_TOLERANCE;
    private double maxKl = Double.POSITIVE_INFINITY;
    private CheckpointExtension extension;

    private Builder(
        Objective objective,
        PolicySampler sampler,
        RewardModel reward,
        PolicyLearner learner,
        WeightPublisher publisher,
        PromptSource prompts) {
      this.objective = Objects.requireNonNull(objective, "objective");
      this.sampler = Objects.requireNonNull(sampler, "sampler");
      this.reward = Objects.requireNonNull(reward, "reward");
      this.learner = Objects.requireNonNull(learner, "learner");
      this.publisher = Objects.requireNonNull(publisher, "publisher");
      this.prompts = Objects.requireNonNull(prompts, "prompts");
    }

    /**
     * Sets where checkpoints go and how often.
     *
     * @param store the store
     * @param every checkpoint after every {@code every} steps, {@code >= 1}; default 100
     * @return this builder
     */
    public Builder optCheckpoints(CheckpointStore store, int every) {
      this.checkpoints = Objects.requireNonNull(store, "store");
      this.checkpointEvery = Checks.checkAtLeast(every, 1, "checkpoint interval");
      return this;
    }

    /**
     * Sets where each step's metrics go.
     *
     * @param sink called once per step on the loop's thread; default discards
     * @return this builder
     */
    public Builder optMetricsSink(Consumer<StepMetrics> sink) {
      this.metricsSink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /**
     * Sets how many optimizer steps the samples may lag behind.
     *
     * @param staleness 0 (sample, then learn) or 1 (sample step t+1 while step t learns); default 0
     * @return this builder
     */
    public Builder optStaleness(int staleness) {
      Checks.checkArgument(
          staleness == 0 || staleness == 1, "Expected staleness 0 or 1, found %d", staleness);
      this.staleness = staleness;
      return this;
    }

    /**
     * Sets the run's seed, from which every sampling request's seed derives.
     *
     * @param seed the seed; default 0
     * @return this builder
     */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets the time source for timings.
     *
     * @param ticker nanoseconds, monotonic; default {@link System#nanoTime()}
     * @return this builder
     */
    public Builder optTicker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the executor that prefetches samples when staleness is 1.
     *
     * @param executor the executor, owned by the caller; default the common pool
     * @return this builder
     */
    public Builder optExecutor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Sets whether the reference log-probabilities of policy samples are computed each step for the
     * {@code klReference} metric (one extra forward pass when the objective does not need them;
     * evaluations measure KL to the reference on their own).
     *
     * @param track default false
     * @return this builder
     */
    public Builder optTrackReferenceKl(boolean track) {
      this.trackReferenceKl = track;
      return this;
    }

    /**
     * Sets whether the policy's log-probabilities of the comparison samples (the anchor samples
     * that J-BOND and BOND compare) are computed each step. They feed only the {@code lossForward}
     * metric (and so {@code loss}), never the sequence weights; those two metrics are then reported
     * as {@code null}. With the forward pass reused ({@link #optReuseForward}, the default) they
     * come from the step's own forward pass and cost nothing; in the naive order switching it off
     * saves one forward pass over {@code prompts x comparison samples} sequences per step.
     *
     * @param track default true
     * @return this builder
     */
    public Builder optTrackForwardLoss(boolean track) {
      this.trackForwardLoss = track;
      return this;
    }

    /**
     * Sets whether samples drawn with staleness 1 (from the previous step's policy and anchor) are
     * importance weighted towards the current ones: each sample then carries its behaviour
     * log-probability (the sampler's own per-token log-probs, which the sampler must return) and,
     * for anchor samples, the current anchor's log-probability (one more forward pass over the
     * anchor samples per step); the objective weights and truncates (see {@link
     * dev.jbond.objective.Jbond}). Without it, staleness 1 trains theta_t on samples of theta_{t-1}
     * as if they were its own: a one-step off-policy bias. Ignored at staleness 0.
     *
     * @param correct default true
     * @return this builder
     */
    public Builder optImportanceCorrection(boolean correct) {
      this.importanceCorrection = correct;
      return this;
    }

    /**
     * Sets whether the policy's forward pass over the sequences a step trains on (the policy
     * samples and the comparison samples the objective's batch holds, {@link
     * Objective#trainedComparisons}) runs once, through {@link PolicyLearner#prepareStep}, for both
     * the log-probabilities the weights need and the step's backward pass. Off, every forward pass
     * runs on its own, the paper's order: policy, anchor and reference log-probabilities one after
     * the other, then the step's own forward and backward pass (a baseline for benchmarks).
     *
     * @param reuse default true
     * @return this builder
     */
    public Builder optReuseForward(boolean reuse) {
      this.reuseForward = reuse;
      return this;
    }

    /**
     * Sets how far the sampler's log-probability of a policy sample (the sum of the per-token
     * log-probabilities it returns) may lie from the learner's when the samples come from the
     * weights being trained (staleness 0). The largest difference of a step is reported as {@code
     * samplerLogProbError}; past the tolerance the step fails with a {@link
     * dev.jbond.BackendException} ({@code OUT_OF_SYNC}) naming the served version, before any
     * update uses the samples, and the next attempt publishes both roles again. Size it for the
     * served precision: float32 engines agree with the learner to about 1e-4 nats per sequence,
     * float16 ones to about 1e-2 per token.
     *
     * @param nats {@code > 0}, or infinite to report only; default {@value
     *     #DEFAULT_SAMPLER_LOGPROB_TOLERANCE}
     * @return this builder
     */
    public Builder optSamplerLogProbTolerance(double nats) {
      Checks.checkArgument(nats > 0, "Expected a tolerance > 0, found %s", nats);
      this.samplerLogProbTolerance = nats;
      return this;
    }

    /**
     * Sets the KL(pi || pi_anchor) estimate beyond which a step throws {@link
     * TrainingDivergedException}.
     *
     * @param maxKl {@code > 0}; default infinite (no limit)
     * @return this builder
     */
    public Builder optMaxKl(double maxKl) {
      Checks.checkArgument(maxKl > 0, "Expected a KL limit > 0, found %s", maxKl);
      this.maxKl = maxKl;
      return this;
    }

    /**
     * Sets state of the caller's that every checkpoint carries beside the learner's, and that
     * {@link JbondLoop#resume()} hands back.
     *
     * @param extension the extension; default none
     * @return this builder
     */
    public Builder optCheckpointExtension(CheckpointExtension extension) {
      this.extension = Objects.requireNonNull(extension, "extension");
      return this;
    }

    /**
     * Returns the loop.
     *
     * @return the loop
     */
    public JbondLoop build() {
      return new JbondLoop(this);
    }
  }
}
