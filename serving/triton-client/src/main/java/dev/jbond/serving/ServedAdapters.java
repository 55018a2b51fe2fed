package dev.jbond.serving;

import dev.jbond.PolicyRole;
import dev.jbond.serving.lora.LoraTensors;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The LoRA adapter each role's samples are drawn with: what {@link TritonLoraPublisher} publishes
 * and every {@link TritonSampler} built with it ({@link TritonSampler.Builder#optAdapters}) sends
 * with its requests (the task id always; the weights where an endpoint asks for them). A role
 * without an adapter samples the base model. Thread-safe.
 */
public final class ServedAdapters {
  /**
   * One role's adapter.
   *
   * @param version the weights' version (the learner's step numbering of the publisher)
   * @param taskId the LoRA task id, new for every version
   * @param tensors the adapter's {@code lora_weights} and {@code lora_config}
   */
  public record Served(long version, long taskId, LoraTensors tensors) {
    /**
     * Validates the components.
     *
     * @param version see the record description
     * @param taskId see the record description
     * @param tensors see the record description
     */
    public Served {
      Objects.requireNonNull(tensors, "tensors");
    }
  }

  private final Map<PolicyRole, Served> current = new EnumMap<>(PolicyRole.class);

  /** Creates a registry in which no role has an adapter. */
  public ServedAdapters() {}

  /**
   * Sets the adapter a role is sampled with from now on.
   *
   * @param role the role
   * @param served its adapter
   */
  public synchronized void set(PolicyRole role, Served served) {
    current.put(Objects.requireNonNull(role, "role"), Objects.requireNonNull(served, "served"));
  }

  /**
   * Returns the adapter a role is sampled with.
   *
   * @param role the role
   * @return its adapter, or empty for the base model
   */
  public synchronized Optional<Served> get(PolicyRole role) {
    return Optional.ofNullable(current.get(role));
  }

  /** Returns each role's version and task id. */
  @Override
  public synchronized String toString() {
    StringBuilder out = new StringBuilder("ServedAdapters{");
    current.forEach(
        (role, s) ->
            out.append(role.label())
                .append("=v")
                .append(s.version())
                .append("/task ")
                .append(s.taskId())
                .append(' '));
    return out.append('}').toString();
  }
}
