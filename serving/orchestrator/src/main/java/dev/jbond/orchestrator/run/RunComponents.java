package dev.jbond.orchestrator.run;

import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.reward.OrtRewardModel;
import dev.jbond.models.reward.RetokenizingRewardModel;
import dev.jbond.models.tokenizer.HuggingFaceTokenizer;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.objective.Baseline;
import dev.jbond.objective.Bond;
import dev.jbond.objective.IterativeBond;
import dev.jbond.objective.Jbond;
import dev.jbond.objective.Objective;
import dev.jbond.objective.Reinforce;
import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.lora.LoraTargets;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.onnx.train.PolicyModel;
import dev.jbond.orchestrator.config.ConfigException;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.serving.TritonRewardModel;
import dev.jbond.spi.RewardModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Turns the sections of a {@link RunConfig} into the engine's components: the objective, the
 * learner's settings, the sampling settings and the reward model.
 */
public final class RunComponents {
  private RunComponents() {}

  /**
   * Returns the objective of {@code objective}.
   *
   * @param objective the section
   * @return the objective
   */
  public static Objective objective(RunConfig.ObjectiveSection objective) {
    return objective(objective, Jbond.DEFAULT_IMPORTANCE_BOUND);
  }

  /**
   * Returns the objective of {@code objective}, with J-BOND's truncation of importance ratios for
   * stale samples ({@code run.importance-bound}).
   *
   * @param objective the section
   * @param importanceBound the truncation, {@code >= 1}
   * @return the objective
   */
  public static Objective objective(RunConfig.ObjectiveSection objective, double importanceBound) {
    Baseline baseline =
        objective.baseline() == RunConfig.BaselineKind.LEAVE_ONE_OUT
            ? Baseline.LEAVE_ONE_OUT
            : Baseline.NONE;
    return switch (objective.name()) {
      case JBOND ->
          Jbond.builder()
              .optBeta(objective.beta())
              .optEta(objective.eta())
              .optGamma(objective.gamma())
              .optPenalty(objective.penalty())
              .optBaseline(baseline)
              .optPolicySamples(samples(objective, 1))
              .optImportanceBound(importanceBound)
              .build();
      case BOND -> bond(objective, baseline);
      case ITERATIVE_BOND -> new IterativeBond(bond(objective, baseline), objective.refreshEvery());
      case REINFORCE ->
          new Reinforce(objective.klCoefficient(), samples(objective, 2), Baseline.LEAVE_ONE_OUT);
    };
  }

  private static Bond bond(RunConfig.ObjectiveSection objective, Baseline baseline) {
    return Bond.builder(objective.n())
        .optBeta(objective.beta())
        .optQuantileSamples(objective.quantileSamples())
        .optBaseline(baseline)
        .optPolicySamples(samples(objective, 1))
        .build();
  }

  private static int samples(RunConfig.ObjectiveSection objective, int fallback) {
    return objective.policySamples() == null ? fallback : objective.policySamples();
  }

  /**
   * Opens the run's learner on the policy's full-sequence graph: of the whole model, or of low-rank
   * adapters when {@code policy.lora.rank > 0} ({@link #loraSpec}).
   *
   * @param policy the policy's files
   * @param config the run configuration
   * @param spin whether ONNX Runtime's threads may spin
   * @return the learner; the caller closes it
   * @throws IOException when the model cannot be read
   * @throws ConfigException naming {@code policy.lora.modules} when a module is unknown or absent
   */
  public static OrtPolicyLearner openLearner(PolicyFiles policy, RunConfig config, boolean spin)
      throws IOException {
    LearnerConfig settings = learner(config.optimizer(), config.run().steps(), spin);
    RunConfig.Lora lora = config.policy().lora();
    if (lora.rank() == 0) {
      return OrtPolicyLearner.open(policy.fullGraph(), settings);
    }
    PolicyModel base = PolicyModel.load(policy.fullGraph());
    LoraPolicy adapted;
    try {
      adapted = LoraPolicy.create(base, loraSpec(lora, base, config.run().seed()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("policy.lora.modules", e.getMessage());
    }
    return OrtPolicyLearner.create(adapted, settings);
  }

  /**
   * The adapters of {@code policy.lora}: its modules, or when it lists none every module the model
   * has, with the fused {@code attn_qkv} instead of {@code attn_q}, {@code attn_k} and {@code
   * attn_v} where the model fuses them (one adapter per layer, as PEFT adapts {@code c_attn}).
   *
   * @param lora the section
   * @param base the policy
   * @param seed the seed of the adapters' initial {@code A}
   * @return the specification
   * @throws IllegalArgumentException naming the known modules when one is unknown
   */
  public static LoraSpec loraSpec(RunConfig.Lora lora, PolicyModel base, long seed) {
    if (!lora.modules().isEmpty()) {
      return LoraSpec.of(lora.rank(), lora.alpha(), lora.modules(), seed);
    }
    Set<LoraModule> modules = EnumSet.noneOf(LoraModule.class);
    LoraTargets.all(base.graph()).forEach(t -> modules.add(t.module()));
    if (modules.contains(LoraModule.ATTN_QKV)) {
      modules.removeAll(EnumSet.of(LoraModule.ATTN_Q, LoraModule.ATTN_K, LoraModule.ATTN_V));
    }
    if (modules.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected projections LoRA can adapt (Llama- or GPT-2-style names) in model '"
              + base.name()
              + "', found none");
    }
    return new LoraSpec(lora.rank(), lora.alpha(), modules, seed);
  }

  /**
   * Returns the learner's settings.
   *
   * @param optimizer the optimizer section
   * @param steps the run's total steps (the end of linear and cosine decay)
   * @param spin whether ONNX Runtime's threads may spin
   * @return the settings
   */
  public static LearnerConfig learner(RunConfig.Optimizer optimizer, int steps, boolean spin) {
    long warmup = optimizer.warmupSteps();
    LearningRateSchedule schedule =
        switch (optimizer.schedule()) {
          case CONSTANT -> LearningRateSchedule.constant(warmup);
          case LINEAR ->
              LearningRateSchedule.linear(
                  warmup, Math.max(warmup + 1, steps), optimizer.minLearningRate());
          case COSINE ->
              LearningRateSchedule.cosine(
                  warmup, Math.max(warmup + 1, steps), optimizer.minLearningRate());
        };
    return LearnerConfig.builder()
        .optLearningRate(optimizer.learningRate())
        .optBetas(optimizer.beta1(), optimizer.beta2())
        .optEpsilon(optimizer.epsilon())
        .optWeightDecay(optimizer.weightDecay())
        .optSchedule(schedule)
        .optMaxGradientNorm(optimizer.maxGradientNorm())
        .optMaxTokensPerRun(optimizer.maxTokensPerRun())
        .optSession(session(optimizer.threads(), spin))
        .build();
  }

  /**
   * Returns ONNX Runtime session options with {@code threads} intra-op threads.
   *
   * @param threads intra-op threads, 0 for ONNX Runtime's choice
   * @param spin whether the threads may spin-wait between runs
   * @return the options
   */
  public static SessionConfig session(int threads, boolean spin) {
    return OrtSpinning.apply(SessionConfig.builder().optIntraOpThreads(threads), spin).build();
  }

  /**
   * Returns the sampling settings of training samples: the policy's own distribution.
   *
   * @param sampling the sampling section
   * @param policy the policy's model directory (its EOS and pad tokens)
   * @return the settings
   */
  public static SamplingConfig training(RunConfig.Sampling sampling, PolicyFiles policy) {
    return SamplingConfig.builder()
        .setMaxNewTokens(sampling.maxNewTokens())
        .optSpecialTokens(policy)
        .build();
  }

  /**
   * Returns the sampling settings of the policy's evaluation samples.
   *
   * @param sampling the sampling section (the length)
   * @param eval the evaluation section (temperature, top-k, top-p)
   * @param policy the policy's model directory
   * @return the settings
   */
  public static SamplingConfig evaluation(
      RunConfig.Sampling sampling, RunConfig.Eval eval, PolicyFiles policy) {
    return SamplingConfig.builder()
        .setMaxNewTokens(sampling.maxNewTokens())
        .optTemperature(eval.temperature())
        .optTopK(eval.topK())
        .optTopP(eval.topP())
        .optSpecialTokens(policy)
        .build();
  }

  /**
   * Opens the reward model of a run: over Triton when {@code reward.triton-model} names it (on the
   * run's endpoints, through its client), else in process; with the reward's own tokenizer ({@link
   * #rewardTokenizer}) it reads text re-encoded from the policy's tokens.
   *
   * @param reward the reward section
   * @param policy the policy's files (its tokenizer, pad token and vocabulary)
   * @param spin whether ONNX Runtime's threads may spin
   * @param serving the run's serving
   * @return the reward model; the caller closes it
   * @throws IOException when the model cannot be read
   */
  static RewardModel reward(
      RunConfig.Reward reward, PolicyFiles policy, boolean spin, RunServing serving)
      throws IOException {
    if (reward.tritonModel() == null) {
      return reward(reward, policy, spin);
    }
    Optional<Tokenizer> own = rewardTokenizer(reward);
    TritonRewardModel.Builder b =
        TritonRewardModel.builder(serving.client(), reward.tritonModel())
            .optInputIdsName(reward.inputIds())
            .optAttentionMaskName(
                reward.attentionMask() == null || reward.attentionMask().isEmpty()
                    ? Optional.empty()
                    : Optional.of(reward.attentionMask()))
            .optOutputName(reward.output())
            .optMaxBatchRows(reward.maxBatchRows());
    if (reward.label() != null) {
      b.optLabel(reward.label());
    }
    OptionalInt pad = own.isPresent() ? padOf(own.get()) : policy.padTokenId();
    pad.ifPresent(b::optPadTokenId);
    return retokenized(b.build(), reward, policy, own);
  }

  /**
   * Opens the reward model in process.
   *
   * @param reward the reward section
   * @param policy the policy's files (its tokenizer, pad token and vocabulary)
   * @param spin whether ONNX Runtime's threads may spin
   * @return the reward model; the caller closes it
   * @throws IOException when the model cannot be read
   */
  public static RewardModel reward(RunConfig.Reward reward, PolicyFiles policy, boolean spin)
      throws IOException {
    Optional<Tokenizer> own = rewardTokenizer(reward);
    OrtRewardModel.Builder b = OrtRewardModel.builder(rewardFile(Path.of(reward.model())));
    b.optInputIdsName(reward.inputIds());
    if (reward.attentionMask() == null || reward.attentionMask().isEmpty()) {
      b.optNoAttentionMask();
    } else {
      b.optAttentionMaskName(reward.attentionMask());
    }
    b.optOutputName(reward.output());
    if (reward.label() != null) {
      b.optLabel(reward.label());
    }
    OptionalInt pad = own.isPresent() ? padOf(own.get()) : policy.padTokenId();
    pad.ifPresent(b::optPadTokenId);
    b.optVocabularySize(own.isPresent() ? own.get().vocabularySize() : policy.vocabSize());
    b.optMaxBatchRows(reward.maxBatchRows());
    b.optSessionConfig(session(reward.threads(), spin));
    return retokenized(b.build(), reward, policy, own);
  }

  private static OptionalInt padOf(Tokenizer tokenizer) {
    return tokenizer.padId().isPresent() ? tokenizer.padId() : OptionalInt.of(0);
  }

  private static RewardModel retokenized(
      RewardModel inner, RunConfig.Reward reward, PolicyFiles policy, Optional<Tokenizer> own)
      throws IOException {
    if (own.isEmpty()) {
      return inner;
    }
    try {
      Optional<Tokenizer> policyTokenizer = policy.tokenizer();
      if (policyTokenizer.isEmpty()) {
        throw new ConfigException(
            "reward.tokenizer",
            "expected a policy with a tokenizer (tokenizer.json in "
                + policy.root()
                + ") to decode samples for the reward's own tokenizer, found none");
      }
      String template =
          reward.template() == null ? RetokenizingRewardModel.DEFAULT_TEMPLATE : reward.template();
      if (!template.contains("{completion}")) {
        throw new ConfigException(
            "reward.template",
            "expected a template holding {completion}, found '" + template + "'");
      }
      return new RetokenizingRewardModel(inner, policyTokenizer.get(), own.get(), template);
    } catch (IOException | RuntimeException e) {
      inner.close();
      throw e;
    }
  }

  /**
   * Returns the reward model's own tokenizer: {@code reward.tokenizer} (a {@code tokenizer.json} or
   * a directory holding one), else a {@code tokenizer.json} in the reward model's directory (the
   * directory itself, or the directory of the model file); empty when there is none.
   *
   * @param reward the reward section
   * @return the tokenizer, or empty
   * @throws IOException when the file cannot be read
   */
  public static Optional<Tokenizer> rewardTokenizer(RunConfig.Reward reward) throws IOException {
    Path file;
    if (reward.tokenizer() != null) {
      file = Path.of(reward.tokenizer());
      if (Files.isDirectory(file)) {
        file = file.resolve(ModelDirectory.TOKENIZER_FILE);
      }
      if (!Files.isRegularFile(file)) {
        throw new ConfigException(
            "reward.tokenizer", "expected a tokenizer.json file, found nothing at " + file);
      }
    } else {
      Path model = Path.of(reward.model());
      Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
      file = dir == null ? null : dir.resolve(ModelDirectory.TOKENIZER_FILE);
      if (file == null || !Files.isRegularFile(file)) {
        return Optional.empty();
      }
    }
    return Optional.of(HuggingFaceTokenizer.load(file));
  }

  /**
   * Returns the ONNX file of a reward model: a file as is; a Triton model directory: its highest
   * numeric version's {@code model.onnx}; a directory holding {@code model.onnx}: that file.
   *
   * @param reward the path
   * @return the file
   * @throws IOException when the directory cannot be listed
   * @throws IllegalArgumentException when a directory holds no model
   */
  public static Path rewardFile(Path reward) throws IOException {
    if (!Files.isDirectory(reward)) {
      return reward;
    }
    if (Files.isRegularFile(reward.resolve("model.onnx"))) {
      return reward.resolve("model.onnx");
    }
    List<Path> versions = new ArrayList<>();
    try (Stream<Path> children = Files.list(reward)) {
      children
          .filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("[0-9]+"))
          .forEach(versions::add);
    }
    if (versions.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected model.onnx or a numeric version directory with model.onnx in "
              + reward
              + ", found neither");
    }
    versions.sort(
        (a, b) ->
            Long.compare(
                Long.parseLong(a.getFileName().toString()),
                Long.parseLong(b.getFileName().toString())));
    return versions.get(versions.size() - 1).resolve("model.onnx");
  }
}
