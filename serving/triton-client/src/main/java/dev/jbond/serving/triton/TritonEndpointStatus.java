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
 * @param quarantine why the endpoint is quarantined ({@link TritonClient#quarantine}: it receives
 *     no round-robin traffic whatever its health); empty when it is not
 */
public record TritonEndpointStatus(
    String name,
    boolean ejected,
    int consecutiveFailures,
    Optional<String> lastFailure,
    Optional<String> quarantine) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param ejected see the record description
   * @param consecutiveFailures see the record description
   * @param lastFailure see the record description
   * @param quarantine see the record description
   */
  public TritonEndpointStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(lastFailure, "lastFailure");
    Objects.requireNonNull(quarantine, "quarantine");
  }

  /**
   * Whether round-robin calls may go to the endpoint: neither ejected nor quarantined.
   *
   * @return true when it takes traffic
   */
  public boolean available() {
    return !ejected && quarantine.isEmpty();
  }
}
