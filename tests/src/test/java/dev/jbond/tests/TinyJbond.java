package dev.jbond.tests;

import dev.jbond.Generation;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.objective.Jbond;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import dev.jbond.spi.WeightPublisher;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The small J-BOND problem the end-to-end tests share: a 2-layer decoder over 32 tokens, 8 random
 * two-token prompts, and a reward for completions made of low token ids.
 */
final class TinyJbond {
  private TinyJbond() {}

  /** The decoder: vocabulary 32, context 16, 2 layers, width 32, 4 heads, seed 11. */
  static final DecoderConfig CONFIG =
      DecoderConfig.builder()
          .setVocabSize(32)
          .setContextLength(16)
          .setLayers(2)
          .setWidth(32)
          .setHeads(4)
          .setSeed(11)
          .build();

  /** Eight prompts of two random tokens (seed 2). */
  static List<Prompt> prompts() {
    SplittableRandom rng = new SplittableRandom(2);
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      prompts.add(new Prompt("p" + i, TokenSequence.of(rng.nextInt(32), rng.nextInt(32))));
    }
    return prompts;
  }

  /** Adam at 1e-2, no warm-up, context 16. */
  static LearnerConfig learnerConfig() {
    return LearnerConfig.builder()
        .optLearningRate(1e-2)
        .optSchedule(LearningRateSchedule.constant(0))
        .optContextLength(16)
        .build();
  }

  /**
   * The loop the end-to-end tests run: J-BOND with eta 0.05, the low-token reward, the prompts in
   * batches of 8 shuffled with seed 3, run seed 4.
   */
  static JbondLoop.Builder loop(
      PolicySampler sampler, PolicyLearner learner, WeightPublisher publisher) {
    return JbondLoop.builder(
            Jbond.builder().optEta(0.05).build(),
            sampler,
            new LowTokenReward(),
            learner,
            publisher,
            PromptSource.shuffled(prompts(), 8, 3))
        .optSeed(4);
  }

  /** Mean of the steps' policy reward. */
  static double meanReward(List<StepMetrics> steps) {
    return steps.stream().mapToDouble(StepMetrics::rewardMean).average().orElseThrow();
  }

  /** Reward: the fraction of completion tokens below 8 (a quarter of the vocabulary). */
  static final class LowTokenReward implements RewardModel {
    @Override
    public double[] score(List<Generation> generations) {
      double[] r = new double[generations.size()];
      for (int i = 0; i < r.length; i++) {
        TokenSequence c = generations.get(i).completion();
        int low = 0;
        for (int t = 0; t < c.length(); t++) {
          low += c.get(t) < 8 ? 1 : 0;
        }
        r[i] = (double) low / c.length();
      }
      return r;
    }
  }
}
