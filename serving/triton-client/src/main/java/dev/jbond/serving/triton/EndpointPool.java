package dev.jbond.serving.triton;

import dev.jbond.BackendException;
import io.grpc.Channel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The client's endpoints with their health: round-robin picking over endpoints that are neither
 * ejected nor quarantined, ejection after consecutive failures, re-admission after a successful
 * probe. Quarantine is the caller's: an endpoint that does not hold the weights in use (a weight
 * publisher could not reach it) gets no round-robin traffic until the caller releases it, whatever
 * its health. Thread-safe; all state is guarded by this object.
 */
final class EndpointPool {
  private static final System.Logger LOG = System.getLogger(EndpointPool.class.getName());

  /** One endpoint and its health. */
  static final class Endpoint {
    private final String name;
    private final Channel channel;
    private int consecutiveFailures;
    private boolean ejected;
    private String lastFailure;
    private String quarantine; // why, or null

    private Endpoint(String name, Channel channel) {
      this.name = name;
      this.channel = channel;
    }

    String name() {
      return name;
    }

    Channel channel() {
      return channel;
    }
  }

  private final List<Endpoint> endpoints;
  private final int ejectAfterFailures;
  private int next;

  EndpointPool(List<TritonChannel> channels, int ejectAfterFailures) {
    List<Endpoint> list = new ArrayList<>();
    for (TritonChannel channel : channels) {
      list.add(new Endpoint(channel.name(), channel.channel()));
    }
    this.endpoints = List.copyOf(list);
    this.ejectAfterFailures = ejectAfterFailures;
  }

  /** Returns every endpoint, ejected or not, in configuration order. */
  List<Endpoint> all() {
    return endpoints;
  }

  /**
   * Returns the endpoint called {@code name}.
   *
   * @throws IllegalArgumentException when there is none
   */
  Endpoint named(String name) {
    for (Endpoint endpoint : endpoints) {
      if (endpoint.name.equals(name)) {
        return endpoint;
      }
    }
    throw new IllegalArgumentException("Unknown endpoint '" + name + "', available: " + names());
  }

  /**
   * Returns the next endpoint in round-robin order that is not ejected.
   *
   * @param attempted what the endpoint is for, for the message
   * @throws BackendException with code UNAVAILABLE when every endpoint is ejected
   */
  synchronized Endpoint pick(String attempted) {
    int n = endpoints.size();
    for (int i = 0; i < n; i++) {
      int index = (next + i) % n;
      Endpoint endpoint = endpoints.get(index);
      if (!endpoint.ejected && endpoint.quarantine == null) {
        next = (index + 1) % n;
        return endpoint;
      }
    }
    boolean anyQuarantined = false;
    for (Endpoint endpoint : endpoints) {
      anyQuarantined |= endpoint.quarantine != null;
    }
    throw new BackendException(
        BackendException.Code.UNAVAILABLE,
        attempted
            + " was not sent: every Triton endpoint is "
            + (anyQuarantined
                ? "ejected as unhealthy or quarantined (stale weights) "
                : "ejected as unhealthy ")
            + names(),
        null);
  }

  /** Takes an endpoint out of round-robin traffic until {@link #release}; idempotent. */
  synchronized void quarantine(Endpoint endpoint, String reason) {
    if (endpoint.quarantine == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "Quarantined Triton endpoint ''{0}'': {1}",
          endpoint.name,
          reason);
    }
    endpoint.quarantine = reason;
  }

  /** Returns a quarantined endpoint to round-robin traffic; idempotent. */
  synchronized void release(Endpoint endpoint) {
    if (endpoint.quarantine != null) {
      LOG.log(
          System.Logger.Level.INFO,
          "Released Triton endpoint ''{0}'' from quarantine",
          endpoint.name);
    }
    endpoint.quarantine = null;
  }

  /** Records a call that completed; it resets the failure count of an admitted endpoint. */
  synchronized void callSucceeded(Endpoint endpoint) {
    if (!endpoint.ejected) {
      endpoint.consecutiveFailures = 0;
    }
  }

  /**
   * Records a failed call; only UNAVAILABLE says something about the endpoint's health. A call
   * failure never ejects the last admitted endpoint (UNAVAILABLE also means a full queue on a live
   * server); only a failed probe does.
   */
  synchronized void callFailed(Endpoint endpoint, Status status, String attempted) {
    if (status.getCode() == Status.Code.UNAVAILABLE) {
      failure(endpoint, attempted + ": " + TritonErrors.describe(status), otherAdmitted(endpoint));
    }
  }

  /** Records a successful probe; it re-admits an ejected endpoint. */
  synchronized void probeSucceeded(Endpoint endpoint) {
    endpoint.consecutiveFailures = 0;
    if (endpoint.ejected) {
      endpoint.ejected = false;
      LOG.log(
          System.Logger.Level.INFO,
          "Re-admitted Triton endpoint ''{0}'' after a successful health probe",
          endpoint.name);
    }
  }

  /** Records a failed probe. */
  synchronized void probeFailed(Endpoint endpoint, String reason) {
    failure(endpoint, "health probe: " + reason, true);
  }

  synchronized List<TritonEndpointStatus> statuses() {
    List<TritonEndpointStatus> statuses = new ArrayList<>(endpoints.size());
    for (Endpoint e : endpoints) {
      statuses.add(
          new TritonEndpointStatus(
              e.name,
              e.ejected,
              e.consecutiveFailures,
              Optional.ofNullable(e.lastFailure),
              Optional.ofNullable(e.quarantine)));
    }
    return List.copyOf(statuses);
  }

  List<String> names() {
    List<String> names = new ArrayList<>(endpoints.size());
    for (Endpoint endpoint : endpoints) {
      names.add(endpoint.name);
    }
    return names;
  }

  private boolean otherAdmitted(Endpoint endpoint) {
    for (Endpoint other : endpoints) {
      if (other != endpoint && !other.ejected) {
        return true;
      }
    }
    return false;
  }

  private void failure(Endpoint endpoint, String reason, boolean mayEject) {
    endpoint.consecutiveFailures++;
    endpoint.lastFailure = reason;
    if (mayEject && !endpoint.ejected && endpoint.consecutiveFailures >= ejectAfterFailures) {
      endpoint.ejected = true;
      LOG.log(
          System.Logger.Level.WARNING,
          "Ejected Triton endpoint ''{0}'' after {1} consecutive failures, the last: {2}",
          endpoint.name,
          endpoint.consecutiveFailures,
          reason);
    }
  }
}
