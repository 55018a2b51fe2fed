package dev.jbond.orchestrator.server;

import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runs' metrics in Micrometer's registry, which {@code GET /prometheus} exposes in the
 * Prometheus text format. Every meter carries the run's id as the {@code run} label.
 *
 * <ul>
 *   <li>counters: {@code jbond_steps_total}, {@code jbond_samples_total}, {@code
 *       jbond_tokens_generated_total}, {@code jbond_triton_requests_total} (labels {@code method},
 *       {@code outcome}: {@code OK}, a gRPC status code or {@code STREAM_ERROR}), {@code
 *       jbond_step_retries_total};
 *   <li>histograms: {@code jbond_step_phase_seconds} (label {@code phase}: the phases of {@code
 *       timings}, {@code total} included);
 *   <li>gauges of the latest step: {@code jbond_run_step}, {@code jbond_reward_mean}, {@code
 *       jbond_kl_anchor}, {@code jbond_learning_rate}; of the latest evaluation: {@code
 *       jbond_quantile_vs_reference}, {@code jbond_kl_reference}, {@code jbond_eval_reward_mean}.
 * </ul>
 *
 * Micronaut's Micrometer module adds the JVM and process metrics.
 */
@Singleton
@Requires(property = "jbond.server.enabled", value = "true")
public final class RunMetrics {
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60)
  };

  private final MeterRegistry registry;
  private final Map<String, Map<String, AtomicLong>> gauges = new ConcurrentHashMap<>();

  /**
   * Creates the metrics.
   *
   * @param registry Micronaut's registry
   */
  public RunMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * Returns the registry.
   *
   * @return the registry
   */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Records a finished training step.
   *
   * @param run the run's id
   * @param m the step's metrics
   */
  public void stepped(String run, StepMetrics m) {
    Counter.builder("jbond.steps")
        .description("Training steps taken")
        .tag("run", run)
        .register(registry)
        .increment();
    Double samples = m.extras().get("samples");
    if (samples != null) {
      Counter.builder("jbond.samples")
          .description("Samples drawn for training (policy and comparison samples)")
          .tag("run", run)
          .register(registry)
          .increment(samples);
    }
    Double tokens = m.extras().get("tokensGenerated");
    if (tokens != null) {
      Counter.builder("jbond.tokens.generated")
          .description("Completion tokens generated for training")
          .tag("run", run)
          .register(registry)
          .increment(tokens);
    }
    for (Map.Entry<String, Double> t : m.timings().entrySet()) {
      if (t.getValue() == null || !Double.isFinite(t.getValue()) || t.getValue() < 0) {
        continue;
      }
      Timer.builder("jbond.step.phase")
          .description("Wall time of a training step's phases (phase total: the whole step)")
          .tag("run", run)
          .tag("phase", t.getKey())
          .serviceLevelObjectives(BUCKETS)
          .register(registry)
          .record(Math.round(t.getValue() * 1e6), TimeUnit.NANOSECONDS);
    }
    gauge(run, "jbond.run.step", "The run's latest training step", m.step());
    gauge(
        run,
        "jbond.reward.mean",
        "Mean reward of the latest step's policy samples",
        m.rewardMean());
    gauge(run, "jbond.kl.anchor", "KL(policy || anchor) estimate of the latest step", m.klAnchor());
    gauge(run, "jbond.learning.rate", "Learning rate of the latest step", m.learningRate());
    if (Double.isFinite(m.klReference())) {
      gauge(run, "jbond.kl.reference", "KL(policy || reference) estimate", m.klReference());
    }
  }

  /**
   * Records an evaluation.
   *
   * @param run the run's id
   * @param r the evaluation
   */
  public void evaluated(String run, EvalResult r) {
    gauge(
        run,
        "jbond.quantile.vs.reference",
        "Quantile of the policy's held-out rewards among the reference's",
        r.quantileVsReference());
    gauge(run, "jbond.kl.reference", "KL(policy || reference) estimate", r.klReference());
    gauge(run, "jbond.eval.reward.mean", "Mean reward on the held-out prompts", r.rewardMean());
  }

  /**
   * Counts a Triton request by outcome.
   *
   * @param run the run's id
   * @param method the gRPC method
   * @param outcome {@code OK}, a gRPC status code or {@code STREAM_ERROR}
   */
  public void tritonCall(String run, String method, String outcome) {
    Counter.builder("jbond.triton.requests")
        .description("Requests to Triton endpoints, by method and outcome")
        .tag("run", run)
        .tag("method", method)
        .tag("outcome", outcome)
        .register(registry)
        .increment();
  }

  /**
   * Counts a step that failed and will be tried again.
   *
   * @param run the run's id
   */
  public void retrying(String run) {
    Counter.builder("jbond.step.retries")
        .description("Training steps that failed and were tried again")
        .tag("run", run)
        .register(registry)
        .increment();
  }

  private void gauge(String run, String name, String description, double value) {
    AtomicLong bits =
        gauges
            .computeIfAbsent(run, r -> new ConcurrentHashMap<>())
            .computeIfAbsent(
                name,
                n -> {
                  AtomicLong holder = new AtomicLong(Double.doubleToLongBits(Double.NaN));
                  Gauge.builder(n, holder, h -> Double.longBitsToDouble(h.get()))
                      .description(description)
                      .tag("run", run)
                      .strongReference(true)
                      .register(registry);
                  return holder;
                });
    bits.set(Double.doubleToLongBits(value));
  }
}
