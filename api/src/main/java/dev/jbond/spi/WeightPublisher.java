package dev.jbond.spi;

import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;

/**
 * Makes a new version of the policy or the anchor servable to the {@link PolicySampler}: a Triton
 * RepositoryModelLoad, or an in-process swap.
 */
public interface WeightPublisher extends AutoCloseable {
  /**
   * Publishes the learner's current weights for {@code role} as {@code version}. Returns once the
   * new version serves requests; samples drawn after that record it.
   *
   * @param learner where the weights come from
   * @param role which weights ({@link PolicyRole#POLICY} or {@link PolicyRole#ANCHOR})
   * @param version the version to publish, larger than any published before for this role
   * @return the served model version
   * @throws dev.jbond.BackendException when the serving side fails
   */
  ModelVersion publish(PolicyLearner learner, PolicyRole role, long version);

  /** Releases the publisher's resources; idempotent. The default does nothing. */
  @Override
  default void close() {}
}
