package dev.jbond.spi;

import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

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

  /**
   * Publishes the learner's current weights of several roles, each as {@code version}; returns once
   * all of them serve requests. An implementation may publish them concurrently; the default
   * publishes one after the other in the roles' order. When one fails the call throws, and roles
   * already published may be published again by a later call.
   *
   * @param learner where the weights come from
   * @param roles which weights ({@link PolicyRole#POLICY}, {@link PolicyRole#ANCHOR})
   * @param version the version to publish, larger than any published before for these roles
   * @return each role's served model version
   * @throws dev.jbond.BackendException when the serving side fails
   */
  default Map<PolicyRole, ModelVersion> publish(
      PolicyLearner learner, Set<PolicyRole> roles, long version) {
    Map<PolicyRole, ModelVersion> out = new EnumMap<>(PolicyRole.class);
    for (PolicyRole role : PolicyRole.values()) {
      if (roles.contains(role)) {
        out.put(role, publish(learner, role, version));
      }
    }
    return out;
  }

  /** Releases the publisher's resources; idempotent. The default does nothing. */
  @Override
  default void close() {}
}
