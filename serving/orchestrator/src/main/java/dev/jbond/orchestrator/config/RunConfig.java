package dev.jbond.orchestrator.config;

import io.micronaut.core.annotation.Introspected;
import jakarta.annotation.Nullable;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The configuration of one J-BOND run: what {@code bond run --config FILE} reads (YAML, or JSON)
 * and what a run writes back as {@code config.yaml}. Keys are the record components in kebab case
 * ({@code checkpointEvery} is {@code checkpoint-every}); every key is optional and takes the
 * default of {@link #defaults()} when absent. {@link RunConfigLoader} binds and validates a file;
 * README lists every key with its default.
 *
 * @param policy the policy to train (and, unless {@code reference} says otherwise, the reference)
 * @param reference the reference policy pi_ref
 * @param reward the reward model
 * @param prompts the prompts and how they are split and batched
 * @param sampling how training samples are drawn
 * @param objective the objective: J-BOND (default), BOND, iterative BOND or REINFORCE
 * @param optimizer AdamW and its learning-rate schedule
 * @param serving where samples come from: the embedded Triton-protocol server or Triton endpoints
 * @param eval the evaluation on held-out prompts
 * @param run steps, seed, staleness, checkpoints
 */
@Introspected
public record RunConfig(
    @NotNull @Valid Policy policy,
    @NotNull @Valid Reference reference,
    @NotNull @Valid Reward reward,
    @NotNull @Valid Prompts prompts,
    @NotNull @Valid Sampling sampling,
    @NotNull @Valid ObjectiveSection objective,
    @NotNull @Valid Optimizer optimizer,
    @NotNull @Valid Serving serving,
    @NotNull @Valid Eval eval,
    @NotNull @Valid Run run) {

  /**
   * Returns whether the run trains LoRA adapters and sends them with the requests ({@code
   * policy.lora.rank > 0} and {@code serving.lora.publish: adapters}).
   *
   * @return whether adapters go per request
   */
  public boolean adaptersPerRequest() {
    return policy.lora().rank() > 0 && serving.lora().publish() == LoraPublish.ADAPTERS;
  }

  /**
   * Returns the defaults of every key. The two paths without a meaningful default ({@code
   * policy.model}, {@code reward.model}, {@code prompts.file}) are empty and must be given.
   *
   * @return the defaults
   */
  public static RunConfig defaults() {
    return new RunConfig(
        new Policy(""),
        new Reference(null),
        new Reward("", "input_ids", "attention_mask", "score", 64, 0, null, null, null, null),
        new Prompts("", 32, 0.2),
        new Sampling(64, 1.0, 0, 1.0),
        new ObjectiveSection(
            ObjectiveKind.JBOND,
            0.5,
            0.02,
            0.0,
            Math.log(16),
            BaselineKind.NONE,
            null,
            4,
            16,
            1000,
            0.1),
        new Optimizer(3e-6, 100, ScheduleKind.CONSTANT, 0.0, 0.0, 0.9, 0.999, 1e-8, 1.0, 4096, 0),
        new Serving(
            ServingMode.EMBEDDED,
            Transport.UNARY,
            List.of(),
            Duration.ofSeconds(60),
            Duration.ofSeconds(120),
            new Retry(4, Duration.ofMillis(100), Duration.ofSeconds(5)),
            new Health(Duration.ofSeconds(5), Duration.ofSeconds(2), 3),
            new ModelNames("jbond-policy", "jbond-anchor", "jbond-reference"),
            0,
            64),
        new Eval(4, 16, 0, 1.0, 0, 1.0),
        new Run(1000, 0, 0, 100, 100, 3, 2, false, null, true, 2.0, true, 0.01));
  }

  /**
   * The policy being trained.
   *
   * @param model a jbond model directory ({@code config.json}, {@code model.onnx}, {@code
   *     decode.onnx}, {@code weights.bin}); its weights are the initial policy and anchor
   * @param lora low-rank adapters to train instead of the whole model (rank 0: the whole model)
   */
  @Introspected
  public record Policy(
      @NotBlank(message = "expected the path of a model directory") String model,
      @NotNull @Valid Lora lora) {
    /**
     * A policy whose whole model is trained.
     *
     * @param model see the record description
     */
    public Policy(String model) {
      this(model, Lora.OFF);
    }
  }

  /**
   * Low-rank adapters (LoRA): the learner trains only {@code A [r, in]} and {@code B [out, r]} at
   * each target projection ({@code x W + (alpha / r) (x A^T) B^T}); the reference is the base model
   * and the anchor an EMA of the adapters. The initial {@code A} is drawn from {@code run.seed}.
   *
   * @param rank the adapters' rank r; 0 trains the whole model
   * @param alpha the scale numerator (the branch is scaled by alpha / r)
   * @param modules TensorRT-LLM target modules ({@code attn_qkv}, {@code attn_q}, {@code attn_k},
   *     {@code attn_v}, {@code attn_dense}, {@code mlp_h_to_4h}, {@code mlp_4h_to_h}, {@code
   *     mlp_gate}); empty: every module the model has except {@code attn_qkv} where {@code attn_q},
   *     {@code attn_k} and {@code attn_v} exist
   */
  @Introspected
  public record Lora(
      @Min(value = 0, message = "expected an integer >= 0 (0: train the whole model)") int rank,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0") double alpha,
      @NotNull List<String> modules) {
    /** No adapters: the whole model is trained. */
    public static final Lora OFF = new Lora(0, 16.0, List.of());

    /**
     * Validates the components.
     *
     * @param rank see the record description
     * @param alpha see the record description
     * @param modules see the record description
     */
    public Lora {
      modules = modules == null ? null : List.copyOf(modules);
    }
  }

  /**
   * The reference policy pi_ref, against which KL and quantiles are measured.
   *
   * @param model a jbond model directory of the same architecture as the policy; null: the policy's
   *     initial weights (the usual case: the reference is the SFT model the run starts from)
   */
  @Introspected
  public record Reference(@Nullable String model) {}

  /**
   * The reward model: an ONNX graph from token ids (and mask) to one score per sequence (or a
   * sequence classifier's logits with a label choosing the column), run in process on ONNX Runtime,
   * or served by Triton.
   *
   * @param model the {@code .onnx} file, or a directory holding one (a Triton model directory: its
   *     highest version's {@code model.onnx})
   * @param inputIds the token-id input's name
   * @param attentionMask the attention-mask input's name; null or empty: the model takes none
   * @param output the score output's name
   * @param maxBatchRows sequences per ONNX Runtime run
   * @param threads ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose
   * @param label the column of a {@code [B, labels]} output (a Hugging Face sequence classifier's
   *     {@code logits}) that is the reward; null: the output has one score per sequence
   * @param tritonModel the name under which Triton serves the reward model: scores then go over
   *     ModelInfer to the run's endpoints (with the embedded server, it serves {@code model} under
   *     this name); null: scored in process
   * @param tokenizer the reward model's own tokenizer: a {@code tokenizer.json}, or a directory
   *     holding one; the prompt and completion are then decoded with the policy's tokenizer and the
   *     text is encoded with this one (special tokens such as BERT's {@code [CLS]} and {@code
   *     [SEP]} included). Null: a {@code tokenizer.json} beside the reward model when there is one,
   *     else the reward reads the policy's token ids
   * @param template how prompt and completion become the reward model's text, with {@code {prompt}}
   *     and {@code {completion}} standing for them; null: {@code {prompt}{completion}}
   */
  @Introspected
  public record Reward(
      @NotBlank(message = "expected the path of an ONNX reward model") String model,
      @NotBlank(message = "expected an input name") String inputIds,
      @Nullable String attentionMask,
      @NotBlank(message = "expected an output name") String output,
      @Min(value = 1, message = "expected an integer >= 1") int maxBatchRows,
      @Min(value = 0, message = "expected an integer >= 0") int threads,
      @Nullable @Min(value = 0, message = "expected an integer >= 0") Integer label,
      @Nullable @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._-]*", message = "expected a model name")
          String tritonModel,
      @Nullable String tokenizer,
      @Nullable String template) {}

  /**
   * The prompts.
   *
   * @param file JSON lines, one prompt each: {@code {"id": "...", "prompt": [token ids]}}
   * @param batchSize prompts per training step (the paper uses 128)
   * @param heldOut the fraction of prompts held out for evaluation, in {@code [0, 0.9]}; every
   *     prompt lands in one split by a seeded shuffle of {@code run.seed}
   */
  @Introspected
  public record Prompts(
      @NotBlank(message = "expected the path of a JSON-lines prompts file") String file,
      @Min(value = 1, message = "expected an integer >= 1") int batchSize,
      @DecimalMin(value = "0", message = "expected a fraction in [0, 0.9]")
          @DecimalMax(value = "0.9", message = "expected a fraction in [0, 0.9]")
          double heldOut) {}

  /**
   * How training samples are drawn. J-BOND's gradient is an expectation under the policy's own
   * distribution, so temperature must be 1 with no top-k or top-p truncation; the loader refuses
   * anything else (evaluation may use other settings, see {@link Eval}).
   *
   * @param maxNewTokens the most tokens a completion may have
   * @param temperature must be 1
   * @param topK must be 0 (off)
   * @param topP must be 1 (off)
   */
  @Introspected
  public record Sampling(
      @Min(value = 1, message = "expected an integer >= 1") int maxNewTokens,
      double temperature,
      int topK,
      double topP) {}

  /** Which objective a run trains. */
  public enum ObjectiveKind {
    /** J-BOND (the default): Jeffreys divergence to Best-of-2 of an EMA anchor. */
    JBOND,
    /** BOND: Jeffreys divergence to Best-of-N of the reference, Monte-Carlo quantiles. */
    BOND,
    /** Iterative BOND: Best-of-n of an anchor refreshed every {@code refresh-every} steps. */
    ITERATIVE_BOND,
    /** REINFORCE on reward minus KL to the reference (the paper's baseline). */
    REINFORCE
  }

  /** The policy-gradient baseline. */
  public enum BaselineKind {
    /** No baseline. */
    NONE,
    /** Mean return of the other samples (J-BOND, BOND: other prompts; REINFORCE: same prompt). */
    LEAVE_ONE_OUT
  }

  /**
   * The objective and its hyperparameters; each kind reads the keys it needs.
   *
   * @param name {@code jbond}, {@code bond}, {@code iterative-bond} or {@code reinforce}
   * @param beta Jeffreys mixing weight in {@code [0, 1]} (J-BOND, BOND); paper 0.5
   * @param eta EMA rate of the anchor in {@code [0, 1]} (J-BOND); paper 0.02
   * @param gamma extra KL-to-anchor coefficient {@code >= 0} (J-BOND); paper 0
   * @param penalty the J-BOND backward penalty when the policy sample loses to both anchor samples;
   *     paper {@code log 16}
   * @param baseline {@code none} or {@code leave-one-out}; REINFORCE always uses leave-one-out
   * @param policySamples policy samples per prompt; null: the objective's own (J-BOND and BOND 1,
   *     REINFORCE 2)
   * @param n N of Best-of-N (BOND), n of Best-of-n of the anchor (iterative BOND)
   * @param quantileSamples reference (anchor) samples per prompt for BOND's Monte-Carlo quantile;
   *     paper 16
   * @param refreshEvery iterative BOND's hard anchor refresh period in steps; paper 1000
   * @param klCoefficient REINFORCE's KL coefficient {@code > 0}; the paper sweeps 0.001 to 1
   */
  @Introspected
  public record ObjectiveSection(
      @NotNull ObjectiveKind name,
      @DecimalMin(value = "0", message = "expected a value in [0, 1]")
          @DecimalMax(value = "1", message = "expected a value in [0, 1]")
          double beta,
      @DecimalMin(value = "0", message = "expected a value in [0, 1]")
          @DecimalMax(value = "1", message = "expected a value in [0, 1]")
          double eta,
      @DecimalMin(value = "0", message = "expected a value >= 0") double gamma,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0") double penalty,
      @NotNull BaselineKind baseline,
      @Nullable @Min(value = 1, message = "expected an integer >= 1") Integer policySamples,
      @Min(value = 2, message = "expected an integer >= 2") int n,
      @Min(value = 1, message = "expected an integer >= 1") int quantileSamples,
      @Min(value = 1, message = "expected an integer >= 1") int refreshEvery,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0")
          double klCoefficient) {}

  /** The shape of the learning-rate schedule after warm-up. */
  public enum ScheduleKind {
    /** Constant after warm-up. */
    CONSTANT,
    /** Linear decay to {@code min-learning-rate} at {@code run.steps}. */
    LINEAR,
    /** Cosine decay to {@code min-learning-rate} at {@code run.steps}. */
    COSINE
  }

  /**
   * AdamW and its schedule.
   *
   * @param learningRate the base learning rate, {@code >= 0}; paper 3e-6 (for billion-parameter
   *     models)
   * @param warmupSteps linear warm-up steps; paper 100
   * @param schedule {@code constant}, {@code linear} or {@code cosine}
   * @param minLearningRate the floor of linear and cosine decay
   * @param weightDecay decoupled weight decay
   * @param beta1 Adam's first-moment rate in {@code [0, 1)}
   * @param beta2 Adam's second-moment rate in {@code [0, 1)}
   * @param epsilon Adam's stabiliser {@code > 0}
   * @param maxGradientNorm global gradient-norm clip; 0 disables clipping
   * @param maxTokensPerRun the most padded tokens per ONNX Runtime run of the learner
   * @param threads the learner's ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose
   */
  @Introspected
  public record Optimizer(
      @DecimalMin(value = "0", message = "expected a value >= 0") double learningRate,
      @Min(value = 0, message = "expected an integer >= 0") long warmupSteps,
      @NotNull ScheduleKind schedule,
      @DecimalMin(value = "0", message = "expected a value >= 0") double minLearningRate,
      @DecimalMin(value = "0", message = "expected a value >= 0") double weightDecay,
      @DecimalMin(value = "0", message = "expected a value in [0, 1)")
          @DecimalMax(value = "1", inclusive = false, message = "expected a value in [0, 1)")
          double beta1,
      @DecimalMin(value = "0", message = "expected a value in [0, 1)")
          @DecimalMax(value = "1", inclusive = false, message = "expected a value in [0, 1)")
          double beta2,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0") double epsilon,
      @DecimalMin(value = "0", message = "expected a value >= 0") double maxGradientNorm,
      @Min(value = 1, message = "expected an integer >= 1") int maxTokensPerRun,
      @Min(value = 0, message = "expected an integer >= 0") int threads) {}

  /** How a LoRA run's adapters reach the servers. */
  public enum LoraPublish {
    /**
     * With each request, as TensorRT-LLM's backend takes them: a fresh {@code lora_task_id} per
     * version, the weights sent once per endpoint, then the id only.
     */
    ADAPTERS,
    /** The adapters merged into full weights, loaded as a new model version (ONNX backends). */
    MERGED
  }

  /** The datatype of adapters sent per request: the engine's {@code --lora_plugin} dtype. */
  public enum LoraDtype {
    /** IEEE half precision (TensorRT-LLM's usual engine dtype). */
    FP16,
    /** bfloat16. */
    BF16,
    /** float32. */
    FP32
  }

  /**
   * LoRA serving.
   *
   * @param publish {@code adapters} (per request) or {@code merged} (full weights)
   * @param dtype the adapters' datatype on the wire, which must be the engine's
   * @param cacheBytes the embedded server's host adapter cache ({@code
   *     lora_cache_host_memory_bytes} of its models)
   */
  @Introspected
  public record LoraServing(
      @NotNull LoraPublish publish,
      @NotNull LoraDtype dtype,
      @Min(value = 1, message = "expected a byte count >= 1") long cacheBytes) {
    /** Adapters per request in FP16, a 64 MiB embedded cache. */
    public static final LoraServing DEFAULTS =
        new LoraServing(LoraPublish.ADAPTERS, LoraDtype.FP16, 64L << 20);
  }

  /** Where samples come from. */
  public enum ServingMode {
    /** jbond's embedded Triton-protocol server, started on a free loopback port for the run. */
    EMBEDDED,
    /** The Triton endpoints listed under {@code serving.endpoints}. */
    TRITON
  }

  /** How sampling requests travel. */
  public enum Transport {
    /** One unary ModelInfer per sample (each may reach another backend behind a balancer). */
    UNARY,
    /** ModelStreamInfer, one stream per healthy endpoint (less overhead per request). */
    STREAM
  }

  /**
   * Sampling and weight publishing over Triton's gRPC protocol.
   *
   * @param mode {@code embedded} or {@code triton}
   * @param transport {@code unary} or {@code stream}
   * @param endpoints the Triton endpoints ({@code mode: triton}); ignored when embedded
   * @param deadline the deadline of each sampling call
   * @param loadDeadline the deadline of each model load when publishing weights
   * @param retry retries of idempotent calls
   * @param health endpoint probing and ejection
   * @param models the served models of the policy and the anchor
   * @param threads the embedded server's ONNX Runtime intra-op threads per model; 0: its choice
   * @param maxBatchRows the embedded server's in-flight decoding batch, rows
   * @param lora how a LoRA run's adapters reach the servers ({@code policy.lora.rank > 0})
   */
  @Introspected
  public record Serving(
      @NotNull ServingMode mode,
      @NotNull Transport transport,
      @NotNull List<@Valid Endpoint> endpoints,
      @NotNull Duration deadline,
      @NotNull Duration loadDeadline,
      @NotNull @Valid Retry retry,
      @NotNull @Valid Health health,
      @NotNull @Valid ModelNames models,
      @Min(value = 0, message = "expected an integer >= 0") int threads,
      @Min(value = 1, message = "expected an integer >= 1") int maxBatchRows,
      @NotNull @Valid LoraServing lora) {
    /**
     * Serving whose LoRA settings are the defaults ({@link LoraServing#DEFAULTS}).
     *
     * @param mode see the record description
     * @param transport see the record description
     * @param endpoints see the record description
     * @param deadline see the record description
     * @param loadDeadline see the record description
     * @param retry see the record description
     * @param health see the record description
     * @param models see the record description
     * @param threads see the record description
     * @param maxBatchRows see the record description
     */
    public Serving(
        ServingMode mode,
        Transport transport,
        List<Endpoint> endpoints,
        Duration deadline,
        Duration loadDeadline,
        Retry retry,
        Health health,
        ModelNames models,
        int threads,
        int maxBatchRows) {
      this(
          mode,
          transport,
          endpoints,
          deadline,
          loadDeadline,
          retry,
          health,
          models,
          threads,
          maxBatchRows,
          LoraServing.DEFAULTS);
    }

    /**
     * Copies the endpoint list.
     *
     * @param mode see the record description
     * @param transport see the record description
     * @param endpoints see the record description
     * @param deadline see the record description
     * @param loadDeadline see the record description
     * @param retry see the record description
     * @param health see the record description
     * @param models see the record description
     * @param threads see the record description
     * @param maxBatchRows see the record description
     * @param lora see the record description
     */
    public Serving {
      endpoints = List.copyOf(Objects.requireNonNull(endpoints, "endpoints"));
    }
  }

  /**
   * One Triton endpoint.
   *
   * @param target {@code host:port}
   * @param name a name for messages and metrics; null: the target
   * @param tls TLS settings; null: plaintext
   */
  @Introspected
  public record Endpoint(
      @NotBlank(message = "expected host:port")
          @Pattern(regexp = "[^\\s:]+:[0-9]{1,5}", message = "expected host:port")
          String target,
      @Nullable String name,
      @Nullable @Valid Tls tls) {}

  /**
   * TLS to one endpoint, from PEM files.
   *
   * @param caFile certificates to trust; null: the JVM's trust store
   * @param certFile the client certificate chain, for mutual TLS
   * @param keyFile the client's PKCS#8 private key, for mutual TLS
   * @param authority the host name to verify the server's certificate against; null: the target's
   */
  @Introspected
  public record Tls(
      @Nullable String caFile,
      @Nullable String certFile,
      @Nullable String keyFile,
      @Nullable String authority) {}

  /**
   * Retries of idempotent calls (sampling with explicit seeds is idempotent): exponential backoff
   * with full jitter, each retry on the next healthy endpoint.
   *
   * @param maxAttempts attempts in total, the first included
   * @param initialBackoff the cap before the first retry
   * @param maxBackoff the largest cap
   */
  @Introspected
  public record Retry(
      @Min(value = 1, message = "expected an integer >= 1") int maxAttempts,
      @NotNull Duration initialBackoff,
      @NotNull Duration maxBackoff) {}

  /**
   * Endpoint health: probes, ejection and re-admission.
   *
   * @param interval time between probe rounds
   * @param timeout deadline of each probe
   * @param ejectAfter consecutive failures that eject an endpoint
   */
  @Introspected
  public record Health(
      @NotNull Duration interval,
      @NotNull Duration timeout,
      @Min(value = 1, message = "expected an integer >= 1") int ejectAfter) {}

  /**
   * The served models.
   *
   * @param policy the policy's model name
   * @param anchor the anchor's model name
   * @param reference the reference's model name, sampled only by objectives that compare against
   *     the reference (BOND); the embedded server serves it, a Triton fleet must
   */
  @Introspected
  public record ModelNames(
      @NotBlank(message = "expected a model name") String policy,
      @NotBlank(message = "expected a model name") String anchor,
      @NotBlank(message = "expected a model name") String reference) {}

  /**
   * Evaluation on the held-out prompts every {@code run.eval-every} steps.
   *
   * @param samplesPerPrompt policy samples per held-out prompt
   * @param referenceSamples k, reference samples per held-out prompt, drawn once
   * @param maxPrompts the most held-out prompts to evaluate on; 0: all
   * @param temperature the policy's sampling temperature during evaluation
   * @param topK the policy's top-k during evaluation; 0: off
   * @param topP the policy's top-p during evaluation; 1: off
   */
  @Introspected
  public record Eval(
      @Min(value = 1, message = "expected an integer >= 1") int samplesPerPrompt,
      @Min(value = 1, message = "expected an integer >= 1") int referenceSamples,
      @Min(value = 0, message = "expected an integer >= 0") int maxPrompts,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0")
          double temperature,
      @Min(value = 0, message = "expected an integer >= 0") int topK,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value in (0, 1]")
          @DecimalMax(value = "1", message = "expected a value in (0, 1]")
          double topP) {}

  /**
   * The run itself.
   *
   * @param steps optimizer steps in total
   * @param seed the seed every random choice of the run derives from
   * @param staleness 0 (sample, then learn) or 1 (sample step t+1 while step t learns)
   * @param checkpointEvery checkpoint every so many steps (and at a clean stop)
   * @param evalEvery evaluate every so many steps (and at step 0 and the last step); 0: never
   * @param keepCheckpoints how many checkpoints to keep
   * @param stepRetries how often a step that failed in sampling or scoring is tried again before
   *     the run stops with an error
   * @param trackReferenceKl compute {@code klReference} on every training step (one extra forward
   *     pass); evaluation measures it regardless
   * @param maxKl the KL(pi || pi_anchor) estimate beyond which the run stops as diverged; null: no
   *     limit
   * @param importanceCorrection with staleness 1, importance weight the stale samples towards the
   *     current policy and anchor (J-BOND; see {@code Jbond}); false trains on them as they are
   * @param importanceBound the truncation of those importance ratios, {@code >= 1}
   * @param reuseForward run the policy's forward pass over what a step trains on once, for the
   *     log-probabilities and the step's backward pass; false runs every forward pass on its own
   *     (the paper's order, a baseline for benchmarks)
   * @param samplerLogProbTolerance how far, in nats per sequence, the sampler's log-probability of
   *     a policy sample may lie from the learner's when the samples come from the weights being
   *     trained (staleness 0) before the step fails as out of sync (0.01 suits float32 serving)
   */
  @Introspected
  public record Run(
      @Min(value = 1, message = "expected an integer >= 1") int steps,
      long seed,
      @Min(value = 0, message = "expected 0 or 1") @Max(value = 1, message = "expected 0 or 1")
          int staleness,
      @Min(value = 1, message = "expected an integer >= 1") int checkpointEvery,
      @Min(value = 0, message = "expected an integer >= 0") int evalEvery,
      @Min(value = 1, message = "expected an integer >= 1") int keepCheckpoints,
      @Min(value = 0, message = "expected an integer >= 0") int stepRetries,
      boolean trackReferenceKl,
      @Nullable @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0")
          Double maxKl,
      boolean importanceCorrection,
      @DecimalMin(value = "1", message = "expected a value >= 1") double importanceBound,
      boolean reuseForward,
      @DecimalMin(value = "0", inclusive = false, message = "expected a value > 0")
          double samplerLogProbTolerance) {}
}
