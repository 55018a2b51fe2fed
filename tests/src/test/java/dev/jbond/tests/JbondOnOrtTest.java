package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.objective.Jbond;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.spi.RewardModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * J-BOND end to end on ONNX Runtime: the api's {@link JbondLoop} and {@link Jbond} weights, a jbond
 * decoder sampled with its KV cache ({@link DirectSampler}), trained by the {@link
 * OrtPolicyLearner}, with the learner's weights published back to the sampler every step.
 */
class JbondOnOrtTest {
  /** Reward: the fraction of completion tokens below 8 (a quarter of the vocabulary). */
  private static final class LowTokenReward implements RewardModel {
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

  @Test
  void jbond_onOrt_raisesRewardWithKlToTheReference(@TempDir Path dir) throws IOException {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(32)
            .setContextLength(16)
            .setLayers(2)
            .setWidth(32)
            .setHeads(4)
            .setSeed(11)
            .build();
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
    SplittableRandom rng = new SplittableRandom(2);
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      prompts.add(new Prompt("p" + i, TokenSequence.of(rng.nextInt(32), rng.nextInt(32))));
    }
    LearnerConfig learnerConfig =
        LearnerConfig.builder()
            .optLearningRate(1e-2)
            .optSchedule(LearningRateSchedule.constant(0))
            .optContextLength(16)
            .build();
    List<StepMetrics> metrics = new ArrayList<>();
    try (OrtPolicyLearner learner = OrtPolicyLearner.open(model.fullGraph(), learnerConfig);
        DirectSampler sampler =
            DirectSampler.builder(model, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build();
        JbondLoop loop =
            JbondLoop.builder(
                    Jbond.builder().optEta(0.05).build(),
                    sampler,
                    new LowTokenReward(),
                    learner,
                    new LearnerPublisher(sampler, config),
                    PromptSource.shuffled(prompts, 8, 3))
                .optSeed(4)
                .optMetricsSink(metrics::add)
                .build()) {
      loop.run(60);
      assertEquals(60, learner.stepCount());
      assertEquals(60, sampler.servedVersion(dev.jbond.PolicyRole.POLICY).version());
    }
    double first = mean(metrics.subList(0, 10));
    System.out.printf(
        "J-BOND on ORT: reward %.3f -> %.3f, KL(pi||ref) %.3f, KL(pi||anchor) %.3f%n",
        first,
        mean(metrics.subList(50, 60)),
        metrics.get(59).klReference(),
        metrics.get(59).klAnchor());
    double last = mean(metrics.subList(50, 60));
    StepMetrics end = metrics.get(59);
    assertTrue(last > first + 0.2, "policy reward " + first + " -> " + last);
    assertTrue(end.klReference() > 0.1, "KL(pi || pi_ref) " + end.klReference());
    assertTrue(Double.isFinite(end.lossForward()) && Double.isFinite(end.lossBackward()));
  }

  private static double mean(List<StepMetrics> m) {
    return m.stream().mapToDouble(StepMetrics::rewardMean).average().orElseThrow();
  }
}
