package dev.jbond.serving.triton;

import io.grpc.Metadata;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Settings of a {@link TritonClient}. Build with {@link #builder()}; every default is listed on the
 * builder's methods.
 *
 * @param endpoints the servers to create channels for; empty when the client is given channels
 *     instead ({@link TritonClient.Builder#optChannels})
 * @param deadline the deadline of each call attempt, and of each stream, unless the call overrides
 *     it
 * @param retry retries of idempotent calls
 * @param healthCheck endpoint probing, ejection and re-admission
 * @param keepAliveTime the HTTP/2 keepalive ping interval of created channels, at least {@link
 *     #MIN_KEEPALIVE_TIME}; empty: no keepalive pings
 * @param keepAliveTimeout how long a keepalive ping may go unanswered before the connection is
 *     considered dead
 * @param maxInboundMessageBytes the largest response message accepted; larger ones fail with
 *     RESOURCE_EXHAUSTED (gRPC's own default is 4 MiB)
 * @param headers metadata sent with every call, for example Triton's {@code
 *     triton-grpc-protocol-<key>} access headers; keys lower-case ASCII
 * @param shutdownTimeout how long {@link TritonClient#close()} waits for created channels to finish
 *     in-flight calls before cancelling them
 */
public record TritonClientConfig(
    List<TritonEndpoint> endpoints,
    Duration deadline,
    TritonRetryPolicy retry,
    TritonHealthCheck healthCheck,
    Optional<Duration> keepAliveTime,
    Duration keepAliveTimeout,
    int maxInboundMessageBytes,
    Map<String, String> headers,
    Duration shutdownTimeout) {

  /** The configuration prefix under which the orchestrator binds these settings. */
  public static final String PREFIX = "jbond.triton";

  /**
   * The smallest keepalive interval allowed: Triton (gRPC core) accepts pings without data at most
   * every 5 minutes ({@code --grpc-http2-min-recv-ping-interval-without-data}) and after two faster
   * ones closes the connection with GOAWAY {@code too_many_pings}, failing the calls in flight.
   */
  public static final Duration MIN_KEEPALIVE_TIME = Duration.ofMinutes(5);

  /**
   * Validates the components and copies the collections.
   *
   * @param endpoints see the record description
   * @param deadline see the record description
   * @param retry see the record description
   * @param healthCheck see the record description
   * @param keepAliveTime see the record description
   * @param keepAliveTimeout see the record description
   * @param maxInboundMessageBytes see the record description
   * @param headers see the record description
   * @param shutdownTimeout see the record description
   * @throws IllegalArgumentException when a component is out of range, endpoint names repeat, a
   *     header is not valid gRPC ASCII metadata, or the keepalive time is below {@link
   *     #MIN_KEEPALIVE_TIME}
   */
  public TritonClientConfig {
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(deadline, "deadline");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(keepAliveTime, "keepAliveTime");
    Objects.requireNonNull(keepAliveTimeout, "keepAliveTimeout");
    headers = Map.copyOf(headers);
    Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    Set<String> names = new HashSet<>();
    for (TritonEndpoint endpoint : endpoints) {
      if (!names.add(endpoint.name())) {
        throw new IllegalArgumentException(
            "Expected distinct endpoint names, found '" + endpoint.name() + "' twice");
      }
    }
    checkPositive(deadline, "call deadline");
    checkPositive(keepAliveTimeout, "keepAliveTimeout");
    if (shutdownTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "Expected a shutdownTimeout >= 0, found " + shutdownTimeout);
    }
    if (keepAliveTime.isPresent() && keepAliveTime.get().compareTo(MIN_KEEPALIVE_TIME) < 0) {
      throw new IllegalArgumentException(
          "Expected keepAliveTime >= "
              + MIN_KEEPALIVE_TIME
              + " (Triton answers more frequent pings with GOAWAY too_many_pings), found "
              + keepAliveTime.get());
    }
    if (maxInboundMessageBytes < 1) {
      throw new IllegalArgumentException(
          "Expected maxInboundMessageBytes >= 1, found " + maxInboundMessageBytes);
    }
    for (Map.Entry<String, String> header : headers.entrySet()) {
      try {
        Metadata.Key<String> key =
            Metadata.Key.of(header.getKey(), Metadata.ASCII_STRING_MARSHALLER);
        new Metadata().put(key, header.getValue());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "Expected a gRPC ASCII header, found '" + header.getKey() + "': " + e.getMessage(), e);
      }
    }
  }

  /**
   * Returns a builder with every setting at its default.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  private static void checkPositive(Duration value, String name) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("Expected a " + name + " > 0, found " + value);
    }
  }

  /** Builds a {@link TritonClientConfig}; each {@code optX} documents its default. */
  public static final class Builder {
    private List<TritonEndpoint> endpoints = List.of();
    private Duration deadline = Duration.ofSeconds(30);
    private TritonRetryPolicy retry = TritonRetryPolicy.DEFAULT;
    private TritonHealthCheck healthCheck = TritonHealthCheck.DEFAULT;
    private Optional<Duration> keepAliveTime = Optional.empty();
    private Duration keepAliveTimeout = Duration.ofSeconds(20);
    private int maxInboundMessageBytes = 256 << 20;
    private Map<String, String> headers = Map.of();
    private Duration shutdownTimeout = Duration.ofSeconds(5);

    private Builder() {}

    /**
     * Sets the servers to create channels for. Default: none (the client is then given channels).
     *
     * @param endpoints the endpoints
     * @return this builder
     */
    public Builder optEndpoints(List<TritonEndpoint> endpoints) {
      this.endpoints = endpoints;
      return this;
    }

    /**
     * Sets the deadline of each call attempt and stream. Default: 30 s.
     *
     * @param deadline the deadline, {@code > 0}
     * @return this builder
     */
    public Builder optDeadline(Duration deadline) {
      this.deadline = deadline;
      return this;
    }

    /**
     * Sets the retry policy. Default: {@link TritonRetryPolicy#DEFAULT}.
     *
     * @param retry the policy
     * @return this builder
     */
    public Builder optRetry(TritonRetryPolicy retry) {
      this.retry = retry;
      return this;
    }

    /**
     * Sets endpoint probing. Default: {@link TritonHealthCheck#DEFAULT}.
     *
     * @param healthCheck the settings
     * @return this builder
     */
    public Builder optHealthCheck(TritonHealthCheck healthCheck) {
      this.healthCheck = healthCheck;
      return this;
    }

    /**
     * Turns on keepalive pings every {@code keepAliveTime}. Default: off, like Triton's own
     * clients.
     *
     * @param keepAliveTime the interval, at least {@link #MIN_KEEPALIVE_TIME}
     * @return this builder
     */
    public Builder optKeepAliveTime(Duration keepAliveTime) {
      this.keepAliveTime = Optional.of(keepAliveTime);
      return this;
    }

    /**
     * Sets how long a keepalive ping may go unanswered. Default: 20 s (Triton's server default).
     *
     * @param keepAliveTimeout the timeout, {@code > 0}
     * @return this builder
     */
    public Builder optKeepAliveTimeout(Duration keepAliveTimeout) {
      this.keepAliveTimeout = keepAliveTimeout;
      return this;
    }

    /**
     * Sets the largest response accepted. Default: 256 MiB (gRPC's default of 4 MiB is too small
     * for batched outputs with log-probs or logits; Triton itself accepts up to 2 GiB).
     *
     * @param maxInboundMessageBytes the limit in bytes, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxInboundMessageBytes(int maxInboundMessageBytes) {
      this.maxInboundMessageBytes = maxInboundMessageBytes;
      return this;
    }

    /**
     * Sets metadata sent with every call. Default: none.
     *
     * @param headers lower-case ASCII keys and their values
     * @return this builder
     */
    public Builder optHeaders(Map<String, String> headers) {
      this.headers = headers;
      return this;
    }

    /**
     * Sets how long closing waits for created channels. Default: 5 s.
     *
     * @param shutdownTimeout the bounded wait, {@code >= 0}
     * @return this builder
     */
    public Builder optShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * Validates and returns the configuration.
     *
     * @return the configuration
     * @throws IllegalArgumentException when a setting is out of range
     */
    public TritonClientConfig build() {
      return new TritonClientConfig(
          endpoints,
          deadline,
          retry,
          healthCheck,
          keepAliveTime,
          keepAliveTimeout,
          maxInboundMessageBytes,
          headers,
          shutdownTimeout);
    }
  }
}
