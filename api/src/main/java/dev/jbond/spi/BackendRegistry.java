package dev.jbond.spi;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The backends of one kind that this process knows, by name. Instances are independent: there is no
 * process-wide registry. {@link #load} discovers providers through {@link ServiceLoader}, and
 * {@link #register} adds providers programmatically (for tests, or engines built in code).
 *
 * <p>Selection is explicit by name through {@link #select}; {@link #defaultProvider()} picks the
 * available provider with the highest {@link BackendProvider#priority() priority}, ties broken by
 * name. Availability is asked from the providers on every call, and a provider that throws from
 * {@link BackendProvider#isAvailable()} or {@link BackendProvider#priority()} counts as
 * unavailable. Lookup failures list the available names.
 *
 * <p>Discovery never throws for a broken provider: a {@link ServiceConfigurationError} (a listed
 * class that is missing, not a provider, or whose constructor throws), a provider without a name,
 * or a second provider with a taken name is logged and recorded in {@link #failures()}, and
 * discovery goes on with the next provider. Instances are thread-safe.
 *
 * @param <T> the backend type the providers create
 */
public final class BackendRegistry<T> {
  private static final System.Logger LOG = System.getLogger(BackendRegistry.class.getName());

  /** Discovery gives up after this many consecutive configuration errors. */
  private static final int MAX_CONSECUTIVE_ERRORS = 100;

  private final Map<String, BackendProvider<? extends T>> providers = new TreeMap<>();
  private final List<String> failures = new ArrayList<>();

  /** Creates an empty registry; add providers with {@link #register}. */
  public BackendRegistry() {}

  /**
   * Creates a registry holding the providers of {@code providerType} that {@link ServiceLoader}
   * finds through {@code loader} ({@code META-INF/services/<providerType's binary name>}). Broken
   * providers are recorded in {@link #failures()}, not thrown.
   *
   * @param <T> the backend type
   * @param <P> the provider interface
   * @param providerType the provider interface, for example {@code PolicySamplerProvider.class}
   * @param loader where to look; {@code null} means the system class loader
   * @return the registry
   */
  public static <T, P extends BackendProvider<T>> BackendRegistry<T> load(
      Class<P> providerType, ClassLoader loader) {
    Objects.requireNonNull(providerType, "providerType");
    BackendRegistry<T> registry = new BackendRegistry<>();
    Iterator<P> found = ServiceLoader.load(providerType, loader).iterator();
    int consecutiveErrors = 0;
    while (consecutiveErrors < MAX_CONSECUTIVE_ERRORS) {
      P provider;
      try {
        if (!found.hasNext()) {
          break;
        }
        provider = found.next();
      } catch (ServiceConfigurationError e) {
        consecutiveErrors++;
        Throwable cause = e.getCause();
        registry.recordFailure(
            "Could not load a backend provider: "
                + e.getMessage()
                + (cause == null ? "" : " (" + cause + ")"),
            e);
        continue;
      }
      consecutiveErrors = 0;
      registry.registerDiscovered(provider);
    }
    return registry;
  }

  /**
   * Adds {@code provider}.
   *
   * @param provider the provider
   * @return this registry
   * @throws IllegalArgumentException when its name is empty or already registered
   */
  public synchronized BackendRegistry<T> register(BackendProvider<? extends T> provider) {
    Objects.requireNonNull(provider, "provider");
    String name = provider.name();
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected a non-empty backend name from "
              + provider.getClass().getName()
              + ", found "
              + (name == null ? "null" : "''"));
    }
    BackendProvider<? extends T> existing = providers.get(name);
    if (existing != null) {
      throw new IllegalArgumentException(
          "Expected a unique backend name, found '"
              + name
              + "' registered by both "
              + existing.getClass().getName()
              + " and "
              + provider.getClass().getName());
    }
    providers.put(name, provider);
    return this;
  }

  /**
   * Returns the names of all registered providers, available or not, sorted.
   *
   * @return the names
   */
  public synchronized List<String> names() {
    return List.copyOf(providers.keySet());
  }

  /**
   * Returns the available providers, highest priority first, ties by name.
   *
   * @return the available providers
   */
  public synchronized List<BackendProvider<? extends T>> available() {
    List<Ranked<T>> ranked = new ArrayList<>();
    for (BackendProvider<? extends T> provider : providers.values()) {
      if (isAvailable(provider)) {
        Integer priority = priority(provider);
        if (priority != null) {
          ranked.add(new Ranked<>(provider, priority));
        }
      }
    }
    ranked.sort(
        Comparator.<Ranked<T>>comparingInt(Ranked::priority)
            .reversed()
            .thenComparing(r -> r.provider().name()));
    List<BackendProvider<? extends T>> result = new ArrayList<>(ranked.size());
    for (Ranked<T> r : ranked) {
      result.add(r.provider());
    }
    return List.copyOf(result);
  }

  /**
   * Returns the provider named {@code name}.
   *
   * @param name the backend name
   * @return the provider, which is available
   * @throws IllegalArgumentException when no provider has that name
   * @throws IllegalStateException when the provider is not available here
   */
  public synchronized BackendProvider<? extends T> select(String name) {
    Objects.requireNonNull(name, "name");
    BackendProvider<? extends T> provider = providers.get(name);
    if (provider == null) {
      throw new IllegalArgumentException(
          "Unknown backend '" + name + "', available: " + availableNames() + failureNote());
    }
    if (!isAvailable(provider)) {
      throw new IllegalStateException(
          "Backend '" + name + "' is not available here, available: " + availableNames());
    }
    return provider;
  }

  /**
   * Returns the available provider with the highest priority, ties broken by name.
   *
   * @return the default provider
   * @throws IllegalStateException when no provider is available
   */
  public synchronized BackendProvider<? extends T> defaultProvider() {
    List<BackendProvider<? extends T>> available = available();
    if (available.isEmpty()) {
      throw new IllegalStateException(
          "Expected at least one available backend, found none among " + names() + failureNote());
    }
    return available.get(0);
  }

  /**
   * Returns what went wrong during discovery, one message per broken provider, in discovery order.
   *
   * @return the messages; empty when every provider loaded
   */
  public synchronized List<String> failures() {
    return List.copyOf(failures);
  }

  @Override
  public synchronized String toString() {
    return "BackendRegistry[names=" + names() + ", available=" + availableNames() + "]";
  }

  private synchronized void registerDiscovered(BackendProvider<? extends T> provider) {
    try {
      register(provider);
    } catch (RuntimeException | LinkageError e) {
      recordFailure(
          "Could not register " + provider.getClass().getName() + ": " + e.getMessage(), e);
    }
  }

  private synchronized void recordFailure(String message, Throwable cause) {
    failures.add(message);
    LOG.log(Level.WARNING, message, cause);
  }

  private List<String> availableNames() {
    List<String> names = new ArrayList<>();
    for (BackendProvider<? extends T> provider : available()) {
      names.add(provider.name());
    }
    return names;
  }

  private String failureNote() {
    return failures.isEmpty() ? "" : "; providers that failed to load: " + failures.size();
  }

  private static boolean isAvailable(BackendProvider<?> provider) {
    try {
      return provider.isAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.DEBUG, "Backend " + provider.name() + " threw from isAvailable()", e);
      return false;
    }
  }

  private static Integer priority(BackendProvider<?> provider) {
    try {
      return provider.priority();
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.DEBUG, "Backend " + provider.name() + " threw from priority()", e);
      return null;
    }
  }

  /** A provider with its priority, read once per ranking. */
  private record Ranked<T>(BackendProvider<? extends T> provider, int priority) {}
}
