package dev.jbond.orchestrator.run;

import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.reward.OrtRewardModel;
import dev.jbond.objective.Baseline;
import dev.jbond.objective.Bond;
import dev.jbond.objective.IterativeBond;
import dev.jbond.objective.Jbond;
import dev.jbond.objective.Objective;
import dev.jbond.objective.Reinforce;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.serving.TritonRewardModel;
import dev.jbond.spi.RewardModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
   * run's endpoints, through its client), else in process.
   *
   * @param reward the reward section
   * @param policy the policy's model directory (the pad token and vocabulary the reward reads)
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
    policy.padTokenId().ifPresent(b::optPadTokenId);
    return b.build();
  }

  /**
   * Opens the reward model in process.
   *
   * @param reward the reward section
   * @param policy the policy's model directory (the pad token and vocabulary the reward reads)
   * @param spin whether ONNX Runtime's threads may spin
   * @return the reward model; the caller closes it
   * @throws IOException when the model cannot be read
   */
  public static OrtRewardModel reward(RunConfig.Reward reward, PolicyFiles policy, boolean spin)
      throws IOException {
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
    policy.padTokenId().ifPresent(b::optPadTokenId);
    b.optVocabularySize(policy.vocabSize());
    b.optMaxBatchRows(reward.maxBatchRows());
    b.optSessionConfig(session(reward.threads(), spin));
    return b.build();
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
