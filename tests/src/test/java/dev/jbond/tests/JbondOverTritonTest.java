package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.objective.Jbond;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.TritonWeightPublisher;
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
 * J-BOND end to end through Triton's protocol: the {@link JbondLoop} samples with a {@link
 * TritonSampler} from the embedded server, trains an {@link OrtPolicyLearner}, and pushes the
 * learner's policy and anchor weights to the server every step with a {@link TritonWeightPublisher}
 * (RepositoryModelLoad with file overrides); the reward rises as on the direct path.
 */
class JbondOverTritonTest {
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
  void jbond_overTriton_raisesRewardAndSamplesRecordPublishedVersions(
      @TempDir Path dir, @TempDir Path repo) throws IOException {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(32)
            .setContextLength(16)
            .setLayers(2)
            .setWidth(32)
            .setHeads(4)
            .setSeed(11)
            .build();
    DecoderWeights initial = DecoderWeights.initialize(config);
    ModelDirectory model =
        ModelDirectory.write(dir, initial, OptionalInt.empty(), OptionalInt.empty());
    TritonServing.writeRoles(repo, initial, OptionalInt.empty(), OptionalInt.empty());
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
    try (TritonServing serving = TritonServing.start(repo, 64);
        OrtPolicyLearner learner = OrtPolicyLearner.open(model.fullGraph(), learnerConfig);
        TritonSampler sampler =
            TritonSampler.builder(
                    serving.client, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build();
        TritonWeightPublisher publisher =
            TritonWeightPublisher.builder(serving.client, config).build();
        JbondLoop loop =
            JbondLoop.builder(
                    Jbond.builder().optEta(0.05).build(),
                    sampler,
                    new LowTokenReward(),
                    learner,
                    publisher,
                    PromptSource.shuffled(prompts, 8, 3))
                .optSeed(4)
                .optMetricsSink(metrics::add)
                .build()) {
      loop.run(60);
      assertEquals(60, learner.stepCount());
      ModelVersion pushed = publisher.publish(learner, PolicyRole.POLICY, 61);
      assertEquals(
          pushed, sampler.sample(prompts.subList(0, 1), 1, PolicyRole.POLICY, 1).get(0).model());
    }
    double first = mean(metrics.subList(0, 10));
    double last = mean(metrics.subList(50, 60));
    System.out.printf("J-BOND over Triton: reward %.3f -> %.3f%n", first, last);
    assertTrue(last > first + 0.2, "policy reward " + first + " -> " + last);
  }

  private static double mean(List<StepMetrics> m) {
    return m.stream().mapToDouble(StepMetrics::rewardMean).average().orElseThrow();
  }
}
