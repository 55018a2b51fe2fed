package dev.jbond.serving.embedded;

import ai.onnxruntime.OnnxTensor;
import dev.jbond.BackendException;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.generate.FullSequenceSampler;
import dev.jbond.models.generate.InflightDecoder;
import dev.jbond.models.generate.KvCacheSampler;
import dev.jbond.models.generate.PolicySamplers;
import dev.jbond.models.generate.SampledSequence;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.generate.SequenceSampler;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TensorProfile.Slot;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelOutput;
import dev.jbond.serving.triton.proto.ModelParameter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link GenerationModel} that serves a jbond model directory ({@link ModelDirectory}: {@code
 * config.json}, {@code decode.onnx}, {@code weights.bin}, ...) in a version directory with the
 * TensorRT-LLM {@code tensorrt_llm} token-id profile ({@link TensorProfile#trtLlm()}).
 *
 * <p>Per request row {@code b} (input_ids {@code [B, L]}, or {@code [L]} without batching):
 *
 * <ul>
 *   <li>the prompt is {@code input_ids[b, 0 .. input_lengths[b])}; {@code request_output_len[b]}
 *       new tokens at most; {@code end_id} (absent or negative: none) stops a row and is part of
 *       the completion; {@code pad_id} (absent or negative: the directory's pad, else EOS, else 0);
 *       {@code temperature} (default 1), {@code runtime_top_k} (default 0, off), {@code
 *       runtime_top_p} (default 1; {@code <= 0} means off); {@code seed} (default 0, as
 *       TensorRT-LLM) seeds {@code new SplittableRandom(seed)} for the row, so a row equals sample
 *       {@code j} of the direct sampler when the client sends {@code SequenceSeeds.seed(s, id, j)};
 *   <li>outputs: {@code output_ids [B, 1, max(L + n)]} (without the prompt when {@code
 *       exclude_input_in_output}; shorter rows padded with -1), {@code sequence_length [B, 1]}, and
 *       with {@code return_log_probs} {@code output_log_probs [B, 1, max n]} (log-probs of the
 *       sampling distribution, padded with 0) and {@code cum_log_probs [B, 1]}. Only the outputs
 *       the client asked for are sent (all when it asked for none).
 * </ul>
 *
 * A non-decoupled model answers with one response holding every row. A decoupled one sends one
 * response per row (with {@code batch_index [1, 1]} when {@code B > 1}), the last flagged final, as
 * TensorRT-LLM does in decoupled non-streaming mode.
 *
 * <p><b>Step-level (in-flight) batching</b>, as TensorRT-LLM's in-flight batcher: rows of
 * concurrent requests are queued; each of {@link Settings#batchThreads()} threads drives an {@link
 * InflightDecoder}. When idle, it takes the first waiting row and collects more until none arrives
 * for {@link Settings#batchWindow()} (at most 20 windows in all, at most {@link
 * Settings#maxBatchRows()} rows; so a burst of requests sent together starts together); while it
 * decodes, rows that arrive join the running batch before the next step (as many as it has room
 * for), and each request is answered as soon as its rows stop, without waiting for the others (the
 * responses are built and sent on a responder thread of the model, so the decode loop goes on
 * meanwhile). Rows with different sampling settings share a batch. Seeds are per row, so each row's
 * tokens equal those of decoding it alone (up to floating-point rounding of a different batch
 * shape). Rows of cancelled requests are dropped before they join and between steps.
 *
 * <p>Lifecycle: {@link #factory} gives the {@link GenerationModelFactory} for {@link
 * EmbeddedTritonServer.Builder#optGenerationModelFactory}; each loaded version owns one ONNX
 * Runtime session and its batching threads, released by {@link #close()} (idempotent).
 */
public final class TrtLlmGenerationModel implements GenerationModel {
  /**
   * How the model batches and runs.
   *
   * @param profile the tensor names and datatypes
   * @param batchWindow how long a batching thread waits for more rows after the first, {@code >= 0}
   * @param maxBatchRows the most rows decoded together, {@code >= 1}
   * @param batchThreads how many batches run at once, {@code >= 1}
   * @param sessionConfig how the decode graph's session is opened
   */
  public record Settings(
      TensorProfile profile,
      Duration batchWindow,
      int maxBatchRows,
      int batchThreads,
      SessionConfig sessionConfig) {
    /**
     * Validates the components.
     *
     * @param profile see the record description
     * @param batchWindow see the record description
     * @param maxBatchRows see the record description
     * @param batchThreads see the record description
     * @param sessionConfig see the record description
     * @throws IllegalArgumentException when a number is out of range
     */
    public Settings {
      Objects.requireNonNull(profile, "profile");
      Objects.requireNonNull(batchWindow, "batchWindow");
      Objects.requireNonNull(sessionConfig, "sessionConfig");
      if (batchWindow.isNegative()) {
        throw new IllegalArgumentException("Expected a batch window >= 0, found " + batchWindow);
      }
      if (maxBatchRows < 1) {
        throw new IllegalArgumentException("Expected maxBatchRows >= 1, found " + maxBatchRows);
      }
      if (batchThreads < 1) {
        throw new IllegalArgumentException("Expected batchThreads >= 1, found " + batchThreads);
      }
    }

    /**
     * Returns the defaults: TensorRT-LLM's profile, a 1 ms window, {@value
     * KvCacheSampler#DEFAULT_MAX_BATCH_ROWS} rows, one batching thread, {@link
     * SessionConfig#defaults()}.
     *
     * @return the default settings
     */
    public static Settings defaults() {
      return new Settings(
          TensorProfile.trtLlm(),
          Duration.ofMillis(1),
          KvCacheSampler.DEFAULT_MAX_BATCH_ROWS,
          1,
          SessionConfig.defaults());
    }

    /**
     * Returns these settings with another session configuration.
     *
     * @param config the session settings
     * @return new settings
     */
    public Settings withSessionConfig(SessionConfig config) {
      return new Settings(profile, batchWindow, maxBatchRows, batchThreads, config);
    }

    /**
     * Returns these settings with another batch window.
     *
     * @param window how long to collect rows, {@code >= 0}
     * @return new settings
     */
    public Settings withBatchWindow(Duration window) {
      return new Settings(profile, window, maxBatchRows, batchThreads, sessionConfig);
    }

    /**
     * Returns these settings with another tensor profile.
     *
     * @param tensors the profile
     * @return new settings
     */
    public Settings withProfile(TensorProfile tensors) {
      return new Settings(tensors, batchWindow, maxBatchRows, batchThreads, sessionConfig);
    }
  }

  /** The longest an idle batching thread keeps collecting rows, in batch windows. */
  private static final int MAX_WINDOWS = 20;

  /**
   * The longest an idle batching thread waits for the rest of an announced burst (100 ms): on two
   * shared cores, 64 unary calls were seen to take up to about 90 ms to arrive. Rows that come
   * later still join the running batch.
   */
  private static final long MAX_BURST_WAIT_NANOS = 100_000_000L;

  private final String name;
  private final PolicyFiles directory;
  private final OrtModelSession session;
  private final SequenceSampler sampler;
  private final Settings settings;

  /** The per-request adapters, or null when the model serves none. */
  private final LoraInputs lora;

  private final int defaultPad;
  private final LinkedBlockingQueue<Row> queue = new LinkedBlockingQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private final ExecutorService responses;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger batches = new AtomicInteger();
  private volatile Runnable afterStep = () -> {};

  private TrtLlmGenerationModel(
      String name,
      PolicyFiles directory,
      OrtModelSession session,
      Settings settings,
      LoraInputs lora) {
    this.name = name;
    this.lora = lora;
    this.directory = directory;
    this.session = session;
    this.settings = settings;
    this.sampler = PolicySamplers.open(directory, session, null, settings.maxBatchRows(), 0);
    this.defaultPad = directory.padTokenId().orElse(directory.eosTokenId().orElse(0));
    for (int i = 0; i < settings.batchThreads(); i++) {
      Thread thread = new Thread(this::batchLoop, "jbond-generate-" + name + "-" + i);
      thread.setDaemon(true);
      threads.add(thread);
    }
    this.responses =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread thread = new Thread(task, "jbond-respond-" + name);
              thread.setDaemon(true);
              return thread;
            });
    threads.forEach(Thread::start);
  }

  /**
   * Returns the factory that loads a version directory holding a jbond model directory.
   *
   * @param settings how each loaded model batches and runs
   * @return the factory
   */
  public static GenerationModelFactory factory(Settings settings) {
    Objects.requireNonNull(settings, "settings");
    return new GenerationModelFactory() {
      @Override
      public GenerationModel create(ModelConfig config, ModelVersionDirectory version)
          throws ModelLoadException {
        return open(
            config.getName() + ":" + version.version(), version, settings, loraCacheBytes(config));
      }

      @Override
      public ModelConfig complete(ModelConfig config) {
        return completeConfig(config, settings.profile());
      }
    };
  }

  /**
   * The host LoRA cache size a configuration sets ({@link TrtLlmModelConfig#LORA_CACHE_BYTES}), or
   * 0 when it serves no adapters.
   */
  static long loraCacheBytes(ModelConfig config) throws ModelLoadException {
    ModelParameter value = config.getParametersMap().get(TrtLlmModelConfig.LORA_CACHE_BYTES);
    if (value == null) {
      return 0;
    }
    try {
      long bytes = Long.parseLong(value.getStringValue().strip());
      if (bytes >= 1) {
        return bytes;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ModelLoadException(
        "Expected parameter '"
            + TrtLlmModelConfig.LORA_CACHE_BYTES
            + "' of model '"
            + config.getName()
            + "' to be a byte count >= 1, found '"
            + value.getStringValue()
            + "'");
  }

  /**
   * Completes a configuration that lists no tensors with the profile's inputs and outputs (as
   * {@link TrtLlmModelConfig#config} lists them); with {@code max_batch_size: 0} their dims carry
   * the batch dimension themselves. A configuration that lists tensors is returned as it is.
   *
   * @param config the configuration
   * @param profile the tensor names and datatypes the model serves
   * @return the completed configuration
   */
  static ModelConfig completeConfig(ModelConfig config, TensorProfile profile) {
    if (config.getInputCount() > 0 || config.getOutputCount() > 0) {
      return config;
    }
    ModelConfig tensors =
        TrtLlmModelConfig.config(
            config.getName(),
            Math.max(1, config.getMaxBatchSize()),
            config.getModelTransactionPolicy().getDecoupled(),
            profile);
    boolean batched = config.getMaxBatchSize() > 0;
    ModelConfig.Builder completed = config.toBuilder();
    for (ModelInput input : tensors.getInputList()) {
      completed.addInput(
          batched
              ? input
              : input.toBuilder().clearDims().addDims(-1).addAllDims(input.getDimsList()).build());
    }
    for (ModelOutput output : tensors.getOutputList()) {
      completed.addOutput(
          batched
              ? output
              : output.toBuilder()
                  .clearDims()
                  .addDims(-1)
                  .addAllDims(output.getDimsList())
                  .build());
    }
    return completed.build();
  }

  /**
   * Loads one version directory.
   *
   * @param name the model name and version, for messages and thread names
   * @param version the version directory
   * @param settings how the model batches and runs
   * @return the model; the caller closes it
   * @throws ModelLoadException when the directory is not a jbond model directory or its decode
   *     graph cannot be opened
   */
  public static TrtLlmGenerationModel open(
      String name, ModelVersionDirectory version, Settings settings) throws ModelLoadException {
    return open(name, version, settings, 0);
  }

  /**
   * Loads one version directory, serving LoRA adapters per request when {@code loraCacheBytes > 0}
   * ({@link LoraInputs}: an adapter branch at every projection of the decode graph, fed per batch;
   * a batch holds rows of one task).
   *
   * @param name the model name and version, for messages and thread names
   * @param version the version directory
   * @param settings how the model batches and runs
   * @param loraCacheBytes the host LoRA cache size in bytes; 0 for no adapters
   * @return the model; the caller closes it
   * @throws ModelLoadException when the directory is not a policy directory, its decode graph
   *     cannot be opened, or adapters are asked for on a graph without past keys and values or
   *     without projections LoRA can adapt
   */
  public static TrtLlmGenerationModel open(
      String name, ModelVersionDirectory version, Settings settings, long loraCacheBytes)
      throws ModelLoadException {
    PolicyFiles directory;
    try {
      directory = PolicyFiles.open(version.directory());
    } catch (ModelLoadException e) {
      throw e;
    } catch (IOException e) {
      throw new ModelLoadException(
          "Failed to read the policy model directory of '"
              + name
              + "' in "
              + version.directory()
              + ": "
              + e,
          e);
    }
    LoraInputs lora = null;
    OrtModelSession session;
    if (loraCacheBytes > 0) {
      if (!directory.cachedSampling()) {
        throw new ModelLoadException(
            "Expected a past-key/values decode graph to serve LoRA adapters for model '"
                + name
                + "', found only "
                + directory.samplingGraph().getFileName());
      }
      Graph graph;
      try {
        graph = Graph.load(directory.samplingGraph());
        lora = LoraInputs.adapt(name, graph, settings.profile(), loraCacheBytes);
      } catch (IOException | IllegalArgumentException e) {
        throw new ModelLoadException(
            "Failed to add LoRA inputs to the decode graph of '" + name + "': " + e.getMessage(),
            e);
      }
      session = OrtSessions.open(graph, settings.sessionConfig());
    } else {
      session = OrtSessions.open(directory.samplingGraph(), settings.sessionConfig());
    }
    try {
      return new TrtLlmGenerationModel(name, directory, session, settings, lora);
    } catch (RuntimeException e) {
      session.close();
      throw new ModelLoadException(
          "Failed to load the decode graph of '" + name + "': " + e.getMessage(), e);
    }
  }

  /**
   * Returns how many groups of rows this model has admitted into its decode batches so far, each
   * with one prefill call (a metric of batching: rows per admission = rows / admissions; a burst
   * that starts together is one admission).
   *
   * @return the admission count
   */
  public int batchCount() {
    return batches.get();
  }

  /**
   * Runs {@code hook} on the batch thread after each decode step, so that a test can hold a running
   * batch at a known point instead of racing it.
   */
  void afterEachStep(Runnable hook) {
    this.afterStep = Objects.requireNonNull(hook, "hook");
  }

  @Override
  public void generate(GenerationRequest request, GenerationResponder responder) {
    Pending pending;
    try {
      pending = parse(request, responder);
    } catch (IllegalArgumentException e) {
      responder.fail(e);
      return;
    }
    if (closed.get()) {
      responder.fail(
          new BackendException(
              BackendException.Code.UNAVAILABLE, "Model '" + name + "' is closed", null));
      return;
    }
    try {
      admitLora(request, pending);
    } catch (RuntimeException e) {
      responder.fail(e);
      return;
    }
    for (Row row : pending.rows) {
      queue.add(row);
    }
  }

  /** Admits the request's LoRA task (as the backend does when it takes a request in). */
  private void admitLora(GenerationRequest request, Pending pending) {
    if (lora == null) {
      String task = settings.profile().name(Slot.LORA_TASK_ID);
      String weights = settings.profile().name(Slot.LORA_WEIGHTS);
      if (request.inputs().containsKey(task) || request.inputs().containsKey(weights)) {
        throw new IllegalArgumentException(
            "Expected no LoRA inputs for model '"
                + request.model()
                + "', which serves no adapters (its configuration sets no "
                + TrtLlmModelConfig.LORA_CACHE_BYTES
                + "), found "
                + (request.inputs().containsKey(task) ? task : weights));
      }
      return;
    }
    Optional<LoraHostCache<LoraInputs.Adapters>.Lease> lease = lora.admit(request);
    if (lease.isPresent()) {
      pending.lease = lease.get();
      for (Row row : pending.rows) {
        row.adapters = lease.get().adapter();
      }
    }
  }

  private Pending parse(GenerationRequest request, GenerationResponder responder) {
    TensorProfile profile = settings.profile();
    TritonTensor ids = required(request, Slot.INPUT_IDS);
    long[] shape = ids.shape();
    int batch;
    int width;
    if (shape.length == 1) {
      batch = 1;
      width = (int) shape[0];
    } else if (shape.length == 2) {
      batch = (int) shape[0];
      width = (int) shape[1];
    } else {
      throw new IllegalArgumentException(
          "Expected shape [B, L] or [L] for inference input '"
              + profile.name(Slot.INPUT_IDS)
              + "' of model '"
              + request.model()
              + "', found "
              + Arrays.toString(shape));
    }
    long[] tokens = integers(ids, Slot.INPUT_IDS, request);
    long[] lengths = perRow(request, Slot.INPUT_LENGTHS, batch, null);
    long[] outputLen = perRow(request, Slot.REQUEST_OUTPUT_LEN, batch, null);
    long[] endIds = perRow(request, Slot.END_ID, batch, -1L);
    long[] padIds = perRow(request, Slot.PAD_ID, batch, -1L);
    long[] topK = perRow(request, Slot.RUNTIME_TOP_K, batch, 0L);
    long[] seeds = perRow(request, Slot.SEED, batch, 0L);
    float[] temperature = perRowFloat(request, Slot.TEMPERATURE, batch, 1f);
    float[] topP = perRowFloat(request, Slot.RUNTIME_TOP_P, batch, 1f);
    boolean returnLogProbs = flag(request, Slot.RETURN_LOG_PROBS);
    boolean excludeInput = flag(request, Slot.EXCLUDE_INPUT_IN_OUTPUT);
    int vocab = directory.vocabSize();
    Pending pending =
        new Pending(request, responder, batch, returnLogProbs, excludeInput, burst(request));
    for (int b = 0; b < batch; b++) {
      long length = lengths[b];
      if (length < 1 || length > width) {
        throw new IllegalArgumentException(
            "Expected "
                + profile.name(Slot.INPUT_LENGTHS)
                + " in [1, "
                + width
                + "] for row "
                + b
                + " of model '"
                + request.model()
                + "', found "
                + length);
      }
      int[] prompt = new int[(int) length];
      for (int s = 0; s < length; s++) {
        long token = tokens[b * width + s];
        if (token < 0 || token >= vocab) {
          throw new IllegalArgumentException(
              "Expected token ids in [0, "
                  + vocab
                  + ") in inference input '"
                  + profile.name(Slot.INPUT_IDS)
                  + "' of model '"
                  + request.model()
                  + "', found "
                  + token
                  + " at row "
                  + b
                  + " position "
                  + s);
        }
        prompt[s] = (int) token;
      }
      if (outputLen[b] < 1 || length + outputLen[b] > directory.contextLength()) {
        throw new IllegalArgumentException(
            "Expected "
                + profile.name(Slot.REQUEST_OUTPUT_LEN)
                + " >= 1 with prompt length + "
                + profile.name(Slot.REQUEST_OUTPUT_LEN)
                + " <= context length "
                + directory.contextLength()
                + " for row "
                + b
                + " of model '"
                + request.model()
                + "', found "
                + length
                + " + "
                + outputLen[b]);
      }
      SamplingConfig.Builder config =
          SamplingConfig.builder()
              .setMaxNewTokens((int) outputLen[b])
              .optTemperature(temperature[b])
              .optTopK((int) topK[b])
              .optTopP(topP[b] <= 0f ? 1.0 : topP[b])
              .optPadTokenId(padIds[b] < 0 ? defaultPad : (int) padIds[b]);
      if (endIds[b] >= 0) {
        config.optEosTokenIds((int) endIds[b]);
      }
      SamplingConfig sampling = config.build();
      sampling.checkVocabulary(vocab);
      pending.rows[b] =
          new Row(
              pending,
              b,
              new Prompt(
                  request.id().isEmpty() ? "row" + b : request.id(), TokenSequence.of(prompt)),
              seeds[b],
              sampling);
    }
    return pending;
  }

  /** The announced burst size, or 0. */
  private static int burst(GenerationRequest request) {
    InferParameter value = request.parameters().get(TensorProfile.BURST_PARAMETER);
    if (value == null) {
      return 0;
    }
    if (value.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
        || value.getInt64Param() < 0) {
      throw new IllegalArgumentException(
          "Expected parameter '"
              + TensorProfile.BURST_PARAMETER
              + "' to be an int64 >= 0 for model '"
              + request.model()
              + "', found "
              + value.toString().strip());
    }
    return (int) Math.min(Integer.MAX_VALUE, value.getInt64Param());
  }

  private TritonTensor required(GenerationRequest request, Slot slot) {
    TritonTensor tensor = request.inputs().get(settings.profile().name(slot));
    if (tensor == null) {
      throw new IllegalArgumentException(
          "Expected inference input '"
              + settings.profile().name(slot)
              + "' for model '"
              + request.model()
              + "', found inputs "
              + List.copyOf(request.inputs().keySet()));
    }
    return tensor;
  }

  private long[] integers(TritonTensor tensor, Slot slot, GenerationRequest request) {
    TritonDatatype type = tensor.datatype();
    if (type == TritonDatatype.INT32
        || type == TritonDatatype.INT64
        || type == TritonDatatype.UINT64
        || type == TritonDatatype.UINT32) {
      return tensor.toLongs();
    }
    throw new IllegalArgumentException(
        "Expected an integer datatype for inference input '"
            + settings.profile().name(slot)
            + "' of model '"
            + request.model()
            + "', found "
            + type);
  }

  /** One value per row: {@code [B, 1]}, {@code [B]} or a single value for every row. */
  private long[] perRow(GenerationRequest request, Slot slot, int batch, Long fallback) {
    TritonTensor tensor = request.inputs().get(settings.profile().name(slot));
    long[] out = new long[batch];
    if (tensor == null) {
      if (fallback == null) {
        required(request, slot);
      }
      Arrays.fill(out, fallback);
      return out;
    }
    long[] values = integers(tensor, slot, request);
    spread(values.length, batch, slot, request);
    for (int b = 0; b < batch; b++) {
      out[b] = values.length == 1 ? values[0] : values[b];
    }
    return out;
  }

  private float[] perRowFloat(GenerationRequest request, Slot slot, int batch, float fallback) {
    TritonTensor tensor = request.inputs().get(settings.profile().name(slot));
    float[] out = new float[batch];
    if (tensor == null) {
      Arrays.fill(out, fallback);
      return out;
    }
    if (tensor.datatype() != TritonDatatype.FP32) {
      throw new IllegalArgumentException(
          "Expected datatype FP32 for inference input '"
              + settings.profile().name(slot)
              + "' of model '"
              + request.model()
              + "', found "
              + tensor.datatype());
    }
    float[] values = tensor.toFloats();
    spread(values.length, batch, slot, request);
    for (int b = 0; b < batch; b++) {
      out[b] = values.length == 1 ? values[0] : values[b];
    }
    return out;
  }

  private void spread(int count, int batch, Slot slot, GenerationRequest request) {
    if (count != 1 && count != batch) {
      throw new IllegalArgumentException(
          "Expected 1 or "
              + batch
              + " values in inference input '"
              + settings.profile().name(slot)
              + "' of model '"
              + request.model()
              + "', found "
              + count);
    }
  }

  private boolean flag(GenerationRequest request, Slot slot) {
    TritonTensor tensor = request.inputs().get(settings.profile().name(slot));
    if (tensor == null) {
      return false;
    }
    if (tensor.datatype() != TritonDatatype.BOOL) {
      throw new IllegalArgumentException(
          "Expected datatype BOOL for inference input '"
              + settings.profile().name(slot)
              + "' of model '"
              + request.model()
              + "', found "
              + tensor.datatype());
    }
    boolean[] values = tensor.toBooleans();
    return values.length > 0 && values[0];
  }

  /**
   * Decodes rows with in-flight batching until the model closes: when idle, waits for a row and
   * collects a burst; while decoding, admits the rows that arrived (as many as the batch has room
   * for) before each step, and answers rows as they stop.
   */
  private void batchLoop() {
    if (sampler instanceof FullSequenceSampler full) {
      recomputeLoop(full);
      return;
    }
    ArrayDeque<Row> deferred = new ArrayDeque<>();
    Map<String, OnnxTensor> adapters = Map.of();
    LoraInputs.Adapters served = null; // the base model's (rank-1 zeros) until a task's rows come
    try (InflightDecoder<Row> decoder =
        new InflightDecoder<>((KvCacheSampler) sampler, settings.maxBatchRows())) {
      if (lora != null) {
        adapters = lora.tensors(null);
        decoder.setExtraInputs(adapters);
      }
      while (!closed.get()) {
        List<Row> arrived = new ArrayList<>();
        try {
          if (decoder.isIdle() && !deferred.isEmpty()) {
            arrived.addAll(deferred);
            deferred.clear();
            queue.drainTo(arrived, Math.max(0, settings.maxBatchRows() - arrived.size()));
          } else if (decoder.isIdle()) {
            collect(arrived);
          } else {
            queue.drainTo(arrived, decoder.freeRows());
          }
        } catch (InterruptedException e) {
          arrived.forEach(r -> r.pending.fail(closedError()));
          break;
        }
        if (lora != null && !arrived.isEmpty()) {
          // a batch decodes one task: its adapters are inputs of every call
          if (decoder.isIdle() && arrived.get(0).adapters != served) {
            Map<String, OnnxTensor> next = lora.tensors(arrived.get(0).adapters);
            decoder.setExtraInputs(next);
            adapters.values().forEach(OnnxTensor::close);
            adapters = next;
            served = arrived.get(0).adapters;
          }
          List<Row> same = new ArrayList<>(arrived.size());
          int room = decoder.isIdle() ? settings.maxBatchRows() : decoder.freeRows();
          for (Row row : arrived) {
            if (row.adapters == served && same.size() < room) {
              same.add(row);
            } else {
              deferred.add(row);
            }
          }
          arrived = same;
        }
        decoder.remove(row -> row.pending.responder.isCancelled());
        List<InflightDecoder.Join<Row>> joins = new ArrayList<>(arrived.size());
        for (Row row : arrived) {
          if (!row.pending.responder.isCancelled()) {
            joins.add(new InflightDecoder.Join<>(row, row.prompt, row.seed, row.config));
          }
        }
        if (!joins.isEmpty()) {
          try {
            batches.incrementAndGet();
            deliver(decoder.admit(joins));
          } catch (RuntimeException e) {
            joins.forEach(j -> j.tag().pending.fail(e));
          }
        }
        try {
          deliver(decoder.step());
        } catch (RuntimeException e) {
          decoder.clear().forEach(row -> row.pending.fail(e));
        }
        afterStep.run();
      }
      decoder.clear().forEach(row -> row.pending.fail(closedError()));
    } finally {
      deferred.forEach(row -> row.pending.fail(closedError()));
      adapters.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * Decodes a policy without a past-key/values graph: collects a burst of rows, as the in-flight
   * loop does when idle, and samples each group of rows with equal settings together by recomputing
   * the sequence per token; rows that arrive meanwhile wait for the next burst.
   */
  private void recomputeLoop(FullSequenceSampler full) {
    while (!closed.get()) {
      List<Row> arrived = new ArrayList<>();
      try {
        collect(arrived);
      } catch (InterruptedException e) {
        arrived.forEach(r -> r.pending.fail(closedError()));
        break;
      }
      Map<SamplingConfig, List<Row>> groups = new LinkedHashMap<>();
      for (Row row : arrived) {
        if (!row.pending.responder.isCancelled()) {
          groups.computeIfAbsent(row.config, k -> new ArrayList<>()).add(row);
        }
      }
      for (Map.Entry<SamplingConfig, List<Row>> group : groups.entrySet()) {
        List<Row> rows = group.getValue();
        List<Prompt> prompts = new ArrayList<>(rows.size());
        long[] seeds = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
          prompts.add(rows.get(i).prompt);
          seeds[i] = rows.get(i).seed;
        }
        try {
          batches.incrementAndGet();
          List<SampledSequence> sequences = full.sampleSeeded(prompts, seeds, group.getKey());
          for (int i = 0; i < rows.size(); i++) {
            rows.get(i).pending.done(rows.get(i).index, sequences.get(i));
          }
        } catch (RuntimeException e) {
          rows.forEach(row -> row.pending.fail(e));
        }
      }
      afterStep.run();
    }
  }

  /**
   * Waits for a row, then collects more until none arrives for a batch window (or, for an announced
   * burst, until it is complete), within the collection cap and the batch limit.
   */
  private void collect(List<Row> rows) throws InterruptedException {
    long window = settings.batchWindow().toNanos();
    Row first = queue.take();
    rows.add(first);
    int wanted = Math.min(first.pending.burst, settings.maxBatchRows());
    long start = System.nanoTime();
    long plainCap = start + MAX_WINDOWS * window;
    long burstCap = start + Math.max(MAX_WINDOWS * window, MAX_BURST_WAIT_NANOS);
    while (rows.size() < settings.maxBatchRows()) {
      long untilCap = (rows.size() < wanted ? burstCap : plainCap) - System.nanoTime();
      long left = rows.size() < wanted ? untilCap : Math.min(window, untilCap);
      Row next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
      if (next == null) {
        break;
      }
      rows.add(next);
      wanted = Math.max(wanted, Math.min(next.pending.burst, settings.maxBatchRows()));
    }
  }

  private static void deliver(List<InflightDecoder.Finished<Row>> finished) {
    for (InflightDecoder.Finished<Row> f : finished) {
      f.tag().pending.done(f.tag().index, f.sequence());
    }
  }

  private BackendException closedError() {
    return new BackendException(
        BackendException.Code.UNAVAILABLE, "Model '" + name + "' closed before answering", null);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    threads.forEach(Thread::interrupt);
    for (Thread thread : threads) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Row row;
    while ((row = queue.poll()) != null) {
      row.pending.fail(closedError());
    }
    responses.shutdown();
    try {
      if (!responses.awaitTermination(5, TimeUnit.SECONDS)) {
        responses.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    session.close();
  }

  /** Returns the model name, the decoder and the settings. */
  @Override
  public String toString() {
    return "TrtLlmGenerationModel '"
        + name
        + "' "
        + directory
        + " window="
        + settings.batchWindow()
        + " maxBatchRows="
        + settings.maxBatchRows()
        + " batchThreads="
        + settings.batchThreads();
  }

  /** One row of a request, queued for a batch. */
  private static final class Row {
    final Pending pending;
    final int index;
    final Prompt prompt;
    final long seed;
    final SamplingConfig config;

    /** The adapters of the request's LoRA task, or null for the base model. */
    LoraInputs.Adapters adapters;

    Row(Pending pending, int index, Prompt prompt, long seed, SamplingConfig config) {
      this.pending = pending;
      this.index = index;
      this.prompt = prompt;
      this.seed = seed;
      this.config = config;
    }
  }

  /** A request whose rows are being decoded; answers once the last row is done. */
  private final class Pending {
    final GenerationRequest request;
    final GenerationResponder responder;
    final Row[] rows;
    final SampledSequence[] results;
    final boolean returnLogProbs;
    final boolean excludeInput;
    final int burst;
    private final AtomicInteger remaining;
    private final AtomicBoolean ended = new AtomicBoolean();

    /** The request's hold on its LoRA task, released when it ends; null without one. */
    volatile LoraHostCache<LoraInputs.Adapters>.Lease lease;

    private void release() {
      LoraHostCache<LoraInputs.Adapters>.Lease held = lease;
      if (held != null) {
        held.close();
      }
    }

    Pending(
        GenerationRequest request,
        GenerationResponder responder,
        int batch,
        boolean returnLogProbs,
        boolean excludeInput,
        int burst) {
      this.burst = burst;
      this.request = request;
      this.responder = responder;
      this.rows = new Row[batch];
      this.results = new SampledSequence[batch];
      this.returnLogProbs = returnLogProbs;
      this.excludeInput = excludeInput;
      this.remaining = new AtomicInteger(batch);
    }

    void fail(Throwable error) {
      if (ended.compareAndSet(false, true)) {
        release();
        responder.fail(error);
      }
    }

    void done(int index, SampledSequence result) {
      results[index] = result;
      if (remaining.decrementAndGet() == 0 && ended.compareAndSet(false, true)) {
        try {
          responses.execute(this::respond);
        } catch (RejectedExecutionException e) {
          responder.fail(closedError());
        }
      }
    }

    private void respond() {
      release();
      try {
        if (request.decoupled()) {
          for (int b = 0; b < results.length; b++) {
            List<TritonTensor> outputs = outputs(b, b + 1);
            if (results.length > 1) {
              outputs.add(
                  TritonTensor.ofInt32(
                      settings.profile().name(Slot.BATCH_INDEX), new long[] {1, 1}, b));
            }
            responder.send(filter(outputs), b == results.length - 1);
          }
        } else {
          responder.send(filter(outputs(0, results.length)), true);
        }
      } catch (RuntimeException e) {
        responder.fail(e);
      }
    }

    private List<TritonTensor> filter(List<TritonTensor> outputs) {
      if (request.outputs().isEmpty()) {
        return outputs;
      }
      List<TritonTensor> kept = new ArrayList<>();
      for (TritonTensor tensor : outputs) {
        if (request.outputs().contains(tensor.name())
            || tensor.name().equals(settings.profile().name(Slot.BATCH_INDEX))) {
          kept.add(tensor);
        }
      }
      return kept;
    }

    /** The outputs of rows {@code [from, to)}. */
    private List<TritonTensor> outputs(int from, int to) {
      TensorProfile profile = settings.profile();
      int count = to - from;
      int[][] ids = new int[count][];
      int longest = 0;
      int longestGen = 0;
      for (int i = 0; i < count; i++) {
        SampledSequence s = results[from + i];
        int[] completion = s.completion().toArray();
        ids[i] = excludeInput ? completion : s.prompt().tokens().concat(s.completion()).toArray();
        longest = Math.max(longest, ids[i].length);
        longestGen = Math.max(longestGen, completion.length);
      }
      long[] idsFlat = new long[count * longest];
      Arrays.fill(idsFlat, -1L);
      long[] lengths = new long[count];
      float[] logProbs = new float[count * longestGen];
      float[] cumulative = new float[count];
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < ids[i].length; k++) {
          idsFlat[i * longest + k] = ids[i][k];
        }
        lengths[i] = ids[i].length;
        double[] lp = results[from + i].samplingLogProbs().toArray();
        double sum = 0;
        for (int k = 0; k < lp.length; k++) {
          logProbs[i * longestGen + k] = (float) lp[k];
          sum += lp[k];
        }
        cumulative[i] = (float) sum;
      }
      List<TritonTensor> out = new ArrayList<>();
      out.add(
          integerTensor(profile.name(Slot.OUTPUT_IDS), new long[] {count, 1, longest}, idsFlat));
      out.add(integerTensor(profile.name(Slot.SEQUENCE_LENGTH), new long[] {count, 1}, lengths));
      if (returnLogProbs) {
        out.add(
            TritonTensor.ofFp32(
                profile.name(Slot.OUTPUT_LOG_PROBS), new long[] {count, 1, longestGen}, logProbs));
        out.add(
            TritonTensor.ofFp32(
                profile.name(Slot.CUM_LOG_PROBS), new long[] {count, 1}, cumulative));
      }
      return out;
    }

    private TritonTensor integerTensor(String tensor, long[] shape, long[] values) {
      if (settings.profile().tokenDatatype() == TritonDatatype.INT64) {
        return TritonTensor.ofInt64(tensor, shape, values);
      }
      int[] ints = new int[values.length];
      for (int i = 0; i < values.length; i++) {
        ints[i] = (int) values[i];
      }
      return TritonTensor.ofInt32(tensor, shape, ints);
    }
  }
}
