package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.loop.JbondLoop;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.objective.Jbond;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * J-BOND end to end on ONNX Runtime: the api's {@link JbondLoop} and {@link Jbond} weights, a jbond
 * decoder sampled with its KV cache ({@link DirectSampler}), trained by the {@link
 * OrtPolicyLearner}, with the learner's weights published back to the sampler every step.
 */
class JbondOnOrtTest {
  @Test
  void jbond_onOrt_raisesRewardWithKlToTheReference(@TempDir Path dir) throws IOException {
    DecoderConfig config = TinyJbond.CONFIG;
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
    List<Prompt> prompts = TinyJbond.prompts();
    LearnerConfig learnerConfig = TinyJbond.learnerConfig();
    List<StepMetrics> metrics = new ArrayList<>();
    try (OrtPolicyLearner learner = OrtPolicyLearner.open(model.fullGraph(), learnerConfig);
        DirectSampler sampler =
            DirectSampler.builder(model, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build();
        JbondLoop loop =
            TinyJbond.loop(sampler, learner, new LearnerPublisher(sampler))
                .optTrackReferenceKl(true)
                .optMetricsSink(metrics::add)
                .build()) {
      loop.run(60);
      assertEquals(60, learner.stepCount());
      assertEquals(60, sampler.servedVersion(dev.jbond.PolicyRole.POLICY).version());
    }
    double first = TinyJbond.meanReward(metrics.subList(0, 10));
    System.out.printf(
        "J-BOND on ORT: reward %.3f -> %.3f, KL(pi||ref) %.3f, KL(pi||anchor) %.3f%n",
        first,
        TinyJbond.meanReward(metrics.subList(50, 60)),
        metrics.get(59).klReference(),
        metrics.get(59).klAnchor());
    double last = TinyJbond.meanReward(metrics.subList(50, 60));
    StepMetrics end = metrics.get(59);
    assertTrue(last > first + 0.2, "policy reward " + first + " -> " + last);
    assertTrue(end.klReference() > 0.1, "KL(pi || pi_ref) " + end.klReference());
    assertTrue(Double.isFinite(end.lossForward()) && Double.isFinite(end.lossBackward()));
  }
}
