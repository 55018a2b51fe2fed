package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TritonClientConfigTest {

  @Test
  void keepAlive_belowFiveMinutes_rejectedWithReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TritonClientConfig.builder()
                    .optKeepAliveTime(Duration.ofMinutes(5).minusSeconds(1))
                    .build());
    assertEquals(
        "Expected keepAliveTime >= PT5M (Triton answers more frequent pings with GOAWAY"
            + " too_many_pings), found PT4M59S",
        e.getMessage());
  }

  @Test
  void keepAlive_fiveMinutesOrMore_accepted() {
    TritonClientConfig config =
        TritonClientConfig.builder().optKeepAliveTime(Duration.ofMinutes(5)).build();
    assertEquals(Optional.of(Duration.ofMinutes(5)), config.keepAliveTime());
    assertEquals(Optional.empty(), TritonClientConfig.builder().build().keepAliveTime());
  }

  @Test
  void defaults_documentedValues() {
    TritonClientConfig config = TritonClientConfig.builder().build();
    assertEquals(Duration.ofSeconds(30), config.deadline());
    assertEquals(256 << 20, config.maxInboundMessageBytes());
    assertEquals(TritonRetryPolicy.DEFAULT, config.retry());
    assertEquals(TritonHealthCheck.DEFAULT, config.healthCheck());
    assertEquals(List.of(), config.endpoints());
  }

  @Test
  void invalidSettings_rejectedWithOneLineMessages() {
    assertEquals(
        "Expected maxInboundMessageBytes >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonClientConfig.builder().optMaxInboundMessageBytes(0).build())
            .getMessage());
    assertEquals(
        "Expected distinct endpoint names, found 'a:1' twice",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    TritonClientConfig.builder()
                        .optEndpoints(
                            List.of(
                                TritonEndpoint.plaintext("a:1"), TritonEndpoint.plaintext("a:1")))
                        .build())
            .getMessage());
    assertEquals(
        "Expected a call deadline > 0, found PT0S",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonClientConfig.builder().optDeadline(Duration.ZERO).build())
            .getMessage());
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonClientConfig.builder().optHeaders(Map.of("Bad Key", "v")).build())
            .getMessage()
            .startsWith("Expected a gRPC ASCII header, found 'Bad Key'"));
    assertEquals(
        "Expected both a client certificate chain and a client private key for mutual TLS, found"
            + " only the key",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new TritonTls(
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(Path.of("key.pem")),
                        Optional.empty()))
            .getMessage());
    assertEquals(
        "Expected ejectAfterFailures >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new TritonHealthCheck(
                        Duration.ofSeconds(1), Duration.ofSeconds(1), 0, List.of()))
            .getMessage());
    assertEquals(
        "Expected a call deadline > 0, found PT-1S",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonCallOptions.defaults().withDeadline(Duration.ofSeconds(-1)))
            .getMessage());
  }

  @Test
  void retryPolicy_capsGrowGeometricallyUpToMax() {
    TritonRetryPolicy policy =
        new TritonRetryPolicy(10, Duration.ofMillis(100), Duration.ofMillis(500), 2.0);
    assertEquals(Duration.ofMillis(100), policy.backoffCap(1));
    assertEquals(Duration.ofMillis(200), policy.backoffCap(2));
    assertEquals(Duration.ofMillis(400), policy.backoffCap(3));
    assertEquals(Duration.ofMillis(500), policy.backoffCap(4));
    assertEquals(Duration.ofMillis(500), policy.backoffCap(60));
    assertEquals(
        "Expected 0 < initialBackoff <= maxBackoff, found PT1S and PT0.5S",
        assertThrows(
                IllegalArgumentException.class,
                () -> new TritonRetryPolicy(3, Duration.ofSeconds(1), Duration.ofMillis(500), 2))
            .getMessage());
  }

  @Test
  void retryPolicy_fullJitter_staysWithinCapAndSpreadsUniformly() {
    TritonRetryPolicy policy = TritonRetryPolicy.DEFAULT;
    SplittableRandom random = new SplittableRandom(7);
    for (int retry = 1; retry <= 8; retry++) {
      long cap = policy.backoffCap(retry).toNanos();
      double sum = 0;
      long min = Long.MAX_VALUE;
      long max = 0;
      int n = 20_000;
      for (int i = 0; i < n; i++) {
        long wait = policy.backoff(retry, random).toNanos();
        assertTrue(wait >= 0 && wait < cap, "wait " + wait + " outside [0, " + cap + ")");
        sum += wait;
        min = Math.min(min, wait);
        max = Math.max(max, wait);
      }
      double mean = sum / n / cap;
      assertTrue(Math.abs(mean - 0.5) < 0.01, "mean/cap " + mean + " for retry " + retry);
      assertTrue(min < 0.01 * cap && max > 0.99 * cap, "jitter does not span [0, cap)");
    }
  }

  @Test
  void retryPolicy_sameSeed_sameWaits() {
    SplittableRandom a = new SplittableRandom(42);
    SplittableRandom b = new SplittableRandom(42);
    for (int retry = 1; retry < 5; retry++) {
      assertEquals(
          TritonRetryPolicy.DEFAULT.backoff(retry, a), TritonRetryPolicy.DEFAULT.backoff(retry, b));
    }
  }
}
