package dev.jbond.spi;

import java.util.Map;

/**
 * Creates one kind of backend (a {@link PolicySampler}, a {@link RewardModel}, ...) and says
 * whether it can run here. Each backend contract has a provider interface that extends this one,
 * for example {@code interface PolicySamplerProvider extends BackendProvider<PolicySampler>}, and
 * engines register implementations in {@code META-INF/services/<provider interface's binary name>},
 * where {@link BackendRegistry#load} finds them.
 *
 * <p>Discovery contract: an implementation has a public no-argument constructor, and its
 * constructor, {@link #name()}, {@link #isAvailable()} and {@link #priority()} are cheap and never
 * throw. A provider whose engine cannot run here (a missing native library, no GPU) reports {@code
 * false} from {@link #isAvailable()} instead of throwing. Only {@link #create} does real work.
 *
 * @param <T> the backend type this provider creates
 */
public interface BackendProvider<T> {
  /**
   * Returns the name by which the backend is selected, for example {@code "ort-cpu"} or {@code
   * "reference"}; unique within a registry and constant for the provider's lifetime.
   *
   * @return the name, not empty
   */
  String name();

  /**
   * Returns whether the backend can be created in this process; never throws.
   *
   * @return {@code true} when {@link #create} can succeed here
   */
  boolean isAvailable();

  /**
   * Returns the provider's priority: among available providers, {@link
   * BackendRegistry#defaultProvider()} picks the highest. Pure-Java fallbacks use low values,
   * accelerated engines higher ones.
   *
   * @return the priority
   */
  int priority();

  /**
   * Creates a backend. The caller owns the result and closes it when it is {@link AutoCloseable}.
   *
   * @param options backend-specific settings (for example {@code "device" -> "0"}); keys a backend
   *     does not know are errors
   * @return a new backend
   * @throws IllegalArgumentException when an option is unknown or has a bad value
   * @throws IllegalStateException when the backend is not available
   * @throws dev.jbond.BackendException when the engine fails to start
   */
  T create(Map<String, String> options);
}
