package dev.jbond.models.generate;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.ExecutionProvider;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtResource;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.spi.PolicySampler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The direct, in-process {@link PolicySampler}: samples every role's current model with a {@link
 * KvCacheSampler} on ONNX Runtime, and swaps a role's model in place when a new version is
 * published.
 *
 * <p>Each {@link Generation} carries the completion (generated tokens up to and including the EOS
 * token when one was drawn, so a policy trained on it learns to stop), the {@link
 * SampledSequence#samplingLogProbs() log-probabilities of the sampling distribution} as engine
 * log-probs (equal to the model's when the temperature is 1 and top-k and top-p are off), and the
 * {@link ModelVersion} that produced it. Row {@code (i, j)} is seeded by {@link
 * SequenceSeeds#seed(long, String, int) seed(seed, prompt id, j)}.
 *
 * <p>Lifecycle: {@link #builder} opens one decode session over the initial model, shared by all
 * three roles at version 0. {@link #publish(PolicyRole, ModelDirectory, long)} and {@link
 * #publish(PolicyRole, DecoderWeights, long)} open a session over the new weights and swap it in
 * atomically; samples already running finish on the session they started with, and a session closes
 * when no role serves it and no sample uses it (reference counting). {@link #close()} stops new
 * samples; running ones finish, then the last sessions close.
 *
 * <p>Small batches on one thread ({@link Builder#optSmallBatchRows}): when the session settings
 * give ONNX Runtime more than one intra-op thread on the CPU, every served model can also be opened
 * a second time with one intra-op thread, and batches of at most {@code smallBatchRows} rows are
 * decoded on that session ({@link KvCacheSampler#withSmallBatchSession}). This pays a second copy
 * of the weights in memory (the model's parameters as floats, plus ONNX Runtime's per-session
 * buffers) for each served model.
 *
 * <p>Thread-safe: any number of {@link #sample} calls may run alongside a publish.
 */
public final class DirectSampler extends OrtResource implements PolicySampler {
  /**
   * The default largest batch decoded on the one-thread small-batch session ({@link
   * Builder#optSmallBatchRows}): 0, off. Measured with {@code bond bench generate} on 2 shared
   * cores (BENCHMARKS.md, "Generation"): when nothing else competes for the cores, one thread is
   * not faster than two at 1-2 rows and slower from 3 rows on, so the second session buys nothing,
   * while it always costs a second copy of the weights (+16 MiB RSS for the 3.3M-parameter
   * benchmark decoder, whose weights are 12.4 MiB). Where other work competes for the cores, one
   * thread was 1.3-1.5x faster at every batch size up to 32; turn it on there (2 rows is a
   * reasonable threshold), or give the main session fewer threads.
   */
  public static final int DEFAULT_SMALL_BATCH_ROWS = 0;

  private final SamplingConfig sampling;
  private final PolicyFiles files;
  private final SessionConfig sessionConfig;
  private final int maxBatchRows;
  private final int smallBatchRows;
  private final Map<PolicyRole, String> names;
  private final Map<PolicyRole, AtomicReference<Slot>> slots = new EnumMap<>(PolicyRole.class);
  private final Object publishLock = new Object();

  private DirectSampler(Builder builder, Sessions initial) {
    this.sampling = builder.sampling;
    this.sessionConfig = builder.sessionConfig;
    this.maxBatchRows = builder.maxBatchRows;
    this.smallBatchRows = builder.smallBatchRows;
    this.names = new EnumMap<>(builder.names);
    this.files = builder.files;
    Served shared =
        new Served(initial, files, maxBatchRows, smallBatchRows, PolicyRole.values().length);
    for (PolicyRole role : PolicyRole.values()) {
      slots.put(
          role, new AtomicReference<>(new Slot(shared, new ModelVersion(names.get(role), 0))));
    }
  }

  /**
   * Starts a sampler over an initial model, served to all three roles at version 0.
   *
   * @param initial the policy files whose sampling graph is opened (a decoder directory's decode
   *     graph; an export's past-key/values graph, else its full-sequence graph)
   * @param sampling the default sampling settings
   * @return the builder
   */
  public static Builder builder(PolicyFiles initial, SamplingConfig sampling) {
    return new Builder(initial, sampling);
  }

  /**
   * Draws completions with the sampling settings given to the builder.
   *
   * @param prompts the prompts, not empty
   * @param samplesPerPrompt completions per prompt, {@code >= 1}
   * @param role which served model to sample from
   * @param seed the request seed
   * @return prompt-major list of {@code prompts.size() * samplesPerPrompt} generations
   * @throws IllegalArgumentException when {@code prompts} is empty, {@code samplesPerPrompt < 1},
   *     or a prompt is empty, longer than the context allows or holds a token outside the
   *     vocabulary
   * @throws IllegalStateException when the sampler is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  @Override
  public List<Generation> sample(
      List<Prompt> prompts, int samplesPerPrompt, PolicyRole role, long seed) {
    return sample(prompts, samplesPerPrompt, role, seed, sampling);
  }

  /**
   * Draws completions with other sampling settings than the builder's.
   *
   * @param prompts the prompts, not empty
   * @param samplesPerPrompt completions per prompt, {@code >= 1}
   * @param role which served model to sample from
   * @param seed the request seed
   * @param config the sampling settings of this request
   * @return prompt-major list of {@code prompts.size() * samplesPerPrompt} generations
   * @throws IllegalArgumentException see {@link #sample(List, int, PolicyRole, long)}
   * @throws IllegalStateException when the sampler is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  public List<Generation> sample(
      List<Prompt> prompts,
      int samplesPerPrompt,
      PolicyRole role,
      long seed,
      SamplingConfig config) {
    Objects.requireNonNull(role, "role");
    Slot slot = acquire(role);
    try {
      List<SampledSequence> sampled =
          slot.served.sampler.sample(prompts, samplesPerPrompt, config, seed);
      List<Generation> out = new ArrayList<>(sampled.size());
      for (SampledSequence s : sampled) {
        out.add(s.toGeneration(slot.version));
      }
      return out;
    } finally {
      slot.release();
    }
  }

  /**
   * Publishes a model directory's weights as {@code version} of {@code role}.
   *
   * @param role the role to serve them
   * @param directory the model directory whose decode graph is opened
   * @param version the new version, larger than the role's current one
   * @return the served model version
   * @throws IllegalArgumentException when {@code version} is not larger than the current one
   * @throws IllegalStateException when the sampler is closed
   * @throws ModelLoadException when the decode graph file does not exist
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   */
  public ModelVersion publish(PolicyRole role, ModelDirectory directory, long version)
      throws ModelLoadException {
    Objects.requireNonNull(directory, "directory");
    synchronized (publishLock) {
      checkVersion(role, version);
      Sessions sessions =
          Sessions.open(
              config -> OrtSessions.open(directory.decodeGraph(), config),
              sessionConfig,
              smallBatchRows);
      return swap(role, sessions, directory, version);
    }
  }

  /**
   * Publishes in-memory weights (for example a learner's) as {@code version} of {@code role}: the
   * decode graph is built with the weights inline and opened from memory.
   *
   * @param role the role to serve them
   * @param weights the decoder weights
   * @param version the new version, larger than the role's current one
   * @return the served model version
   * @throws IllegalArgumentException when {@code version} is not larger than the current one
   * @throws IllegalStateException when the sampler is closed
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   */
  public ModelVersion publish(PolicyRole role, DecoderWeights weights, long version) {
    Objects.requireNonNull(weights, "weights");
    synchronized (publishLock) {
      checkVersion(role, version);
      Graph graph = DecoderBuilder.decodeGraph(weights);
      Sessions sessions =
          Sessions.open(config -> OrtSessions.open(graph, config), sessionConfig, smallBatchRows);
      return swap(role, sessions, files, version);
    }
  }

  /**
   * Publishes a learner's weights as {@code version} of {@code role}: the sampling graph of the
   * sampler's policy files with the weights inline ({@link PolicyFiles#samplingGraph(Map)}).
   *
   * @param role the role to serve them
   * @param weights trained parameters by full-sequence graph name, as {@code
   *     OrtPolicyLearner.weights} returns them
   * @param version the new version, larger than the role's current one
   * @return the served model version
   * @throws IllegalArgumentException when {@code version} is not larger than the current one, or
   *     the weights do not fit the sampling graph
   * @throws IllegalStateException when the sampler is closed
   * @throws UncheckedIOException when the sampling graph cannot be read
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   */
  public ModelVersion publish(PolicyRole role, Map<String, Tensor> weights, long version) {
    Objects.requireNonNull(weights, "weights");
    synchronized (publishLock) {
      checkVersion(role, version);
      Graph graph;
      try {
        graph = files.samplingGraph(weights);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot read the sampling graph of " + files.root() + ": " + e.getMessage(), e);
      }
      Sessions sessions =
          Sessions.open(config -> OrtSessions.open(graph, config), sessionConfig, smallBatchRows);
      return swap(role, sessions, files, version);
    }
  }

  /**
   * Returns the policy files this sampler was built on.
   *
   * @return the files
   */
  public PolicyFiles files() {
    return files;
  }

  /**
   * Returns the model version a role serves now.
   *
   * @param role the role
   * @return its current model version
   * @throws IllegalStateException when the sampler is closed
   */
  public ModelVersion servedVersion(PolicyRole role) {
    Objects.requireNonNull(role, "role");
    return current(role).version;
  }

  /**
   * Returns the sampling settings used by {@link #sample(List, int, PolicyRole, long)}.
   *
   * @return the settings
   */
  public SamplingConfig samplingConfig() {
    return sampling;
  }

  /** Returns the session of a role's current model, for tests of the lifecycle. */
  OrtModelSession session(PolicyRole role) {
    return current(role).served.sessions.main;
  }

  /** Returns the small-batch session of a role's current model, or null; for tests. */
  OrtModelSession smallBatchSession(PolicyRole role) {
    return current(role).served.sessions.small;
  }

  /** Takes a reference to a role's current model; the caller releases it. */
  Slot acquire(PolicyRole role) {
    while (true) {
      Slot slot = current(role);
      if (slot.served.retain()) {
        return slot;
      }
      // the slot was swapped and its last user released it since we read it: read again
    }
  }

  private Slot current(PolicyRole role) {
    checkOpen();
    Slot slot = slots.get(role).get();
    Checks.checkState(slot != null, "%s is closed", getClass().getSimpleName());
    return slot;
  }

  private void checkVersion(PolicyRole role, long version) {
    Objects.requireNonNull(role, "role");
    long served = current(role).version.version();
    Checks.checkArgument(
        version > served,
        "Expected a version > %d for role '%s', found %d",
        served,
        role.label(),
        version);
  }

  /** Serves {@code sessions} for {@code role}; called under the publish lock. */
  private ModelVersion swap(PolicyRole role, Sessions sessions, PolicyFiles config, long version) {
    Slot next;
    try {
      Checks.checkState(!isClosed(), "%s is closed", getClass().getSimpleName());
      next =
          new Slot(
              new Served(sessions, config, maxBatchRows, smallBatchRows, 1),
              new ModelVersion(names.get(role), version));
    } catch (RuntimeException e) {
      sessions.close();
      throw e;
    }
    Slot old = slots.get(role).getAndSet(next);
    old.served.release();
    return next.version;
  }

  @Override
  protected void release() {
    synchronized (publishLock) {
      for (AtomicReference<Slot> slot : slots.values()) {
        Slot old = slot.getAndSet(null);
        if (old != null) {
          old.served.release();
        }
      }
    }
  }

  /** Returns the sampling settings, the batch limits and the served versions. */
  @Override
  public String toString() {
    Map<PolicyRole, Object> versions = new EnumMap<>(PolicyRole.class);
    slots.forEach(
        (role, slot) -> {
          Slot s = slot.get();
          versions.put(role, s == null ? "closed" : s.version);
        });
    return "DirectSampler "
        + versions
        + " maxBatchRows="
        + maxBatchRows
        + " smallBatchRows="
        + smallBatchRows
        + " "
        + sampling;
  }

  /** A role's served model: the shared session and the version it serves for this role. */
  static final class Slot {
    final Served served;
    final ModelVersion version;

    Slot(Served served, ModelVersion version) {
      this.served = served;
      this.version = version;
    }

    /** Gives back the reference taken by {@link DirectSampler#acquire}. */
    void release() {
      served.release();
    }
  }

  /** Opens a decode graph with the given session settings. */
  @FunctionalInterface
  private interface Opener<E extends Exception> {
    OrtModelSession open(SessionConfig config) throws E;
  }

  /**
   * One model's decode sessions: the main one, and the one-thread small-batch one (null when not
   * used). Closing closes both.
   */
  static final class Sessions {
    final OrtModelSession main;
    final OrtModelSession small;

    private Sessions(OrtModelSession main, OrtModelSession small) {
      this.main = main;
      this.small = small;
    }

    /**
     * Opens the main session with {@code config} and, when {@link #usesSmallBatchSession} holds, a
     * second one with one intra-op thread; on failure closes what it opened.
     */
    static <E extends Exception> Sessions open(
        Opener<E> opener, SessionConfig config, int smallBatchRows) throws E {
      OrtModelSession main = opener.open(config);
      if (!usesSmallBatchSession(config, smallBatchRows)) {
        return new Sessions(main, null);
      }
      boolean opened = false;
      try {
        Sessions sessions = new Sessions(main, opener.open(config.withIntraOpThreads(1)));
        opened = true;
        return sessions;
      } finally {
        if (!opened) {
          main.close();
        }
      }
    }

    void close() {
      main.close();
      if (small != null) {
        small.close();
      }
    }
  }

  /**
   * Whether a second, one-thread session is opened for batches of at most {@code smallBatchRows}
   * rows: when {@code smallBatchRows > 0} and {@code config} runs on the CPU with more than one
   * intra-op thread (a count {@code > 1}, or 0, ONNX Runtime's choice of one thread per physical
   * core, on a machine with more than one available processor).
   *
   * @param config the settings of the main session
   * @param smallBatchRows the small-batch threshold, 0 = off
   * @return true when the small-batch session is opened
   */
  static boolean usesSmallBatchSession(SessionConfig config, int smallBatchRows) {
    if (smallBatchRows == 0 || config.executionProvider() != ExecutionProvider.CPU) {
      return false;
    }
    int threads = config.intraOpThreads();
    return threads > 1 || (threads == 0 && Runtime.getRuntime().availableProcessors() > 1);
  }

  /**
   * A model's decode sessions and their sampler, reference-counted: one reference per role that
   * serves it and per running sample; the last release closes the sessions.
   */
  static final class Served {
    final Sessions sessions;
    final SequenceSampler sampler;
    private final AtomicInteger references;

    Served(
        Sessions sessions,
        PolicyFiles files,
        int maxBatchRows,
        int smallBatchRows,
        int references) {
      this.sessions = sessions;
      this.sampler =
          PolicySamplers.open(files, sessions.main, sessions.small, maxBatchRows, smallBatchRows);
      this.references = new AtomicInteger(references);
    }

    /** Takes a reference unless the count already reached 0 (the session is closed or closing). */
    boolean retain() {
      while (true) {
        int count = references.get();
        if (count == 0) {
          return false;
        }
        if (references.compareAndSet(count, count + 1)) {
          return true;
        }
      }
    }

    void release() {
      int count = references.decrementAndGet();
      Checks.verify(count >= 0, "Expected a reference count >= 0, found %d", count);
      if (count == 0) {
        sessions.close();
      }
    }
  }

  /**
   * Builds a {@link DirectSampler}. Required: the initial model and the sampling settings
   * (arguments of {@link DirectSampler#builder}).
   */
  public static final class Builder {
    private final PolicyFiles files;
    private final SamplingConfig sampling;
    private SessionConfig sessionConfig = SessionConfig.defaults();
    private int maxBatchRows = KvCacheSampler.DEFAULT_MAX_BATCH_ROWS;
    private int smallBatchRows = DEFAULT_SMALL_BATCH_ROWS;
    private final Map<PolicyRole, String> names = new EnumMap<>(PolicyRole.class);

    private Builder(PolicyFiles files, SamplingConfig sampling) {
      this.files = Objects.requireNonNull(files, "files");
      this.sampling = Objects.requireNonNull(sampling, "sampling");
      for (PolicyRole role : PolicyRole.values()) {
        names.put(role, "jbond-" + role.label());
      }
    }

    /**
     * Sets how sessions are opened. Default {@link SessionConfig#defaults()}.
     *
     * @param config the session settings
     * @return this builder
     */
    public Builder optSessionConfig(SessionConfig config) {
      this.sessionConfig = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Sets the largest number of rows decoded together. Default {@value
     * KvCacheSampler#DEFAULT_MAX_BATCH_ROWS}.
     *
     * @param rows the batch limit, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxBatchRows(int rows) {
      this.maxBatchRows = rows;
      return this;
    }

    /**
     * Sets the largest batch decoded on a second session with one intra-op thread, 0 = off. Default
     * {@value DirectSampler#DEFAULT_SMALL_BATCH_ROWS}.
     *
     * <p>The second session is opened (for the initial model and for every published one) only when
     * {@code rows > 0} and the {@linkplain #optSessionConfig session settings} run on the CPU with
     * more than one intra-op thread; otherwise every batch runs on the one session. It costs a
     * second copy of the model's weights in memory.
     *
     * @param rows the small-batch threshold, {@code 0 <= rows <= maxBatchRows}
     * @return this builder
     */
    public Builder optSmallBatchRows(int rows) {
      this.smallBatchRows = rows;
      return this;
    }

    /**
     * Sets the model name recorded for a role. Default {@code "jbond-" + role.label()}, e.g. {@code
     * jbond-policy}.
     *
     * @param role the role
     * @param name the model name, non-empty
     * @return this builder
     */
    public Builder optModelName(PolicyRole role, String name) {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(name, "name");
      Checks.checkArgument(!name.isEmpty(), "Expected a non-empty model name for role '%s'", role);
      names.put(role, name);
      return this;
    }

    /**
     * Opens the initial model and returns the sampler; the caller closes it.
     *
     * @return the sampler
     * @throws IllegalArgumentException when {@code maxBatchRows < 1}, {@code smallBatchRows} is
     *     negative or larger than {@code maxBatchRows}, or the sampling settings' special tokens
     *     lie outside the model's vocabulary
     * @throws ModelLoadException when the decode graph file does not exist
     * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
     */
    public DirectSampler build() throws ModelLoadException {
      Checks.checkAtLeast(maxBatchRows, 1, "maxBatchRows");
      Checks.checkArgument(
          smallBatchRows >= 0 && smallBatchRows <= maxBatchRows,
          "Expected 0 <= smallBatchRows <= maxBatchRows %d, found %d",
          maxBatchRows,
          smallBatchRows);
      sampling.checkVocabulary(files.vocabSize());
      Sessions sessions =
          Sessions.open(
              config -> OrtSessions.open(files.samplingGraph(), config),
              sessionConfig,
              smallBatchRows);
      try {
        return new DirectSampler(this, sessions);
      } catch (RuntimeException e) {
        sessions.close();
        throw e;
      }
    }
  }
}
