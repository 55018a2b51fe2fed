package dev.jbond.serving.triton;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-call settings that override the client's configuration.
 *
 * @param deadline the deadline of each attempt (of the whole stream, for streams); empty: {@link
 *     TritonClientConfig#deadline()}
 * @param idempotent whether failed attempts may be retried; empty: the RPC's default (see {@link
 *     TritonRetryPolicy})
 * @param endpoint the endpoint to send to, bypassing round robin and ejection (for example to load
 *     a model on every server); empty: round robin over healthy endpoints
 */
public record TritonCallOptions(
    Optional<Duration> deadline, Optional<Boolean> idempotent, Optional<String> endpoint) {

  private static final TritonCallOptions DEFAULTS =
      new TritonCallOptions(Optional.empty(), Optional.empty(), Optional.empty());

  /**
   * Validates the components.
   *
   * @param deadline see the record description
   * @param idempotent see the record description
   * @param endpoint see the record description
   * @throws IllegalArgumentException when the deadline is not positive
   */
  public TritonCallOptions {
    Objects.requireNonNull(deadline, "deadline");
    Objects.requireNonNull(idempotent, "idempotent");
    Objects.requireNonNull(endpoint, "endpoint");
    if (deadline.isPresent() && (deadline.get().isNegative() || deadline.get().isZero())) {
      throw new IllegalArgumentException("Expected a call deadline > 0, found " + deadline.get());
    }
  }

  /**
   * Returns options that override nothing.
   *
   * @return the defaults
   */
  public static TritonCallOptions defaults() {
    return DEFAULTS;
  }

  /**
   * Returns these options with a deadline.
   *
   * @param deadline the deadline of each attempt, {@code > 0}
   * @return new options
   */
  public TritonCallOptions withDeadline(Duration deadline) {
    return new TritonCallOptions(Optional.of(deadline), idempotent, endpoint);
  }

  /**
   * Returns these options declaring whether the call may be retried.
   *
   * @param idempotent true when sending the request twice does no harm and gives the same answer
   * @return new options
   */
  public TritonCallOptions withIdempotent(boolean idempotent) {
    return new TritonCallOptions(deadline, Optional.of(idempotent), endpoint);
  }

  /**
   * Returns these options sending the call to one endpoint.
   *
   * @param endpoint the endpoint name
   * @return new options
   */
  public TritonCallOptions onEndpoint(String endpoint) {
    return new TritonCallOptions(deadline, idempotent, Optional.of(endpoint));
  }
}
