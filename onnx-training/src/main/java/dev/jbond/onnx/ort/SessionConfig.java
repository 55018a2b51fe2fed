package dev.jbond.onnx.ort;

import dev.jbond.internal.Checks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link OrtSessions} opens a session.
 *
 * @param intraOpThreads threads used inside one op; 0 lets ONNX Runtime choose (one per physical
 *     core)
 * @param interOpThreads threads used to run independent ops in parallel; 0 lets ONNX Runtime choose
 * @param optimizationLevel how much ONNX Runtime rewrites the graph
 * @param executionProvider where kernels run
 * @param deviceId the GPU ordinal for {@link ExecutionProvider#CUDA}, {@code >= 0}
 * @param configEntries free-form ONNX Runtime session config entries (e.g. {@code
 *     "session.model_external_initializers_file_folder_path"}), copied
 */
public record SessionConfig(
    int intraOpThreads,
    int interOpThreads,
    OptimizationLevel optimizationLevel,
    ExecutionProvider executionProvider,
    int deviceId,
    Map<String, String> configEntries) {
  /**
   * Validates and copies the components.
   *
   * @param intraOpThreads see the record description
   * @param interOpThreads see the record description
   * @param optimizationLevel see the record description
   * @param executionProvider see the record description
   * @param deviceId see the record description
   * @param configEntries see the record description
   * @throws IllegalArgumentException when a count is negative
   */
  public SessionConfig {
    Checks.checkArgument(
        intraOpThreads >= 0, "Expected intraOpThreads >= 0, found %d", intraOpThreads);
    Checks.checkArgument(
        interOpThreads >= 0, "Expected interOpThreads >= 0, found %d", interOpThreads);
    Objects.requireNonNull(optimizationLevel, "optimizationLevel");
    Objects.requireNonNull(executionProvider, "executionProvider");
    Checks.checkArgument(deviceId >= 0, "Expected deviceId >= 0, found %d", deviceId);
    configEntries = Map.copyOf(configEntries);
  }

  /**
   * Returns the defaults: ONNX Runtime's thread counts, {@link OptimizationLevel#ALL}, the CPU.
   *
   * @return the default configuration
   */
  public static SessionConfig defaults() {
    return builder().build();
  }

  /**
   * Returns this configuration with another intra-op thread count, everything else unchanged.
   *
   * @param threads the thread count, {@code >= 0}
   * @return the configuration
   * @throws IllegalArgumentException when {@code threads < 0}
   */
  public SessionConfig withIntraOpThreads(int threads) {
    return new SessionConfig(
        threads, interOpThreads, optimizationLevel, executionProvider, deviceId, configEntries);
  }

  /**
   * Starts a configuration with all defaults.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SessionConfig}; every setting is optional. */
  public static final class Builder {
    private int intraOpThreads;
    private int interOpThreads;
    private OptimizationLevel optimizationLevel = OptimizationLevel.ALL;
    private ExecutionProvider executionProvider = ExecutionProvider.CPU;
    private int deviceId;
    private final Map<String, String> configEntries = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets the intra-op thread count. Default 0: ONNX Runtime chooses.
     *
     * @param threads the thread count, {@code >= 0}
     * @return this builder
     */
    public Builder optIntraOpThreads(int threads) {
      this.intraOpThreads = threads;
      return this;
    }

    /**
     * Sets the inter-op thread count. Default 0: ONNX Runtime chooses.
     *
     * @param threads the thread count, {@code >= 0}
     * @return this builder
     */
    public Builder optInterOpThreads(int threads) {
      this.interOpThreads = threads;
      return this;
    }

    /**
     * Sets the optimisation level. Default {@link OptimizationLevel#ALL}, as in ONNX Runtime.
     *
     * @param level the level
     * @return this builder
     */
    public Builder optOptimizationLevel(OptimizationLevel level) {
      this.optimizationLevel = level;
      return this;
    }

    /**
     * Sets the execution provider. Default {@link ExecutionProvider#CPU}.
     *
     * @param provider the provider
     * @return this builder
     */
    public Builder optExecutionProvider(ExecutionProvider provider) {
      this.executionProvider = provider;
      return this;
    }

    /**
     * Sets the GPU ordinal used with CUDA. Default 0.
     *
     * @param deviceId the ordinal, {@code >= 0}
     * @return this builder
     */
    public Builder optDeviceId(int deviceId) {
      this.deviceId = deviceId;
      return this;
    }

    /**
     * Adds an ONNX Runtime session config entry. Default: none.
     *
     * @param key the entry key
     * @param value the entry value
     * @return this builder
     */
    public Builder optConfigEntry(String key, String value) {
      configEntries.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Validates and returns the configuration.
     *
     * @return the configuration
     * @throws IllegalArgumentException when a count is negative
     */
    public SessionConfig build() {
      return new SessionConfig(
          intraOpThreads,
          interOpThreads,
          optimizationLevel,
          executionProvider,
          deviceId,
          configEntries);
    }
  }
}
