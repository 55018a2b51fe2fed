package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.loop.JbondLoop;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.TritonWeightPublisher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * J-BOND end to end through Triton's protocol: the {@link JbondLoop} samples with a {@link
 * TritonSampler} from the embedded server, trains an {@link OrtPolicyLearner}, and pushes the
 * learner's policy and anchor weights to the server every step with a {@link TritonWeightPublisher}
 * (RepositoryModelLoad with file overrides); the reward rises as on the direct path.
 */
class JbondOverTritonTest {
  @Test
  void jbond_overTriton_raisesRewardAndSamplesRecordPublishedVersions(@TempDir Path root)
      throws IOException {
    List<Prompt> prompts = TinyJbond.prompts();
    List<StepMetrics> metrics =
        run(
            root,
            false,
            60,
            (learner, sampler, publisher) -> {
              assertEquals(60, learner.stepCount());
              ModelVersion pushed = publisher.publish(learner, PolicyRole.POLICY, 61);
              assertEquals(
                  pushed,
                  sampler.sample(prompts.subList(0, 1), 1, PolicyRole.POLICY, 1).get(0).model());
            });
    double first = TinyJbond.meanReward(metrics.subList(0, 10));
    double last = TinyJbond.meanReward(metrics.subList(50, 60));
    System.out.printf("J-BOND over Triton: reward %.3f -> %.3f%n", first, last);
    assertTrue(last > first + 0.2, "policy reward " + first + " -> " + last);
  }

  /**
   * Publishing policy and anchor in one call (their loads run concurrently) gives each role its own
   * weights: after training, samples served for each role equal samples drawn in process from that
   * role's weights with the same seed, and the two roles' samples differ.
   */
  @Test
  void publish_policyAndAnchorTogether_eachRoleServesItsOwnWeights(@TempDir Path root)
      throws IOException {
    List<Prompt> prompts = TinyJbond.prompts().subList(0, 4);
    run(
        root,
        false,
        8,
        (learner, sampler, publisher) -> {
          Map<PolicyRole, ModelVersion> pushed =
              publisher.publish(learner, EnumSet.of(PolicyRole.POLICY, PolicyRole.ANCHOR), 9);
          List<List<Generation>> served = new ArrayList<>();
          for (PolicyRole role : List.of(PolicyRole.POLICY, PolicyRole.ANCHOR)) {
            List<Generation> out = sampler.sample(prompts, 4, role, 5);
            assertTrue(
                out.stream().allMatch(g -> g.model().equals(pushed.get(role))), role.label());
            try {
              Path dir = root.resolve("direct-" + role.label());
              ModelDirectory model =
                  ModelDirectory.write(
                      dir,
                      DecoderWeights.fromInitializers(TinyJbond.CONFIG, learner.weights(role)),
                      OptionalInt.empty(),
                      OptionalInt.empty());
              try (DirectSampler direct =
                  DirectSampler.builder(model, SamplingConfig.builder().setMaxNewTokens(8).build())
                      .build()) {
                assertEquals(
                    direct.sample(prompts, 4, role, 5).stream()
                        .map(Generation::completion)
                        .toList(),
                    out.stream().map(Generation::completion).toList(),
                    role.label());
              }
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            served.add(out);
          }
          assertTrue(
              !served.get(0).stream()
                  .map(Generation::completion)
                  .toList()
                  .equals(served.get(1).stream().map(Generation::completion).toList()),
              "policy and anchor samples are equal");
        });
  }

  @Test
  void jbond_overTriton_streamedRequestsTrainExactlyLikeUnaryOnes(@TempDir Path root)
      throws IOException {
    List<Double> unary = rewards(root.resolve("unary"), false, 12);
    List<Double> streamed = rewards(root.resolve("streamed"), true, 12);

    // same seeds, same samples, same updates, weights pushed every step: same rewards
    assertEquals(unary, streamed);
  }

  /** What a test checks once the loop has run, with the pieces still open. */
  private interface AfterRun {
    void check(OrtPolicyLearner learner, TritonSampler sampler, TritonWeightPublisher publisher);
  }

  private static List<Double> rewards(Path root, boolean stream, int steps) throws IOException {
    return run(root, stream, steps, (learner, sampler, publisher) -> {}).stream()
        .map(StepMetrics::rewardMean)
        .toList();
  }

  /**
   * Runs {@code steps} J-BOND steps over a fresh embedded server, sampling with unary requests or
   * on streams, then {@code after}; returns each step's metrics.
   */
  private static List<StepMetrics> run(Path root, boolean stream, int steps, AfterRun after)
      throws IOException {
    DecoderConfig config = TinyJbond.CONFIG;
    DecoderWeights initial = DecoderWeights.initialize(config);
    ModelDirectory model =
        ModelDirectory.write(
            root.resolve("model"), initial, OptionalInt.empty(), OptionalInt.empty());
    Path repo = root.resolve("repo");
    TritonServing.writeRoles(repo, initial, OptionalInt.empty(), OptionalInt.empty());
    List<StepMetrics> metrics = new ArrayList<>();
    try (TritonServing serving = TritonServing.start(repo, 64);
        OrtPolicyLearner learner =
            OrtPolicyLearner.open(model.fullGraph(), TinyJbond.learnerConfig());
        TritonSampler sampler =
            TritonSampler.builder(
                    serving.client, SamplingConfig.builder().setMaxNewTokens(8).build())
                .optStream(stream)
                .build();
        TritonWeightPublisher publisher =
            TritonWeightPublisher.builder(serving.client, config).build();
        JbondLoop loop =
            TinyJbond.loop(sampler, learner, publisher).optMetricsSink(metrics::add).build()) {
      loop.run(steps);
      after.check(learner, sampler, publisher);
    }
    return metrics;
  }
}
