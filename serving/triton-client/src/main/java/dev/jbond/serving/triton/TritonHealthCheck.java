package dev.jbond.serving.triton;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the client checks its endpoints.
 *
 * <p>Every {@code interval} the client probes each endpoint: ServerLive, then ModelReady for each
 * of {@code models} (ServerReady is not used: with Triton's strict readiness it is false while any
 * model loads). A probe that fails or answers false counts as a failure; so does a call that fails
 * with UNAVAILABLE. After {@code ejectAfterFailures} consecutive failures the endpoint is ejected:
 * round-robin calls skip it while any endpoint is healthy, and fail fast with UNAVAILABLE when none
 * is. The next successful probe re-admits it. Failed calls never eject the last admitted endpoint,
 * because UNAVAILABLE also means a full queue on a live server; only failed probes do.
 *
 * @param interval time between probe rounds, {@code > 0}
 * @param timeout deadline of each probe call, {@code > 0}
 * @param ejectAfterFailures consecutive failures that eject an endpoint, {@code >= 1}
 * @param models models whose ModelReady must be true (the models in use); may be empty
 */
public record TritonHealthCheck(
    Duration interval, Duration timeout, int ejectAfterFailures, List<String> models) {

  /** Default: probes every 5 s with a 2 s deadline, ejects after 3 failures, checks no model. */
  public static final TritonHealthCheck DEFAULT =
      new TritonHealthCheck(Duration.ofSeconds(5), Duration.ofSeconds(2), 3, List.of());

  /**
   * Validates the components and copies the model list.
   *
   * @param interval see the record description
   * @param timeout see the record description
   * @param ejectAfterFailures see the record description
   * @param models see the record description
   * @throws IllegalArgumentException when a component is out of range or a model name is empty
   */
  public TritonHealthCheck {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    models = List.copyOf(models);
    if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "Expected a health-check interval and timeout > 0, found "
              + interval
              + " and "
              + timeout);
    }
    if (ejectAfterFailures < 1) {
      throw new IllegalArgumentException(
          "Expected ejectAfterFailures >= 1, found " + ejectAfterFailures);
    }
    for (String model : models) {
      if (model.isEmpty()) {
        throw new IllegalArgumentException("Expected non-empty model names, found " + models);
      }
    }
  }

  /**
   * Returns these settings checking ModelReady for {@code models}.
   *
   * @param models the models in use
   * @return new settings
   */
  public TritonHealthCheck withModels(List<String> models) {
    return new TritonHealthCheck(interval, timeout, ejectAfterFailures, models);
  }
}
