package dev.jbond.serving;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.LogProbs;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.generate.SequenceSeeds;
import dev.jbond.serving.TensorProfile.Slot;
import dev.jbond.serving.lora.LoraTensors;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonEndpointStatus;
import dev.jbond.serving.triton.TritonInferStream;
import dev.jbond.serving.triton.TritonRetryPolicy;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.spi.PolicySampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link PolicySampler} over Triton's protocol with the TensorRT-LLM {@code tensorrt_llm}
 * token-id profile: a Triton fleet serving TensorRT-LLM, or jbond's embedded server.
 *
 * <p>Sample {@code j} of prompt {@code i} is one request with {@code input_ids [1, L]}, {@code
 * input_lengths}, {@code request_output_len = maxNewTokens}, {@code end_id} (the sampling settings'
 * single EOS id, or -1), {@code pad_id}, {@code temperature}, {@code runtime_top_k}, {@code
 * runtime_top_p}, {@code return_log_probs} and {@code seed = SequenceSeeds.seed(seed, prompt id,
 * j)}, so the N samples of a prompt are independent and reproducible, retries give the same answer,
 * and each equals sample {@code j} of the direct sampler with the same settings (the temperature
 * and top-p travel as FP32, so settings that are not exact floats differ from the direct sampler's
 * doubles by rounding). Requests of one call go out at once, each built as it is sent: unary
 * ModelInfer for non-decoupled models (idempotent thanks to the seed, so the client retries them),
 * or ModelStreamInfer: always for decoupled models (with {@code
 * triton_enable_empty_final_response}), and for non-decoupled ones with {@link
 * Builder#optStream(boolean)} (Triton answers each request on a stream with one final response; a
 * stream message costs less than a unary call). A streamed call opens one stream per healthy
 * endpoint and deals its requests over them in turn, so it spreads over the endpoints as unary
 * requests do. When a stream fails as a whole (code UNAVAILABLE: its endpoint went away), the
 * requests it had not answered are sent again on new streams, following the client's {@link
 * TritonClient#retryPolicy() retry policy}; the seeds make the answers the same.
 *
 * <p>Each {@link Generation} holds the completion ({@code output_ids} after the prompt, up to
 * {@code sequence_length}, cut after the first {@code end_id} as a defence against servers whose
 * {@code sequence_length} misses the EOS), the engine's {@code output_log_probs} and the {@link
 * ModelVersion} named by the response's {@code model_version}.
 *
 * <p>Ownership: the client belongs to the caller; {@link #close()} only stops new calls.
 * Thread-safe.
 */
public final class TritonSampler implements PolicySampler {
  private static final System.Logger LOG = System.getLogger(TritonSampler.class.getName());

  private final TritonClient client;
  private final SamplingConfig sampling;
  private final TensorProfile profile;
  private final Map<PolicyRole, String> models;
  private final boolean decoupled;
  private final boolean stream;
  private final boolean returnLogProbs;
  private final boolean batchSamples;
  private final boolean burstHint;
  private final Duration deadline;
  private final ServedAdapters adapters;
  private final AtomicLong loraResends = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Set<String> checkedModels = ConcurrentHashMap.newKeySet();

  private TritonSampler(Builder builder) {
    this.client = builder.client;
    this.sampling = builder.sampling;
    this.profile = builder.profile;
    this.models = new EnumMap<>(builder.models);
    this.decoupled = builder.decoupled;
    this.stream = builder.decoupled || builder.stream;
    this.returnLogProbs = builder.returnLogProbs;
    this.batchSamples = builder.batchSamples;
    this.burstHint = builder.burstHint;
    this.deadline = builder.deadline;
    this.adapters = builder.adapters;
  }

  /** Builds request {@code r} of a call, with the LoRA weights or with the task id only. */
  private interface Requests {
    ModelInferRequest build(int r, boolean loraWeights);
  }

  /** TensorRT-LLM's text for an id-only request of a task a replica does not hold. */
  static final String LORA_NOT_FOUND = "not found in cache";

  /** TensorRT-LLM's text when a replica's adapter cache has no room. */
  static final String LORA_CACHE_FULL = "PEFT Cache is full";

  private static boolean loraNotFound(BackendException e) {
    return e.getMessage() != null && e.getMessage().contains(LORA_NOT_FOUND);
  }

  private static boolean loraCacheFull(BackendException e) {
    return e.getMessage() != null && e.getMessage().contains(LORA_CACHE_FULL);
  }

  private static BackendException cacheStayedFull(
      String model, ServedAdapters.Served lora, int attempts, BackendException last) {
    return new BackendException(
        BackendException.Code.RESOURCE_EXHAUSTED,
        "Expected room for LoRA task "
            + Long.toUnsignedString(lora.taskId())
            + " in the adapter cache of model '"
            + model
            + "', found it full after "
            + attempts
            + " attempts (raise lora_cache_host_memory_bytes, or keep fewer tasks in flight): "
            + last.getMessage(),
        last);
  }

  /**
   * Starts a sampler.
   *
   * @param client the client to send through; not closed by the sampler
   * @param sampling the sampling settings; at most one EOS id (TensorRT-LLM takes one {@code
   *     end_id})
   * @return the builder
   */
  public static Builder builder(TritonClient client, SamplingConfig sampling) {
    return new Builder(client, sampling);
  }

  @Override
  public List<Generation> sample(
      List<Prompt> prompts, int samplesPerPrompt, PolicyRole role, long seed) {
    return sample(prompts, samplesPerPrompt, role, seed, TritonCallOptions.defaults());
  }

  /**
   * Draws completions with per-call options (for example a shorter deadline or one endpoint).
   *
   * @param prompts the prompts, not empty
   * @param samplesPerPrompt completions per prompt, {@code >= 1}
   * @param role which served model to sample from
   * @param seed the request seed
   * @param options per-call settings; without a deadline the builder's applies to each request
   * @return prompt-major list of {@code prompts.size() * samplesPerPrompt} generations
   * @throws IllegalArgumentException when {@code prompts} is empty or {@code samplesPerPrompt < 1}
   * @throws IllegalStateException when the sampler is closed
   * @throws BackendException when a request fails (after the client's retries) or the thread is
   *     interrupted while waiting (code UNAVAILABLE; the requests are cancelled)
   */
  public List<Generation> sample(
      List<Prompt> prompts,
      int samplesPerPrompt,
      PolicyRole role,
      long seed,
      TritonCallOptions options) {
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(options, "options");
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("Expected at least one prompt, found none");
    }
    if (samplesPerPrompt < 1) {
      throw new IllegalArgumentException(
          "Expected samples per prompt >= 1, found " + samplesPerPrompt);
    }
    if (closed.get()) {
      throw new IllegalStateException("TritonSampler is closed");
    }
    String model = models.get(role);
    TritonCallOptions call =
        (options.deadline().isPresent() ? options : options.withDeadline(deadline))
            .withIdempotent(true);
    ServedAdapters.Served lora = adapters == null ? null : adapters.get(role).orElse(null);
    String checkKey = lora == null ? model : model + " with LoRA";
    if (!checkedModels.contains(checkKey)) {
      checkServedTensors(model, call, lora);
      checkedModels.add(checkKey);
    }
    if (decoupled && batchSamples) {
      return sampleBatched(prompts, samplesPerPrompt, model, seed, call, lora);
    }
    int count = prompts.size() * samplesPerPrompt;
    int burstRows = burstHint ? count : 0;
    // requests are built as they go out, so the server starts on the first ones sooner; the id
    // leads with the index, unique on a stream even when prompt ids repeat
    Requests build =
        (r, weights) -> {
          Prompt prompt = prompts.get(r / samplesPerPrompt);
          int j = r % samplesPerPrompt;
          return request(
              model,
              prompt,
              r + "/" + prompt.id() + "/" + j,
              burstRows,
              lora,
              weights,
              SequenceSeeds.seed(seed, prompt.id(), j));
        };
    List<List<ModelInferResponse>> answers =
        stream
            ? streamed(count, build, model, seed, call, lora)
            : unary(count, build, model, seed, call, lora);
    List<Generation> out = new ArrayList<>(count);
    for (int r = 0; r < count; r++) {
      out.add(generation(model, prompts.get(r / samplesPerPrompt), answers.get(r), lora));
    }
    return out;
  }

  /**
   * Sends the requests one by one; with a LoRA adapter, a request that a replica answers with "not
   * found in cache" is sent again with the weights, and one it answers with "PEFT Cache is full" is
   * sent again after the retry policy's backoff, while attempts remain.
   */
  private List<List<ModelInferResponse>> unary(
      int count,
      Requests build,
      String model,
      long seed,
      TritonCallOptions call,
      ServedAdapters.Served lora) {
    List<CompletableFuture<List<ModelInferResponse>>> futures = new ArrayList<>(count);
    List<List<ModelInferResponse>> answers = new ArrayList<>(count);
    TritonRetryPolicy retry = client.retryPolicy();
    SplittableRandom jitter = new SplittableRandom(seed);
    try {
      for (int r = 0; r < count; r++) {
        futures.add(client.modelInfer(build.build(r, false), call).thenApply(List::of));
      }
      for (int r = 0; r < count; r++) {
        CompletableFuture<List<ModelInferResponse>> future = futures.get(r);
        boolean weights = false;
        for (int attempt = 1; ; attempt++) {
          try {
            answers.add(await(future, model));
            break;
          } catch (BackendException e) {
            if (lora == null || attempt >= retry.maxAttempts()) {
              throw lora != null && loraCacheFull(e) ? cacheStayedFull(model, lora, attempt, e) : e;
            }
            if (loraNotFound(e)) {
              weights = true;
              loraResends.incrementAndGet();
            } else if (loraCacheFull(e)) {
              sleep(retry.backoff(attempt, jitter), model);
            } else {
              throw e;
            }
            future = client.modelInfer(build.build(r, weights), call).thenApply(List::of);
            futures.set(r, future);
          }
        }
      }
    } catch (RuntimeException e) {
      futures.forEach(f -> f.cancel(false));
      throw e;
    }
    return answers;
  }

  /**
   * Sends the requests on streams to the healthy endpoints and, while attempts remain, sends the
   * ones that a failing stream left unanswered on new streams (the endpoint pool ejects the failed
   * endpoint and picks healthy ones).
   */
  private List<List<ModelInferResponse>> streamed(
      int count,
      Requests build,
      String model,
      long seed,
      TritonCallOptions call,
      ServedAdapters.Served lora) {
    TritonRetryPolicy retry = client.retryPolicy();
    SplittableRandom jitter = new SplittableRandom(seed);
    List<ModelInferRequest> requests = new ArrayList<>(count);
    List<List<ModelInferResponse>> answers = new ArrayList<>(count);
    List<Integer> todo = new ArrayList<>(count);
    for (int r = 0; r < count; r++) {
      answers.add(null);
      todo.add(r);
    }
    for (int attempt = 1; ; attempt++) {
      List<CompletableFuture<List<ModelInferResponse>>> futures = new ArrayList<>(todo.size());
      List<TritonInferStream> streams = new ArrayList<>();
      try {
        int width = Math.min(todo.size(), streamsPerCall(call));
        for (int k = 0; k < width; k++) {
          streams.add(client.openInferStream(call));
        }
        for (int k = 0; k < todo.size(); k++) {
          int r = todo.get(k);
          if (requests.size() == r) {
            requests.add(build.build(r, false));
          }
          futures.add(streams.get(k % width).send(requests.get(r)));
        }
      } catch (RuntimeException e) {
        futures.forEach(f -> f.cancel(false));
        streams.forEach(TritonInferStream::cancel);
        throw e;
      }
      streams.forEach(TritonInferStream::close);
      List<Integer> again = new ArrayList<>();
      BackendException lost = null;
      try {
        for (int k = 0; k < todo.size(); k++) {
          try {
            answers.set(todo.get(k), await(futures.get(k), model));
          } catch (BackendException e) {
            boolean notFound = lora != null && loraNotFound(e);
            boolean full = lora != null && loraCacheFull(e);
            if (attempt >= retry.maxAttempts() || !(streamLost(e) || notFound || full)) {
              throw full ? cacheStayedFull(model, lora, attempt, e) : e;
            }
            if (notFound) {
              // this replica does not hold the task (evicted, or never sent): send the weights
              requests.set(todo.get(k), build.build(todo.get(k), true));
              loraResends.incrementAndGet();
            }
            again.add(todo.get(k));
            lost = e;
          }
        }
      } catch (RuntimeException e) {
        futures.forEach(f -> f.cancel(false));
        streams.forEach(TritonInferStream::cancel); // the server stops the work left
        throw e;
      }
      if (again.isEmpty()) {
        return answers;
      }
      LOG.log(
          System.Logger.Level.WARNING,
          "Resending {0} of {1} requests to model ''{2}'' on a new stream (attempt {3} of {4}): {5}",
          again.size(),
          count,
          model,
          attempt + 1,
          retry.maxAttempts(),
          lost.getMessage());
      sleep(retry.backoff(attempt, jitter), model);
      todo = again;
    }
  }

  /**
   * One stream per healthy endpoint (the pool hands them out in turn), so that a call spreads over
   * the endpoints as unary requests do; one when the call names its endpoint.
   */
  private int streamsPerCall(TritonCallOptions call) {
    if (call.endpoint().isPresent()) {
      return 1;
    }
    return (int)
        Math.max(
            1, client.endpointStatuses().stream().filter(TritonEndpointStatus::available).count());
  }

  /**
   * Whether a request failed because its whole stream did (not by its own error, not cancelled).
   */
  private static boolean streamLost(BackendException e) {
    return e.code() == BackendException.Code.UNAVAILABLE
        && e.getCause() instanceof BackendException
        && !Thread.currentThread().isInterrupted();
  }

  private static void sleep(Duration pause, String model) {
    TritonFutures.sleep(pause, "sampling from model '" + model + "'");
  }

  /** One request per prompt with one row per sample; responses mapped back by batch_index. */
  private List<Generation> sampleBatched(
      List<Prompt> prompts,
      int samplesPerPrompt,
      String model,
      long seed,
      TritonCallOptions call,
      ServedAdapters.Served lora) {
    List<long[]> allSeeds = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      Prompt prompt = prompts.get(i);
      long[] seeds = new long[samplesPerPrompt];
      for (int j = 0; j < samplesPerPrompt; j++) {
        seeds[j] = SequenceSeeds.seed(seed, prompt.id(), j);
      }
      allSeeds.add(seeds);
    }
    Requests build =
        (i, weights) ->
            request(
                model,
                prompts.get(i),
                i + "/" + prompts.get(i).id(),
                burstHint ? prompts.size() * samplesPerPrompt : 0,
                lora,
                weights,
                allSeeds.get(i));
    List<List<ModelInferResponse>> answers =
        streamed(prompts.size(), build, model, seed, call, lora);
    List<Generation> out = new ArrayList<>(prompts.size() * samplesPerPrompt);
    for (int i = 0; i < prompts.size(); i++) {
      Prompt prompt = prompts.get(i);
      Generation[] rows = new Generation[samplesPerPrompt];
      for (ModelInferResponse response : answers.get(i)) {
        if (response.getOutputsCount() == 0) {
          continue;
        }
        TritonTensor index = TritonTensors.outputs(response).get(profile.name(Slot.BATCH_INDEX));
        int row = index == null ? 0 : (int) index.toLongs()[0];
        if (row < 0 || row >= samplesPerPrompt || rows[row] != null) {
          throw new BackendException(
              BackendException.Code.INTERNAL,
              "Expected distinct batch_index values in [0, "
                  + samplesPerPrompt
                  + ") from model '"
                  + model
                  + "' for prompt '"
                  + prompt.id()
                  + "', found "
                  + row,
              null);
        }
        rows[row] = generation(model, prompt, List.of(response), lora);
      }
      for (int j = 0; j < samplesPerPrompt; j++) {
        if (rows[j] == null) {
          throw new BackendException(
              BackendException.Code.INTERNAL,
              "Expected a response for row "
                  + j
                  + " of prompt '"
                  + prompt.id()
                  + "' from model '"
                  + model
                  + "', found none",
              null);
        }
        out.add(rows[j]);
      }
    }
    return out;
  }

  private static <T> T await(CompletableFuture<T> future, String model) {
    return TritonFutures.await(
        future, "sampling from model '" + model + "'", "sample from model '" + model + "'");
  }

  /**
   * A tensor this sampler sends or reads: its name, datatype and rank (batch dimension included).
   */
  private record Expected(String name, TritonDatatype datatype, int rank) {
    String describe() {
      return datatype.wireName() + " of rank " + rank;
    }
  }

  /**
   * Checks, once per model, that the served model's metadata lists every tensor this sampler sends
   * and reads with the datatype and rank it uses: a mismatch would otherwise surface as a failed
   * request per sample, or as numbers read with the wrong type. A model whose metadata lists no
   * tensors at all (a server that does not describe its models) is not checked.
   *
   * @throws IllegalStateException naming the tensor, the expected and the served type
   * @throws BackendException when the metadata cannot be fetched
   */
  private void checkServedTensors(
      String model, TritonCallOptions call, ServedAdapters.Served lora) {
    ModelMetadataResponse metadata =
        TritonFutures.await(
            client.modelMetadata(model, "", call),
            "sampling from model '" + model + "'",
            "read the metadata of model '" + model + "'");
    if (metadata.getInputsCount() == 0 && metadata.getOutputsCount() == 0) {
      LOG.log(
          System.Logger.Level.WARNING,
          "Model ''{0}'' lists no tensors in its metadata; its inputs and outputs are not checked",
          model);
      return;
    }
    TritonDatatype token = profile.tokenDatatype();
    List<Expected> inputs = new ArrayList<>();
    for (Slot slot :
        List.of(
            Slot.INPUT_IDS,
            Slot.INPUT_LENGTHS,
            Slot.REQUEST_OUTPUT_LEN,
            Slot.END_ID,
            Slot.PAD_ID,
            Slot.RUNTIME_TOP_K)) {
      inputs.add(new Expected(profile.name(slot), token, 2));
    }
    inputs.add(new Expected(profile.name(Slot.TEMPERATURE), TritonDatatype.FP32, 2));
    inputs.add(new Expected(profile.name(Slot.RUNTIME_TOP_P), TritonDatatype.FP32, 2));
    inputs.add(new Expected(profile.name(Slot.SEED), profile.seedDatatype(), 2));
    inputs.add(new Expected(profile.name(Slot.RETURN_LOG_PROBS), TritonDatatype.BOOL, 2));
    if (lora != null) {
      // an engine whose LoRA plugin has another dtype silently ignores the adapter (trtllm #791)
      inputs.add(new Expected(profile.name(Slot.LORA_TASK_ID), TritonDatatype.UINT64, 2));
      inputs.add(
          new Expected(profile.name(Slot.LORA_WEIGHTS), lora.tensors().weights().datatype(), 3));
      inputs.add(new Expected(profile.name(Slot.LORA_CONFIG), TritonDatatype.INT32, 3));
    }
    List<Expected> outputs = new ArrayList<>();
    outputs.add(new Expected(profile.name(Slot.OUTPUT_IDS), token, 3));
    outputs.add(new Expected(profile.name(Slot.SEQUENCE_LENGTH), token, 2));
    if (returnLogProbs) {
      outputs.add(new Expected(profile.name(Slot.OUTPUT_LOG_PROBS), TritonDatatype.FP32, 3));
    }
    check(model, "input", inputs, metadata.getInputsList());
    check(model, "output", outputs, metadata.getOutputsList());
  }

  private static void check(
      String model,
      String kind,
      List<Expected> expected,
      List<ModelMetadataResponse.TensorMetadata> served) {
    Map<String, ModelMetadataResponse.TensorMetadata> byName = new HashMap<>();
    for (ModelMetadataResponse.TensorMetadata t : served) {
      byName.put(t.getName(), t);
    }
    for (Expected e : expected) {
      ModelMetadataResponse.TensorMetadata t = byName.get(e.name());
      if (t == null) {
        throw new IllegalStateException(
            "Expected model '"
                + model
                + "' to have "
                + kind
                + " '"
                + e.name()
                + "' ("
                + e.describe()
                + "), found no such "
                + kind
                + " (it has: "
                + served.stream().map(ModelMetadataResponse.TensorMetadata::getName).toList()
                + ")");
      }
      if (!t.getDatatype().equals(e.datatype().wireName()) || t.getShapeCount() != e.rank()) {
        throw new IllegalStateException(
            "Expected "
                + kind
                + " '"
                + e.name()
                + "' of model '"
                + model
                + "' to be "
                + e.describe()
                + ", found "
                + t.getDatatype()
                + " of rank "
                + t.getShapeCount()
                + " (shape "
                + t.getShapeList()
                + ")");
      }
    }
  }

  /** One request whose {@code seeds.length} rows all hold {@code prompt}. */
  private ModelInferRequest request(
      String model,
      Prompt prompt,
      String id,
      int burstRows,
      ServedAdapters.Served lora,
      boolean loraWeights,
      long... seeds) {
    return request(model, prompt, id, burstRows, lora, loraWeights, sampling.maxNewTokens(), seeds);
  }

  private ModelInferRequest request(
      String model,
      Prompt prompt,
      String id,
      int burstRows,
      ServedAdapters.Served lora,
      boolean loraWeights,
      int maxNewTokens,
      long... seeds) {
    int[] ids = prompt.tokens().toArray();
    int rows = seeds.length;
    long[] column = {rows, 1};
    int[] allIds = new int[rows * ids.length];
    for (int b = 0; b < rows; b++) {
      System.arraycopy(ids, 0, allIds, b * ids.length, ids.length);
    }
    boolean[] flags = new boolean[rows];
    Arrays.fill(flags, returnLogProbs);
    List<TritonTensor> inputs = new ArrayList<>();
    inputs.add(tokens(Slot.INPUT_IDS, new long[] {rows, ids.length}, allIds));
    inputs.add(tokens(Slot.INPUT_LENGTHS, column, repeat(rows, ids.length)));
    inputs.add(tokens(Slot.REQUEST_OUTPUT_LEN, column, repeat(rows, maxNewTokens)));
    inputs.add(tokens(Slot.END_ID, column, repeat(rows, endId())));
    inputs.add(tokens(Slot.PAD_ID, column, repeat(rows, sampling.padTokenId())));
    inputs.add(
        TritonTensor.ofFp32(
            profile.name(Slot.TEMPERATURE), column, repeat(rows, (float) sampling.temperature())));
    inputs.add(tokens(Slot.RUNTIME_TOP_K, column, repeat(rows, sampling.topK())));
    inputs.add(
        TritonTensor.ofFp32(
            profile.name(Slot.RUNTIME_TOP_P), column, repeat(rows, (float) sampling.topP())));
    inputs.add(
        profile.seedDatatype() == TritonDatatype.UINT64
            ? TritonTensor.ofUint64(profile.name(Slot.SEED), column, seeds)
            : TritonTensor.ofInt64(profile.name(Slot.SEED), column, seeds));
    inputs.add(TritonTensor.ofBools(profile.name(Slot.RETURN_LOG_PROBS), column, flags));
    if (lora != null) {
      inputs.add(renamed(LoraTensors.taskId(lora.taskId()), Slot.LORA_TASK_ID));
      if (loraWeights) {
        inputs.add(renamed(lora.tensors().weights(), Slot.LORA_WEIGHTS));
        inputs.add(renamed(lora.tensors().config(), Slot.LORA_CONFIG));
      }
    }
    ModelInferRequest.Builder request =
        ModelInferRequest.newBuilder().setModelName(model).setId(id);
    TritonTensors.setInputs(request, inputs);
    List<String> outputs = new ArrayList<>();
    outputs.add(profile.name(Slot.OUTPUT_IDS));
    outputs.add(profile.name(Slot.SEQUENCE_LENGTH));
    if (returnLogProbs) {
      outputs.add(profile.name(Slot.OUTPUT_LOG_PROBS));
    }
    TritonTensors.setRequestedOutputs(request, outputs);
    if (decoupled) {
      request.putParameters(
          TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER, TritonTensors.boolParameter(true));
    }
    if (burstRows > 0) {
      request.putParameters(TensorProfile.BURST_PARAMETER, TritonTensors.int64Parameter(burstRows));
    }
    return request.build();
  }

  /** The tensor under this profile's name of the slot. */
  private TritonTensor renamed(TritonTensor tensor, Slot slot) {
    String name = profile.name(slot);
    return tensor.name().equals(name)
        ? tensor
        : TritonTensor.ofRaw(name, tensor.datatype(), tensor.shape(), tensor.raw());
  }

  private static int[] repeat(int count, int value) {
    int[] out = new int[count];
    Arrays.fill(out, value);
    return out;
  }

  private static float[] repeat(int count, float value) {
    float[] out = new float[count];
    Arrays.fill(out, value);
    return out;
  }

  private int endId() {
    return sampling.eosTokenIds().isEmpty() ? -1 : sampling.eosTokenIds().get(0);
  }

  private TritonTensor tokens(Slot slot, long[] shape, int... values) {
    if (profile.tokenDatatype() == TritonDatatype.INT64) {
      long[] longs = new long[values.length];
      for (int i = 0; i < values.length; i++) {
        longs[i] = values[i];
      }
      return TritonTensor.ofInt64(profile.name(slot), shape, longs);
    }
    return TritonTensor.ofInt32(profile.name(slot), shape, values);
  }

  private Generation generation(
      String model, Prompt prompt, List<ModelInferResponse> responses, ServedAdapters.Served lora) {
    ModelInferResponse response = null;
    for (ModelInferResponse r : responses) {
      if (r.getOutputsCount() > 0) {
        response = r;
      }
    }
    if (response == null) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Expected a response with outputs from model '"
              + model
              + "' for prompt '"
              + prompt.id()
              + "', found "
              + responses.size()
              + " empty responses",
          null);
    }
    Map<String, TritonTensor> outputs = TritonTensors.outputs(response);
    TritonTensor idsTensor = requiredOutput(outputs, Slot.OUTPUT_IDS, model);
    long[] ids = idsTensor.toLongs();
    int promptLength = prompt.tokens().length();
    int end = ids.length;
    TritonTensor lengthTensor = outputs.get(profile.name(Slot.SEQUENCE_LENGTH));
    if (lengthTensor != null && lengthTensor.elementCount() > 0) {
      end = (int) Math.min(end, lengthTensor.toLongs()[0]);
    }
    int endId = endId();
    List<Integer> completion = new ArrayList<>();
    for (int k = promptLength; k < end; k++) {
      int token = (int) ids[k];
      if (token < 0) {
        break;
      }
      completion.add(token);
      if (token == endId) {
        break;
      }
    }
    int[] tokens = completion.stream().mapToInt(Integer::intValue).toArray();
    Optional<LogProbs> logProbs = Optional.empty();
    TritonTensor lp = outputs.get(profile.name(Slot.OUTPUT_LOG_PROBS));
    if (returnLogProbs && lp != null) {
      float[] values = lp.toFloats();
      if (values.length < tokens.length) {
        throw new BackendException(
            BackendException.Code.INTERNAL,
            "Expected at least "
                + tokens.length
                + " values in output '"
                + profile.name(Slot.OUTPUT_LOG_PROBS)
                + "' of model '"
                + model
                + "', found "
                + values.length,
            null);
      }
      double[] doubles = new double[tokens.length];
      for (int k = 0; k < tokens.length; k++) {
        doubles[k] = values[k];
      }
      logProbs = Optional.of(LogProbs.of(doubles));
    }
    long version = 0;
    if (lora != null) {
      version = lora.version(); // the adapter is the weights this sample came from
    } else if (!response.getModelVersion().isEmpty()) {
      try {
        version = Long.parseLong(response.getModelVersion());
      } catch (NumberFormatException e) {
        throw new BackendException(
            BackendException.Code.INTERNAL,
            "Expected a numeric model_version from model '"
                + model
                + "', found '"
                + response.getModelVersion()
                + "'",
            e);
      }
    }
    return new Generation(
        prompt, TokenSequence.of(tokens), logProbs, new ModelVersion(model, version));
  }

  private TritonTensor requiredOutput(Map<String, TritonTensor> outputs, Slot slot, String model) {
    TritonTensor tensor = outputs.get(profile.name(slot));
    if (tensor == null) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Expected output '"
              + profile.name(slot)
              + "' from model '"
              + model
              + "', found outputs "
              + List.copyOf(outputs.keySet()),
          null);
    }
    return tensor;
  }

  /**
   * Sends a role's adapter to one endpoint, as the first request of its task there: one row of one
   * new token that carries the weights, so that the replica holds the task before the id-only
   * requests of a sampling call arrive (an id-only request taken in before would fail).
   *
   * @param role the role whose model takes the adapter
   * @param served the adapter
   * @param endpoint the endpoint's name ({@link TritonClient#endpointStatuses()})
   * @return completes when the endpoint has answered
   */
  public CompletableFuture<List<ModelInferResponse>> sendAdapter(
      PolicyRole role, ServedAdapters.Served served, String endpoint) {
    Objects.requireNonNull(served, "served");
    String model = models.get(role);
    Prompt probe =
        new Prompt("lora-" + Long.toUnsignedString(served.taskId()), TokenSequence.of(0));
    ModelInferRequest request =
        request(
            model,
            probe,
            "lora/" + Long.toUnsignedString(served.taskId()),
            0,
            served,
            true,
            1,
            new long[] {0L});
    TritonCallOptions call =
        TritonCallOptions.defaults()
            .withDeadline(deadline)
            .withIdempotent(true)
            .onEndpoint(endpoint);
    return client.modelInfer(request, call).thenApply(List::of);
  }

  /**
   * Returns how many requests were sent again with their LoRA weights because a replica did not
   * hold the task ("not found in cache").
   *
   * @return the count so far
   */
  public long loraWeightResends() {
    return loraResends.get();
  }

  /**
   * Returns the model name a role samples from.
   *
   * @param role the role
   * @return the Triton model name
   */
  public String modelName(PolicyRole role) {
    return models.get(Objects.requireNonNull(role, "role"));
  }

  /** Stops new calls; idempotent. The client stays open (the caller owns it). */
  @Override
  public void close() {
    closed.set(true);
  }

  /** Returns the models, transport, deadline and sampling settings. */
  @Override
  public String toString() {
    return "TritonSampler "
        + models
        + (decoupled ? " stream" : " unary")
        + " deadline="
        + deadline
        + " returnLogProbs="
        + returnLogProbs
        + " "
        + sampling;
  }

  /**
   * Builds a {@link TritonSampler}. Required: the client and the sampling settings (arguments of
   * {@link TritonSampler#builder}).
   */
  public static final class Builder {
    private final TritonClient client;
    private final SamplingConfig sampling;
    private TensorProfile profile = TensorProfile.trtLlm();
    private final Map<PolicyRole, String> models = new EnumMap<>(PolicyRole.class);
    private boolean decoupled;
    private boolean stream;
    private boolean returnLogProbs = true;
    private boolean batchSamples;
    private boolean burstHint;
    private Duration deadline = Duration.ofSeconds(60);
    private ServedAdapters adapters;

    private Builder(TritonClient client, SamplingConfig sampling) {
      this.client = Objects.requireNonNull(client, "client");
      this.sampling = Objects.requireNonNull(sampling, "sampling");
      for (PolicyRole role : PolicyRole.values()) {
        models.put(role, "jbond-" + role.label());
      }
    }

    /**
     * Sets the Triton model a role samples from. Default {@code "jbond-" + role.label()}, e.g.
     * {@code jbond-policy}.
     *
     * @param role the role
     * @param model the model name, non-empty
     * @return this builder
     */
    public Builder optModelName(PolicyRole role, String model) {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(model, "model");
      if (model.isEmpty()) {
        throw new IllegalArgumentException(
            "Expected a non-empty model name for role '" + role.label() + "'");
      }
      models.put(role, model);
      return this;
    }

    /**
     * Sets the tensor names and datatypes. Default {@link TensorProfile#trtLlm()}.
     *
     * @param profile the profile
     * @return this builder
     */
    public Builder optProfile(TensorProfile profile) {
      this.profile = Objects.requireNonNull(profile, "profile");
      return this;
    }

    /**
     * Sets whether the models are decoupled (sampled over ModelStreamInfer). Default false (unary
     * ModelInfer).
     *
     * @param decoupled whether to stream
     * @return this builder
     */
    public Builder optDecoupled(boolean decoupled) {
      this.decoupled = decoupled;
      return this;
    }

    /**
     * Sets whether the requests of a call to a non-decoupled model go out on one ModelStreamInfer
     * stream instead of one unary ModelInfer each. Triton accepts any model on a stream and answers
     * each request with one response flagged final; a stream costs less per request than a call. A
     * call opens one stream per healthy endpoint and deals its requests over them; a failed
     * stream's unanswered requests are sent again on new streams. Decoupled models always stream.
     * Default false (unary, what NVIDIA recommends unless streaming is needed; behind a load
     * balancer every unary request can reach another backend, a stream's requests cannot).
     *
     * @param stream whether to stream requests to non-decoupled models
     * @return this builder
     */
    public Builder optStream(boolean stream) {
      this.stream = stream;
      return this;
    }

    /**
     * Sets whether a decoupled model gets one request per prompt whose rows are the samples ({@code
     * input_ids [N, L]}, {@code seed [N, 1]}; TensorRT-LLM answers one response per row with {@code
     * batch_index}), instead of one request per sample. Fewer, larger requests; only for decoupled
     * models (TensorRT-LLM rejects {@code B > 1} otherwise). Default false.
     *
     * @param batchSamples whether to send the samples of a prompt as rows of one request
     * @return this builder
     */
    public Builder optBatchSamples(boolean batchSamples) {
      this.batchSamples = batchSamples;
      return this;
    }

    /**
     * Sets whether each request carries the int64 parameter {@value TensorProfile#BURST_PARAMETER}
     * (the number of rows this call sends), with which jbond's embedded server decodes a call's
     * requests in one batch even when they reach it spread out; Triton passes unknown parameters to
     * the backend, which ignores them. Default false.
     *
     * @param burstHint whether to announce each call's row count
     * @return this builder
     */
    public Builder optBurstHint(boolean burstHint) {
      this.burstHint = burstHint;
      return this;
    }

    /**
     * Sets whether to ask for the engine's log-probs. Default true.
     *
     * @param returnLogProbs whether to send {@code return_log_probs = true}
     * @return this builder
     */
    public Builder optReturnLogProbs(boolean returnLogProbs) {
      this.returnLogProbs = returnLogProbs;
      return this;
    }

    /**
     * Sets the deadline of each request (of each stream when streaming). Default 60 s.
     *
     * @param deadline the deadline, {@code > 0}
     * @return this builder
     */
    public Builder optDeadline(Duration deadline) {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("Expected a deadline > 0, found " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Samples each role with the LoRA adapter the registry holds for it (a role it holds none for
     * samples the base model): every request carries the role's {@code lora_task_id}; the weights
     * go with a request only when a replica answers that it does not hold the task (the publisher
     * sends them to each endpoint first). Generations carry the adapter's version. Default: none.
     *
     * @param adapters the registry, shared with the publisher
     * @return this builder
     */
    public Builder optAdapters(ServedAdapters adapters) {
      this.adapters = Objects.requireNonNull(adapters, "adapters");
      return this;
    }

    /**
     * Returns the sampler.
     *
     * @return the sampler; closing it leaves the client open
     * @throws IllegalArgumentException when the sampling settings have more than one EOS id, or
     *     batched samples are asked for a model that is not decoupled
     */
    public TritonSampler build() {
      if (batchSamples && !decoupled) {
        throw new IllegalArgumentException(
            "Expected a decoupled model for batched samples (TensorRT-LLM requires decoupled mode"
                + " for batch size > 1), found decoupled = false");
      }
      if (sampling.eosTokenIds().size() > 1) {
        throw new IllegalArgumentException(
            "Expected at most one EOS id (TensorRT-LLM's end_id), found " + sampling.eosTokenIds());
      }
      return new TritonSampler(this);
    }
  }
}
