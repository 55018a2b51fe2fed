package dev.jbond.models.generate;

import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.WeightPublisher;
import java.util.Objects;

/**
 * Publishes an {@link OrtPolicyLearner}'s weights to a {@link DirectSampler} in process: the
 * learner's current weights of the role become a new sampling graph of the sampler's policy files
 * ({@link dev.jbond.models.policy.PolicyFiles#samplingGraph(java.util.Map)}) that the sampler swaps
 * in atomically; samples in flight finish on the old one.
 *
 * <p>Publishing the version the sampler already serves for that role is a no-op (the loop publishes
 * version 0 at start, which the sampler serves from the model directory it was opened on). Not
 * closed by the loop; closing it does not close the sampler (the caller owns both).
 */
public final class LearnerPublisher implements WeightPublisher {
  private final DirectSampler sampler;

  /**
   * Creates a publisher to the sampler's policy files ({@link DirectSampler#files()}), whose
   * sampling graph gets the learner's weights.
   *
   * @param sampler the sampler to publish to
   */
  public LearnerPublisher(DirectSampler sampler) {
    this.sampler = Objects.requireNonNull(sampler, "sampler");
  }

  @Override
  public ModelVersion publish(PolicyLearner learner, PolicyRole role, long version) {
    Checks.checkArgument(
        learner instanceof OrtPolicyLearner,
        "Expected an OrtPolicyLearner to publish from, found %s",
        learner.getClass().getSimpleName());
    ModelVersion served = sampler.servedVersion(role);
    if (served.version() == version) {
      return served;
    }
    return sampler.publish(role, ((OrtPolicyLearner) learner).servedWeights(role), version);
  }
}
