package dev.jbond.orchestrator.server;

import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import io.micronaut.context.annotation.Requires;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Readiness of the Triton endpoints the server's runs sample from: the endpoints of every queued,
 * running or stopping run that samples from a fleet, each asked whether it is live (Triton's {@code
 * ServerLive}, within 2 seconds). Runs on the embedded server start their own and are not probed.
 * Any endpoint that does not answer makes {@code /health} DOWN (503), with the endpoint named in
 * the details.
 */
@Singleton
@Readiness
@Requires(property = "jbond.server.enabled", value = "true")
public final class TritonHealthIndicator implements HealthIndicator {
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  private final RunManager manager;

  TritonHealthIndicator(RunManager manager) {
    this.manager = manager;
  }

  @Override
  public Publisher<HealthResult> getResult() {
    return Mono.fromCallable(this::probe).subscribeOn(Schedulers.boundedElastic());
  }

  private HealthResult probe() {
    Set<String> targets = new LinkedHashSet<>();
    for (RunManager.Run run : manager.list()) {
      RunConfig config = run.config();
      if (!run.status().settled()
          && config != null
          && config.serving().mode() == RunConfig.ServingMode.TRITON) {
        config.serving().endpoints().forEach(e -> targets.add(e.target()));
      }
    }
    Map<String, Object> details = new LinkedHashMap<>();
    if (targets.isEmpty()) {
      details.put("endpoints", "none: no queued or running run samples from a Triton fleet");
      return HealthResult.builder("triton", HealthStatus.UP).details(details).build();
    }
    List<TritonEndpoint> endpoints = new ArrayList<>();
    for (String target : targets) {
      endpoints.add(new TritonEndpoint(target, target, Optional.empty()));
    }
    boolean up = true;
    try (TritonClient client =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optEndpoints(endpoints)
                    .optDeadline(TIMEOUT)
                    .optShutdownTimeout(Duration.ofSeconds(1))
                    .build())
            .build()) {
      Map<String, CompletableFuture<Boolean>> answers = new LinkedHashMap<>();
      for (String target : targets) {
        answers.put(
            target,
            client.serverLive(
                TritonCallOptions.defaults().withDeadline(TIMEOUT).onEndpoint(target)));
      }
      for (Map.Entry<String, CompletableFuture<Boolean>> a : answers.entrySet()) {
        String state;
        try {
          state =
              a.getValue().get(TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS)
                  ? "live"
                  : "not live";
        } catch (ExecutionException e) {
          state = "no answer: " + (e.getCause() == null ? e : e.getCause()).getMessage();
        } catch (TimeoutException e) {
          state = "no answer within " + TIMEOUT.toSeconds() + " s";
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          state = "interrupted";
        }
        up &= state.equals("live");
        details.put(a.getKey(), state);
      }
    }
    return HealthResult.builder("triton", up ? HealthStatus.UP : HealthStatus.DOWN)
        .details(details)
        .build();
  }
}
