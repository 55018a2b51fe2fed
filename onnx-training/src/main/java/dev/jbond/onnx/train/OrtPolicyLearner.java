package dev.jbond.onnx.train;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.TrainingDivergedException;
import dev.jbond.anchor.EmaAnchor;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.ort.OptimizationLevel;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.onnx.ort.OrtFailures;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtResource;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.OrtTensors;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightedSequence;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The ONNX Runtime {@link PolicyLearner}: trains a causal language model in ONNX ({@link
 * PolicyModel}) on weighted sequence log-likelihoods with gradient graphs in standard ONNX ops, run
 * in ordinary ONNX Runtime sessions (its training API is absent from the Linux builds).
 *
 * <p>Maths. For sequences {@code s = x ++ y} (prompt {@code x}, completion {@code y}) with weights
 * {@code w_s} (constants), the loss of one step is
 *
 * <pre>
 *   L(theta) = sum_s w_s * log pi_theta(y_s | x_s)
 *            = sum_s w_s * sum_{t in completion} log softmax(logits_theta(s[0..t-1]))[s[t]]
 * </pre>
 *
 * <p>and {@link #step} minimises it: the gradient (summed over runs when a batch is split) is
 * clipped to the global L2 norm {@code maxGradientNorm}, then {@link AdamW} updates the policy with
 * the scheduled learning rate ({@link LearnerConfig}). A weight {@code w = -1} is supervised
 * fine-tuning of that sequence.
 *
 * <p>State. Three weight sets (policy, EMA anchor, frozen reference) of the model's trainable
 * parameters live in one contiguous direct buffer each; ONNX Runtime reads them in place (the
 * parameters are graph inputs, fed as tensors over slices of the buffer). Gradients are written by
 * ONNX Runtime in place into one contiguous buffer (pinned outputs). Three sessions are open: the
 * log-probability graph, shared by all roles (so roles with equal weights give bit-equal results),
 * and the train graph (the same plus {@code loss = sum_s w_s * sequence_logprobs[s]} and, from
 * {@link dev.jbond.onnx.autodiff.GradientBuilder}, its gradient with respect to every trainable
 * parameter) cut into a forward and a backward part ({@code PolicyGraphs.Split}): the forward part
 * also hands the backward part the values it reads. So {@link #prepareStep} can run the forward
 * pass of a step before its weights are known and the step then runs only the backward pass.
 *
 * <p>Call order (as {@link PolicyLearner}): {@link #logProbs} any number of times and at most one
 * {@link #prepareStep}, then {@link #step}, then {@link #updateAnchor}; {@link #snapshot}, {@link
 * #restore} and {@link #export} between steps. Not thread-safe. The creator closes the learner;
 * {@link #close()} releases the sessions and tensors and is idempotent; other methods then throw
 * {@code IllegalStateException}. {@code OrtException}s surface as {@link
 * dev.jbond.BackendException}.
 */
public final class OrtPolicyLearner extends OrtResource implements PolicyLearner {
  /** Initializers of at least this many bytes go to the side file on {@link #export}. */
  public static final long EXPORT_EXTERNAL_DATA_THRESHOLD = Graph.DEFAULT_EXTERNAL_DATA_THRESHOLD;

  /** The added term of PyTorch's {@code clip_grad_norm_}: {@code max / (norm + 1e-6)}. */
  private static final double CLIP_EPSILON = 1e-6;

  private final PolicyModel model;

  /** The adapters this learner trains, or null when it trains the whole model. */
  private final LoraPolicy lora;

  private final LearnerConfig config;
  private final OrtEnvironment environment;
  private final OptionalInt context;
  private final List<ParameterSpec> specs;
  private final List<String> gradientNames;
  private final OrtModelSession logProbSession;

  /** The whole train graph; null when it is split into {@link #forwardSession} and backward. */
  private final OrtModelSession trainSession;

  /** The train graph's forward part ({@link PolicyGraphs.Split}); null when not split. */
  private final OrtModelSession forwardSession;

  private final OrtModelSession backwardSession;

  /** What a forward run fetches for the backward run: sequence log-probs, then carried values. */
  private final Set<String> forwardFetches;

  private final List<String> carried;
  private final Set<String> forwardInputs;
  private final Set<String> backwardInputs;
  private Retained retained;

  /** Forward runs so far (log-probabilities and train steps), for tests of this package. */
  private long forwardRuns;

  private final Map<PolicyRole, FlatParameters> roles = new EnumMap<>(PolicyRole.class);
  private final FlatParameters gradients;

  /** The frozen inputs ({@link PolicyModel#frozenInputs}) fed to every session; null for none. */
  private final FlatParameters frozen;

  private FlatParameters scratchGradients;
  private final AdamW optimizer;
  private final RunInputs inputs;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private long step;

  private OrtPolicyLearner(PolicyModel model, LearnerConfig config, LoraPolicy lora) {
    Checks.verify(
        ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN,
        "Expected a little-endian platform, found %s",
        ByteOrder.nativeOrder());
    this.model = model;
    this.lora = lora;
    this.config = config;
    this.environment = OrtEnvironments.shared();
    this.context =
        config.contextLength() > 0 ? OptionalInt.of(config.contextLength()) : model.contextLength();
    this.specs = model.parameters();
    // shape probes expose every intermediate value as an output, which graph optimisations cannot
    // remove (ONNX Runtime warns for each); a probe needs no optimisation
    SessionConfig probeConfig =
        SessionConfig.builder()
            .optOptimizationLevel(OptimizationLevel.NONE)
            .optIntraOpThreads(config.session().intraOpThreads())
            .build();
    Graph logProbGraph = PolicyGraphs.logProbGraph(model);
    PolicyGraphs.TrainGraph train = PolicyGraphs.trainGraph(model, probeConfig);
    this.gradientNames = PolicyGraphs.gradientNames(train, model);
    List<String> parameterNames = specs.stream().map(ParameterSpec::name).toList();
    try {
      this.logProbSession =
          own(
              OrtSessions.open(
                  logProbGraph.toBytes(), model.name() + " (log-probabilities)", config.session()));
      Optional<PolicyGraphs.Split> split = PolicyGraphs.split(train);
      if (split.isPresent()) {
        PolicyGraphs.Split parts = split.get();
        this.trainSession = null;
        this.forwardSession =
            own(
                OrtSessions.open(
                    parts.forward().toByteArray(),
                    model.name() + " (train step, forward)",
                    config.session()));
        this.backwardSession =
            own(
                OrtSessions.open(
                    parts.backward(carriedTypes(forwardSession, parts.carried())).toByteArray(),
                    model.name() + " (train step, backward)",
                    config.session()));
        this.carried = parts.carried();
        Set<String> fetches = new LinkedHashSet<>();
        fetches.add(PolicyGraphs.SEQUENCE_LOGPROBS);
        fetches.addAll(carried);
        this.forwardFetches = Set.copyOf(fetches);
        this.forwardInputs = Set.copyOf(forwardSession.unwrap().getInputNames());
        this.backwardInputs = Set.copyOf(parts.backwardInputs());
      } else {
        this.trainSession =
            own(
                OrtSessions.open(
                    train.graph().toBytes(), model.name() + " (train step)", config.session()));
        this.forwardSession = null;
        this.backwardSession = null;
        this.carried = List.of();
        this.forwardFetches = Set.of();
        this.forwardInputs = Set.of();
        this.backwardInputs = Set.of();
      }
      for (PolicyRole role : PolicyRole.values()) {
        roles.put(role, own(FlatParameters.allocate(environment, specs, parameterNames)));
      }
      this.gradients = own(FlatParameters.allocate(environment, specs, gradientNames));
      FlatParameters policy = roles.get(PolicyRole.POLICY);
      Map<String, Tensor> initial = model.graph().initializers();
      ByteBuffer bytes = policy.bytes();
      for (int i = 0; i < specs.size(); i++) {
        bytes.position(policy.offset(i) * Float.BYTES);
        bytes.put(initial.get(specs.get(i).name()).asReadOnlyBuffer());
      }
      roles.get(PolicyRole.ANCHOR).copyFrom(policy);
      roles.get(PolicyRole.REFERENCE).copyFrom(policy);
      List<ParameterSpec> held = model.frozenInputs();
      if (held.isEmpty()) {
        this.frozen = null;
      } else {
        this.frozen =
            own(
                FlatParameters.allocate(
                    environment, held, held.stream().map(ParameterSpec::name).toList()));
        ByteBuffer values = frozen.bytes();
        for (int i = 0; i < held.size(); i++) {
          values.position(frozen.offset(i) * Float.BYTES);
          values.put(initial.get(held.get(i).name()).asReadOnlyBuffer());
        }
      }
    } catch (RuntimeException e) {
      releaseOwned();
      throw e;
    }
    this.optimizer =
        new AdamW(
            gradients.size(),
            config.beta1(),
            config.beta2(),
            config.epsilon(),
            config.weightDecay());
    this.inputs = new RunInputs(environment, model);
  }

  /**
   * Loads a policy ({@link PolicyModel#load}) and opens a learner on it; all three roles start at
   * the model's weights.
   *
   * @param model a {@code .onnx} file or a model directory
   * @param config the training settings
   * @return the learner; the caller closes it
   * @throws IOException when the model cannot be read or breaks the policy contract ({@link
   *     dev.jbond.onnx.ModelLoadException})
   * @throws IllegalArgumentException when an op on the gradient path has no gradient rule
   * @throws dev.jbond.BackendException when ONNX Runtime fails, e.g. CUDA was asked for and is
   *     unavailable
   */
  public static OrtPolicyLearner open(Path model, LearnerConfig config) throws IOException {
    Objects.requireNonNull(config, "config");
    return new OrtPolicyLearner(PolicyModel.load(model), config, null);
  }

  /**
   * Opens a learner on a policy; all three roles start at the model's weights.
   *
   * @param model the policy
   * @param config the training settings
   * @return the learner; the caller closes it
   * @throws IllegalArgumentException when an op on the gradient path has no gradient rule
   * @throws dev.jbond.BackendException when ONNX Runtime fails, e.g. CUDA was asked for and is
   *     unavailable
   */
  public static OrtPolicyLearner create(PolicyModel model, LearnerConfig config) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(config, "config");
    return new OrtPolicyLearner(model, config, null);
  }

  /**
   * Opens a learner that trains low-rank adapters of a policy ({@link LoraPolicy#model()}): only
   * the adapters are trained, optimised, averaged into the anchor and snapshotted; all three roles
   * start at the fresh adapters (the base model). {@link #servedWeights} and {@link #export} give
   * the base model's weights with a role's adapters merged in.
   *
   * @param lora the adapted policy
   * @param config the training settings
   * @return the learner; the caller closes it
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  public static OrtPolicyLearner create(LoraPolicy lora, LearnerConfig config) {
    Objects.requireNonNull(lora, "lora");
    Objects.requireNonNull(config, "config");
    return new OrtPolicyLearner(lora.model(), config, lora);
  }

  /**
   * Returns the adapters this learner trains, when it trains adapters.
   *
   * @return the adapted policy, or empty when the learner trains the whole model
   */
  public Optional<LoraPolicy> lora() {
    return Optional.ofNullable(lora);
  }

  /**
   * Returns one role's weights as a server of the whole model needs them: {@link #weights} when the
   * learner trains the whole model, else the base model's trained parameters with the role's
   * adapters merged in ({@link LoraPolicy#merged}).
   *
   * @param role which weights
   * @return parameter name of the (base) model to FLOAT tensor
   * @throws IllegalStateException when the learner is closed
   */
  public Map<String, Tensor> servedWeights(PolicyRole role) {
    return lora == null ? weights(role) : lora.merged(weights(role));
  }

  private <T extends AutoCloseable> T own(T resource) {
    owned.add(resource);
    return resource;
  }

  /**
   * Returns the policy model.
   *
   * @return the model
   */
  public PolicyModel model() {
    return model;
  }

  /**
   * Returns the training settings.
   *
   * @return the configuration
   */
  public LearnerConfig config() {
    return config;
  }

  /**
   * Returns the log-probability of each generation's completion under the role's weights: the sum
   * over completion tokens of {@code log pi(token | prefix)}; prompt tokens are not counted.
   *
   * <p>Sequences are checked first (a prompt and a completion of at least one token each, token ids
   * in {@code [0, V)}, at most {@code context + 1} tokens when the context is known), then
   * right-padded and run in batches of at most {@link LearnerConfig#maxTokensPerRun()} padded
   * tokens. Sums are of float32 token log-probabilities.
   *
   * @param role whose weights to use
   * @param generations the sequences, not empty
   * @return one sequence log-probability per generation, in order
   * @throws IllegalArgumentException when a sequence fails a check, naming it and the token
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public double[] logProbs(PolicyRole role, List<Generation> generations) {
    checkOpen();
    Objects.requireNonNull(role, "role");
    Checks.checkNotEmpty(generations, "generation");
    List<TokenBatch.Row> rows = TokenBatch.rows(generations, model.vocabularySize(), context);
    double[] out = new double[rows.size()];
    for (TokenBatch.Run run : TokenBatch.plan(rows, config.maxTokensPerRun())) {
      float[] values = logProbRun(run, role);
      for (int r = 0; r < values.length; r++) {
        out[run.rows().get(r).index()] = values[r];
      }
    }
    return out;
  }

  /** Runs the log-probability graph on one run with the role's weights. */
  private float[] logProbRun(TokenBatch.Run run, PolicyRole role) {
    try (RunInputs.Tensors feed = inputs.fill(run, null)) {
      Map<String, OnnxTensor> all = new HashMap<>(feed.map());
      all.putAll(roles.get(role).tensors());
      if (frozen != null) {
        all.putAll(frozen.tensors());
      }
      forwardRuns++;
      try (OrtSession.Result result =
          logProbSession.unwrap().run(all, Set.of(PolicyGraphs.SEQUENCE_LOGPROBS))) {
        return sequenceLogProbs(result, run.rows().size());
      } catch (OrtException e) {
        throw OrtFailures.wrap(
            e, "compute " + role.label() + " log-probabilities of model '" + model.name() + "'");
      }
    }
  }

  /**
   * Returns the policy's log-probabilities of the sequences the next {@link #step} will train on,
   * and keeps the forward activations of at most {@link LearnerConfig#maxRetainedTokens()} padded
   * tokens of them, so that a step whose batch holds only these sequences (the same objects) runs
   * just the backward pass over them. The values are those of the train graph's forward part, which
   * may differ from {@link #logProbs} in the last float bits. {@link #step}, {@link #restore}, the
   * next call and {@link #close} release what is kept.
   *
   * @param generations the sequences, not empty
   * @return one sequence log-probability per generation, in order
   * @throws IllegalArgumentException when a sequence fails a check of {@link #logProbs}
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public double[] prepareStep(List<Generation> generations) {
    checkOpen();
    Checks.checkNotEmpty(generations, "generation");
    dropRetained();
    if (forwardSession == null || config.maxRetainedTokens() == 0) {
      return logProbs(PolicyRole.POLICY, generations);
    }
    List<TokenBatch.Row> rows = TokenBatch.rows(generations, model.vocabularySize(), context);
    Retained kept = new Retained(generations);
    try {
      long budget = config.maxRetainedTokens();
      for (TokenBatch.Run run : TokenBatch.plan(rows, config.maxTokensPerRun())) {
        long tokens = (long) run.rows().size() * run.steps();
        float[] values;
        if (tokens <= budget) {
          budget -= tokens;
          RunInputs own = new RunInputs(environment, model);
          RunInputs.Tensors feed = own.fill(run, null);
          Retained.Part part = kept.add(run, own, feed);
          forwardRuns++;
          part.result =
              forwardSession
                  .unwrap()
                  .run(feed(feed, forwardInputs, PolicyRole.POLICY), forwardFetches);
          values = sequenceLogProbs(part.result, run.rows().size());
        } else {
          kept.add(run, null, null);
          values = logProbRun(run, PolicyRole.POLICY);
        }
        for (int r = 0; r < values.length; r++) {
          kept.logProbs[run.rows().get(r).index()] = values[r];
        }
      }
    } catch (OrtException e) {
      kept.close();
      throw OrtFailures.wrap(
          e, "compute policy log-probabilities of model '" + model.name() + "' for a step");
    } catch (RuntimeException e) {
      kept.close();
      throw e;
    }
    retained = kept;
    return kept.logProbs.clone();
  }

  /** The token tensors and the role's parameters that a session of {@code names} inputs reads. */
  private Map<String, OnnxTensor> feed(RunInputs.Tensors feed, Set<String> names, PolicyRole role) {
    Map<String, OnnxTensor> all = new HashMap<>();
    feed.map()
        .forEach(
            (k, v) -> {
              if (names.contains(k)) {
                all.put(k, v);
              }
            });
    roles
        .get(role)
        .tensors()
        .forEach(
            (k, v) -> {
              if (names.contains(k)) {
                all.put(k, v);
              }
            });
    if (frozen != null) {
      frozen
          .tensors()
          .forEach(
              (k, v) -> {
                if (names.contains(k)) {
                  all.put(k, v);
                }
              });
    }
    return all;
  }

  private void dropRetained() {
    if (retained != null) {
      Retained r = retained;
      retained = null;
      r.close();
    }
  }

  /** The forward runs {@link #prepareStep} keeps for the next step. */
  private static final class Retained implements AutoCloseable {
    /** One run: its own input buffers, and the forward result (null: forward again). */
    static final class Part {
      final TokenBatch.Run run;
      final RunInputs inputs;
      final RunInputs.Tensors feed;
      OrtSession.Result result;

      Part(TokenBatch.Run run, RunInputs inputs, RunInputs.Tensors feed) {
        this.run = run;
        this.inputs = inputs;
        this.feed = feed;
      }
    }

    final Map<Generation, Integer> index = new IdentityHashMap<>();
    final double[] logProbs;
    final List<Part> parts = new ArrayList<>();

    Retained(List<Generation> generations) {
      for (int i = 0; i < generations.size(); i++) {
        index.putIfAbsent(generations.get(i), i);
      }
      logProbs = new double[generations.size()];
    }

    Part add(TokenBatch.Run run, RunInputs inputs, RunInputs.Tensors feed) {
      Part part = new Part(run, inputs, feed);
      parts.add(part);
      return part;
    }

    boolean covers(List<WeightedSequence> batch) {
      for (WeightedSequence s : batch) {
        if (!index.containsKey(s.generation())) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void close() {
      for (Part part : parts) {
        if (part.result != null) {
          part.result.close();
        }
        if (part.feed != null) {
          part.feed.close();
        }
      }
      parts.clear();
    }
  }

  /**
   * Takes one optimizer step on {@code sum_s w_s * log pi_policy(s)}.
   *
   * <p>Runs forward and backward over the batch (split into runs of at most {@link
   * LearnerConfig#maxTokensPerRun()} padded tokens, gradients summed), then clips the gradient to
   * the global norm {@link LearnerConfig#maxGradientNorm()} and takes one {@link AdamW} step with
   * the learning rate of this step's schedule. A NaN or infinite loss or gradient norm throws
   * before the update: the parameters, optimizer state and step count are left unchanged.
   *
   * @param batch the weighted sequences, not empty
   * @return the step count after the step, the loss before the update, the gradient norm before
   *     clipping and the learning rate
   * @throws IllegalArgumentException when the batch is empty or a sequence fails a check of {@link
   *     #logProbs}
   * @throws TrainingDivergedException when the loss or the gradient norm is NaN or infinite
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public StepOutcome step(List<WeightedSequence> batch) {
    checkOpen();
    Checks.checkNotEmpty(batch, "weighted sequence");
    Retained kept = retained;
    retained = null;
    try {
      long next = step + 1;
      double loss =
          kept != null && kept.covers(batch) ? backwardKept(kept, batch) : forwardBackward(batch);
      if (!Double.isFinite(loss)) {
        throw new TrainingDivergedException(
            next, "expected a finite loss, found " + loss + "; the parameters were not updated");
      }
      double norm = Math.sqrt(FlatBuffers.sumOfSquares(gradients.floats(), gradients.size()));
      if (!Double.isFinite(norm)) {
        throw new TrainingDivergedException(
            next,
            "expected a finite gradient norm, found "
                + norm
                + " (loss "
                + loss
                + "); the parameters were not updated");
      }
      double rate = config.learningRateAt(next);
      double max = config.maxGradientNorm();
      double scale = max > 0 ? Math.min(1.0, max / (norm + CLIP_EPSILON)) : 1.0;
      optimizer.step(roles.get(PolicyRole.POLICY).floats(), gradients.floats(), rate, scale);
      step = next;
      return new StepOutcome(next, loss, norm, rate);
    } finally {
      if (kept != null) {
        kept.close();
      }
    }
  }

  /** Forward and backward over the batch, gradients summed into {@link #gradients}; the loss. */
  private double forwardBackward(List<WeightedSequence> batch) {
    List<Generation> generations = new ArrayList<>(batch.size());
    double[] weights = new double[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      generations.add(batch.get(i).generation());
      weights[i] = batch.get(i).weight();
    }
    List<TokenBatch.Row> rows = TokenBatch.rows(generations, model.vocabularySize(), context);
    double loss = 0;
    boolean first = true;
    for (TokenBatch.Run run : TokenBatch.plan(rows, config.maxTokensPerRun())) {
      FlatParameters target = first ? gradients : scratchGradients();
      loss += trainRun(run, weights, target);
      if (!first) {
        FlatBuffers.addInto(gradients.floats(), target.floats(), gradients.size());
      }
      first = false;
    }
    return loss;
  }

  /** The backward pass over runs {@link #prepareStep} kept (forward again where it did not). */
  private double backwardKept(Retained kept, List<WeightedSequence> batch) {
    double[] weights = new double[kept.logProbs.length];
    for (WeightedSequence s : batch) {
      weights[kept.index.get(s.generation())] += s.weight();
    }
    double loss = 0;
    boolean first = true;
    for (Retained.Part part : kept.parts) {
      FlatParameters target = first ? gradients : scratchGradients();
      if (part.result == null) {
        loss += trainRun(part.run, weights, target);
      } else {
        try (OnnxTensor w = part.inputs.weights(part.run, weights)) {
          backward(part.feed, part.result, w, target);
        }
        for (TokenBatch.Row row : part.run.rows()) {
          loss += weights[row.index()] * kept.logProbs[row.index()];
        }
      }
      if (!first) {
        FlatBuffers.addInto(gradients.floats(), target.floats(), gradients.size());
      }
      first = false;
    }
    return loss;
  }

  /** Runs the train graph's backward part on a forward result, gradients into {@code target}. */
  private void backward(
      RunInputs.Tensors feed,
      OrtSession.Result forward,
      OnnxTensor weights,
      FlatParameters target) {
    Map<String, OnnxTensor> all = feed(feed, backwardInputs, PolicyRole.POLICY);
    all.put(PolicyGraphs.WEIGHTS, weights);
    for (String name : carried) {
      OnnxValue value =
          forward
              .get(name)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "Expected forward output '" + name + "', found none"));
      all.put(name, (OnnxTensor) value);
    }
    try {
      // the gradients are written into target; the result holds nothing else
      backwardSession.unwrap().run(all, Set.of(), target.tensors()).close();
    } catch (OrtException e) {
      throw OrtFailures.wrap(
          e, "run the backward pass of a train step of model '" + model.name() + "'");
    }
  }

  /** Runs forward and backward on one run, gradients into {@code target}; returns its loss. */
  private double trainRun(TokenBatch.Run run, double[] weights, FlatParameters target) {
    forwardRuns++;
    try (RunInputs.Tensors feed = inputs.fill(run, weights)) {
      if (trainSession == null) {
        try (OrtSession.Result result =
            forwardSession
                .unwrap()
                .run(feed(feed, forwardInputs, PolicyRole.POLICY), forwardFetches)) {
          float[] values = sequenceLogProbs(result, run.rows().size());
          backward(feed, result, feed.map().get(PolicyGraphs.WEIGHTS), target);
          return weightedSum(run, weights, values);
        } catch (OrtException e) {
          throw OrtFailures.wrap(e, "run a train step of model '" + model.name() + "'");
        }
      }
      Map<String, OnnxTensor> all = new HashMap<>(feed.map());
      all.putAll(roles.get(PolicyRole.POLICY).tensors());
      if (frozen != null) {
        all.putAll(frozen.tensors());
      }
      try (OrtSession.Result result =
          trainSession
              .unwrap()
              .run(all, Set.of(PolicyGraphs.SEQUENCE_LOGPROBS), target.tensors())) {
        return weightedSum(run, weights, sequenceLogProbs(result, run.rows().size()));
      } catch (OrtException e) {
        throw OrtFailures.wrap(e, "run a train step of model '" + model.name() + "'");
      }
    }
  }

  /** {@code sum_r weights[row r] * values[r]}: a run's share of the loss. */
  private static double weightedSum(TokenBatch.Run run, double[] weights, float[] values) {
    double loss = 0;
    for (int r = 0; r < values.length; r++) {
      loss += weights[run.rows().get(r).index()] * values[r];
    }
    return loss;
  }

  /** Each carried value's element type number and rank, as the forward session reports them. */
  private static Map<String, int[]> carriedTypes(OrtModelSession forward, List<String> names) {
    try {
      Map<String, NodeInfo> info = forward.unwrap().getOutputInfo();
      Map<String, int[]> out = new HashMap<>();
      for (String name : names) {
        NodeInfo node = info.get(name);
        Checks.verify(
            node != null && node.getInfo() instanceof TensorInfo,
            "Expected a tensor output '%s' of the forward part, found %s",
            name,
            node);
        TensorInfo tensor = (TensorInfo) node.getInfo();
        out.put(
            name,
            new int[] {
              OrtTensors.elementType(tensor.onnxType, name).code(), tensor.getShape().length
            });
      }
      return out;
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "read the outputs of the forward part of a train graph");
    }
  }

  private FlatParameters scratchGradients() {
    if (scratchGradients == null) {
      scratchGradients = own(FlatParameters.allocate(environment, specs, gradientNames));
    }
    return scratchGradients;
  }

  private static float[] sequenceLogProbs(OrtSession.Result result, int rows) {
    OnnxValue value =
        result
            .get(PolicyGraphs.SEQUENCE_LOGPROBS)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "Expected output '" + PolicyGraphs.SEQUENCE_LOGPROBS + "', found none"));
    FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
    Checks.verify(
        buffer.remaining() == rows,
        "Expected %d sequence log-probabilities, found %d",
        rows,
        buffer.remaining());
    float[] out = new float[rows];
    buffer.get(out);
    return out;
  }

  /**
   * Moves the anchor toward the policy in weight space with {@link EmaAnchor}: {@code theta_anchor
   * <- (1 - eta) * theta_anchor + eta * theta_policy}.
   *
   * @param eta the EMA rate in {@code [0, 1]}
   * @throws IllegalArgumentException when {@code eta} is outside {@code [0, 1]}
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public void updateAnchor(double eta) {
    EmaAnchor anchor = new EmaAnchor(eta);
    checkOpen();
    anchor.update(roles.get(PolicyRole.ANCHOR).floats(), roles.get(PolicyRole.POLICY).floats());
  }

  /**
   * Returns the number of optimizer steps taken so far (restored by {@link #restore}).
   *
   * @return the step count
   */
  @Override
  public long stepCount() {
    return step;
  }

  /**
   * Writes the weights of all three roles, the optimizer state and the step count; {@code out} is
   * flushed, not closed.
   *
   * <p>The format (version 1) holds a header with every parameter's name and shape, the step count,
   * the three weight sets and AdamW's two moments as raw float32 bits, and a CRC-32. The
   * configuration is not part of it.
   *
   * @param out where to write
   * @throws IOException when writing fails
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public void snapshot(OutputStream out) throws IOException {
    checkOpen();
    Objects.requireNonNull(out, "out");
    List<ByteBuffer> weights = new ArrayList<>();
    for (PolicyRole role : List.of(PolicyRole.POLICY, PolicyRole.ANCHOR, PolicyRole.REFERENCE)) {
      weights.add(roles.get(role).bytes());
    }
    LearnerSnapshots.write(
        out, specs, step, weights, optimizer.firstMomentView(), optimizer.secondMomentView());
  }

  /**
   * Replaces the whole learner state with one written by {@link #snapshot}; {@code in} is not
   * closed.
   *
   * <p>The whole snapshot is read and checked (parameter names and shapes, completeness, checksum)
   * before anything changes, so a failed restore leaves the learner as it was; this needs memory
   * for a second copy of the state.
   *
   * @param in where to read
   * @throws IOException when the data is not a snapshot, is truncated or corrupt, or its parameters
   *     differ from this model's, e.g. {@code "Expected parameter 'h.0.attn.c_attn.weight' of shape
   *     [96, 32], found [64, 32]"}
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public void restore(InputStream in) throws IOException {
    checkOpen();
    Objects.requireNonNull(in, "in");
    LearnerSnapshots.State state = LearnerSnapshots.read(in, specs, model.name());
    dropRetained();
    List<PolicyRole> order = List.of(PolicyRole.POLICY, PolicyRole.ANCHOR, PolicyRole.REFERENCE);
    for (int i = 0; i < order.size(); i++) {
      ByteBuffer target = roles.get(order.get(i)).bytes();
      target.put(state.roles.get(i));
    }
    optimizer.restore(state.step, state.firstMoment, state.secondMoment);
    step = state.step;
  }

  /**
   * Exports one role's weights as a standalone ONNX model.
   *
   * <p>Writes the original model with the role's weights as its initializers (a learner of adapters
   * writes the base model with the adapters merged, {@link #servedWeights}, and records them in
   * {@code jbond.lora}), initializers of at least {@value #EXPORT_EXTERNAL_DATA_THRESHOLD} bytes in
   * the side file {@code <model file>.data}. {@code target} is the {@code .onnx} file when its name
   * ends in {@code .onnx}, else a directory (created if needed) that receives {@value
   * PolicyModel#MODEL_FILE}. The model's metadata records provenance: {@code jbond.role}, {@code
   * jbond.step}, {@code jbond.source_model}, {@code jbond.learner_config} and, when known, {@code
   * jbond.source_sha256}, {@code jbond.version} (the jar's implementation version) and {@code
   * context_length}.
   *
   * @param role which weights
   * @param target a {@code .onnx} file or a directory
   * @throws IOException when writing fails
   * @throws IllegalStateException when the learner is closed
   */
  @Override
  public void export(PolicyRole role, Path target) throws IOException {
    checkOpen();
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(target, "target");
    Path file =
        target.getFileName() != null && target.getFileName().toString().endsWith(".onnx")
            ? target
            : target.resolve(PolicyModel.MODEL_FILE);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Graph graph = lora == null ? model.graph() : lora.base().graph();
    servedWeights(role).forEach(graph::replaceInitializer);
    Map<String, String> provenance = new LinkedHashMap<>();
    provenance.put("jbond.role", role.label());
    provenance.put("jbond.step", Long.toString(step));
    provenance.put("jbond.source_model", model.name());
    (lora == null ? model : lora.base())
        .sha256()
        .ifPresent(h -> provenance.put("jbond.source_sha256", h));
    provenance.put("jbond.learner_config", config.toString());
    if (lora != null) {
      provenance.put("jbond.lora", lora.toString());
    }
    String version = OrtPolicyLearner.class.getPackage().getImplementationVersion();
    if (version != null) {
      provenance.put("jbond.version", version);
    }
    if (context.isPresent() && model.contextLength().isEmpty()) {
      provenance.put(PolicyModel.CONTEXT_KEYS.get(0), Integer.toString(context.getAsInt()));
    }
    ModelProto proto = graph.toModel();
    ModelProto.Builder builder = proto.toBuilder().clearMetadataProps();
    for (StringStringEntryProto entry : proto.getMetadataPropsList()) {
      if (!provenance.containsKey(entry.getKey())) {
        builder.addMetadataProps(entry);
      }
    }
    provenance.forEach(
        (k, v) ->
            builder.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    ModelFiles.writeWithExternalData(builder.build(), file, EXPORT_EXTERNAL_DATA_THRESHOLD);
  }

  /**
   * Returns a copy of one role's trainable weights, by parameter name in parameter order: for
   * example to build a decode graph of the current policy for an in-process sampler.
   *
   * @param role which weights
   * @return parameter name to FLOAT tensor
   * @throws IllegalStateException when the learner is closed
   */
  public Map<String, Tensor> weights(PolicyRole role) {
    checkOpen();
    Objects.requireNonNull(role, "role");
    FlatParameters weights = roles.get(role);
    ByteBuffer bytes = weights.bytes();
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < specs.size(); i++) {
      ParameterSpec spec = specs.get(i);
      int offset = weights.offset(i) * Float.BYTES;
      ByteBuffer slice =
          bytes
              .slice(offset, (int) spec.elementCount() * Float.BYTES)
              .order(ByteOrder.LITTLE_ENDIAN);
      out.put(spec.name(), Tensor.of(ElementType.FLOAT, spec.dims(), slice));
    }
    return out;
  }

  /** The weights of {@code role}, for tests of this package: a view, position 0. */
  FloatBuffer parameters(PolicyRole role) {
    return roles.get(role).floats();
  }

  /** The gradient of the last step's loss (before clipping), for tests of this package. */
  FloatBuffer lastGradient() {
    return gradients.floats();
  }

  /** Forward runs so far, of log-probabilities or of train steps, for tests of this package. */
  long forwardRuns() {
    return forwardRuns;
  }

  /** The optimizer, for tests of this package. */
  AdamW optimizer() {
    return optimizer;
  }

  @Override
  protected void release() {
    dropRetained();
    releaseOwned();
  }

  private void releaseOwned() {
    RuntimeException failure = null;
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure =
              e instanceof RuntimeException r
                  ? r
                  : new IllegalStateException("Failed to close " + owned.get(i), e);
        }
      }
    }
    owned.clear();
    if (failure != null) {
      throw failure;
    }
  }

  /** Returns the model, configuration and step count. */
  @Override
  public String toString() {
    return "OrtPolicyLearner[" + model + ", step " + step + ", " + config + "]";
  }
}
