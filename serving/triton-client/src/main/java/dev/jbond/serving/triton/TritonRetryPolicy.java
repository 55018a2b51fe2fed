package dev.jbond.serving.triton;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Retries of idempotent calls that failed with UNAVAILABLE or DEADLINE_EXCEEDED: exponential
 * backoff with full jitter.
 *
 * <p>Before retry {@code k} ({@code k = 1} after the first attempt failed) the client waits a
 * uniformly random time in {@code [0, cap_k)} with {@code cap_k = min(maxBackoff, initialBackoff *
 * multiplier^(k - 1))} ("full jitter", M. Brooker, "Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015; the cap schedule is gRPC's retry design, gRFC A6). Each retry picks an
 * endpoint afresh, so it usually lands on another server.
 *
 * <p>Which calls are idempotent: health, metadata, config and repository-index calls always;
 * ModelInfer only when the caller says so ({@link TritonCallOptions#withIdempotent}, for example
 * sampling with explicit seeds); RepositoryModelLoad / Unload and streams never by default.
 *
 * @param maxAttempts attempts in total, the first included, {@code >= 1} (1: no retries)
 * @param initialBackoff the cap before the first retry, {@code > 0}
 * @param maxBackoff the largest cap, {@code >= initialBackoff}
 * @param multiplier the cap's growth per retry, {@code >= 1}
 */
public record TritonRetryPolicy(
    int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {

  /** Default: 4 attempts, caps 100 ms, 200 ms, 400 ms growing to at most 5 s. */
  public static final TritonRetryPolicy DEFAULT =
      new TritonRetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(5), 2.0);

  /**
   * Validates the components.
   *
   * @param maxAttempts see the record description
   * @param initialBackoff see the record description
   * @param maxBackoff see the record description
   * @param multiplier see the record description
   * @throws IllegalArgumentException when a component is out of range
   */
  public TritonRetryPolicy {
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("Expected maxAttempts >= 1, found " + maxAttempts);
    }
    if (initialBackoff.isNegative()
        || initialBackoff.isZero()
        || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "Expected 0 < initialBackoff <= maxBackoff, found "
              + initialBackoff
              + " and "
              + maxBackoff);
    }
    if (!(multiplier >= 1 && multiplier < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("Expected a finite multiplier >= 1, found " + multiplier);
    }
  }

  /**
   * Returns a policy that never retries.
   *
   * @return the policy
   */
  public static TritonRetryPolicy none() {
    return new TritonRetryPolicy(1, DEFAULT.initialBackoff, DEFAULT.maxBackoff, DEFAULT.multiplier);
  }

  /**
   * Returns the cap of the wait before retry {@code retry}: {@code min(maxBackoff, initialBackoff *
   * multiplier^(retry - 1))}.
   *
   * @param retry the retry number, {@code >= 1}
   * @return the cap
   * @throws IllegalArgumentException when {@code retry < 1}
   */
  public Duration backoffCap(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("Expected a retry number >= 1, found " + retry);
    }
    double nanos = initialBackoff.toNanos() * Math.pow(multiplier, retry - 1);
    long max = maxBackoff.toNanos();
    return Duration.ofNanos(nanos >= max ? max : (long) nanos);
  }

  /**
   * Draws the wait before retry {@code retry}: uniform in {@code [0, backoffCap(retry))}.
   *
   * @param retry the retry number, {@code >= 1}
   * @param random the source of jitter
   * @return the wait
   * @throws IllegalArgumentException when {@code retry < 1}
   */
  public Duration backoff(int retry, RandomGenerator random) {
    return Duration.ofNanos((long) (random.nextDouble() * backoffCap(retry).toNanos()));
  }
}
