package dev.jbond.serving.triton;

import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of one endpoint's health as the client sees it.
 *
 * @param name the endpoint name
 * @param ejected whether the endpoint is ejected (receives no round-robin traffic)
 * @param consecutiveFailures failed calls and probes since the last success
 * @param lastFailure the most recent failure, one line; empty when none was seen
 */
public record TritonEndpointStatus(
    String name, boolean ejected, int consecutiveFailures, Optional<String> lastFailure) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param ejected see the record description
   * @param consecutiveFailures see the record description
   * @param lastFailure see the record description
   */
  public TritonEndpointStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(lastFailure, "lastFailure");
  }
}
