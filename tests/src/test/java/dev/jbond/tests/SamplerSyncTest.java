package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.loop.JbondLoop;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.TritonWeightPublisher;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.WeightPublisher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sync verification: a publisher that silently drops one policy update (reports it published, the
 * server keeps the old weights) is caught at the next step, before anything learns from the stale
 * samples, in process and over Triton, for full weights and for LoRA adapters sent per request; the
 * retry publishes again and the run goes on.
 */
class SamplerSyncTest {
  private static final long DROPPED = 3;

  /** Passes publishes through, except the policy's of one version, which it only reports. */
  private static final class DroppingPublisher implements WeightPublisher {
    private final WeightPublisher inner;
    private boolean dropped;

    DroppingPublisher(WeightPublisher inner) {
      this.inner = inner;
    }

    @Override
    public ModelVersion publish(PolicyLearner learner, PolicyRole role, long version) {
      if (role == PolicyRole.POLICY && version == DROPPED && !dropped) {
        dropped = true;
        return new ModelVersion("dropped", version);
      }
      return inner.publish(learner, role, version);
    }
  }

  @Test
  void droppedUpdate_inProcess_caughtAtTheNextStepAndRepublished(@TempDir Path dir)
      throws IOException {
    ModelDirectory model = model(dir);
    try (OrtPolicyLearner learner =
            OrtPolicyLearner.open(model.fullGraph(), TinyJbond.learnerConfig());
        DirectSampler sampler =
            DirectSampler.builder(model, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build()) {
      check(learner, sampler, new DroppingPublisher(new LearnerPublisher(sampler)));
    }
  }

  @Test
  void droppedUpdate_overTriton_caughtAtTheNextStepAndRepublished(@TempDir Path dir)
      throws IOException {
    ModelDirectory model = model(dir.resolve("model"));
    Path repo = dir.resolve("repo");
    TritonServing.writeRoles(
        repo,
        DecoderWeights.initialize(TinyJbond.CONFIG),
        OptionalInt.empty(),
        OptionalInt.empty());
    try (TritonServing serving = TritonServing.start(repo, 64);
        OrtPolicyLearner learner =
            OrtPolicyLearner.open(model.fullGraph(), TinyJbond.learnerConfig());
        TritonSampler sampler =
            TritonSampler.builder(
                    serving.client, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build();
        TritonWeightPublisher publisher =
            TritonWeightPublisher.builder(serving.client, TinyJbond.CONFIG).build()) {
      check(learner, sampler, new DroppingPublisher(publisher));
    }
  }

  @Test
  void droppedUpdate_loraAdaptersPerRequest_caughtAtTheNextStepAndRepublished(@TempDir Path dir)
      throws IOException {
    try (LoraServing s = LoraServing.start(dir, 1 << 20, 8, null)) {
      check(s.learner, s.sampler, new DroppingPublisher(s.publisher()));
    }
  }

  private static ModelDirectory model(Path dir) throws IOException {
    return ModelDirectory.write(
        dir, DecoderWeights.initialize(TinyJbond.CONFIG), OptionalInt.empty(), OptionalInt.empty());
  }

  private static void check(
      OrtPolicyLearner learner, PolicySampler sampler, WeightPublisher publisher) {
    List<StepMetrics> metrics = new ArrayList<>();
    try (JbondLoop loop =
        TinyJbond.loop(sampler, learner, publisher).optMetricsSink(metrics::add).build()) {
      loop.run((int) DROPPED - 1);
      ModelVersion stale = loop.servedVersions().get(PolicyRole.POLICY);
      loop.step(); // publishes version 3, which is dropped
      double inSync = 0;
      for (StepMetrics m : metrics) {
        inSync = Math.max(inSync, m.extras().get("samplerLogProbError"));
      }

      BackendException e = assertThrows(BackendException.class, loop::step);

      assertEquals(BackendException.Code.OUT_OF_SYNC, e.code());
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Expected the policy samples of step 4 from the weights of step 3, found samples"
                      + " served as "),
          e.getMessage());
      assertTrue(
          e.getMessage().contains("served as " + stale + " whose"),
          "the served version " + stale + ": " + e.getMessage());
      assertEquals(DROPPED, learner.stepCount(), "nothing learned from the stale samples");

      StepMetrics retried = loop.step();
      assertEquals(DROPPED + 1, retried.step());
      double after = retried.extras().get("samplerLogProbError");
      System.out.printf(
          "sampler vs learner log-prob, nats per sequence: in sync at most %.2e, after the retry"
              + " %.2e; the dropped update: %s%n",
          inSync, after, e.getMessage());
      assertTrue(inSync < 1e-3, "in sync: " + inSync);
      assertTrue(after < 1e-3, "after the retry: " + after);
    }
  }
}
