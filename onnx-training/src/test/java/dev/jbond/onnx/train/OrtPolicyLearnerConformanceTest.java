package dev.jbond.onnx.train;

import dev.jbond.Generation;
import dev.jbond.onnx.testing.TorchFixtures;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.testing.PolicyLearnerContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The SPI conformance suite on the torch-exported GPT-2-style fixture (opset 17). */
class OrtPolicyLearnerConformanceTest extends PolicyLearnerContract {
  private static PolicyModel model;

  private static synchronized PolicyModel model() {
    if (model == null) {
      try {
        model = PolicyModel.load(TorchFixtures.model(17));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return model;
  }

  @Override
  protected PolicyLearner newLearner() {
    return OrtPolicyLearner.create(
        model(),
        LearnerConfig.builder()
            .optLearningRate(1e-3)
            .optSchedule(LearningRateSchedule.constant(0))
            .optContextLength(16)
            .optSession(TinyPolicies.SESSION)
            .build());
  }

  @Override
  protected List<Generation> sequences() {
    return List.of(
        TinyPolicies.generation("p0", new int[] {1, 2, 3}, new int[] {4, 5, 6, 7}),
        TinyPolicies.generation("p1", new int[] {9}, new int[] {10, 11}),
        TinyPolicies.generation("p2", new int[] {20, 21, 22, 23, 24}, new int[] {63, 0, 5}));
  }
}
