package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three fake Tritons behind one client: round robin, ejection of a killed or not-ready endpoint, no
 * traffic to ejected endpoints, re-admission after a successful probe, fail-fast when all are
 * ejected. Retries run on a real (test-owned) scheduler with millisecond backoffs; probes run when
 * a test calls {@link TritonClient#checkHealth()}, or on virtual time in the last test.
 */
class TritonClientEndpointsTest {
  private InProcessTriton triton;
  private ScheduledExecutorService scheduler;
  private TritonClient client;

  @BeforeEach
  void setUp() throws Exception {
    triton = InProcessTriton.start(3);
    scheduler = Executors.newSingleThreadScheduledExecutor();
    client = client(scheduler);
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    triton.close();
    scheduler.shutdownNow();
    assertTrue(scheduler.awaitTermination(5, TimeUnit.SECONDS));
  }

  private TritonClient client(ScheduledExecutorService sched) {
    TritonClientConfig config =
        TritonClientConfig.builder()
            .optDeadline(Duration.ofSeconds(5))
            .optRetry(new TritonRetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(5), 2))
            .optHealthCheck(
                new TritonHealthCheck(
                    Duration.ofSeconds(5), Duration.ofSeconds(1), 2, List.of("policy")))
            .build();
    return TritonClient.builder(config)
        .optChannels(triton.tritonChannels())
        .optScheduler(sched)
        .optRandom(new SplittableRandom(3))
        .build();
  }

  /** One idempotent (seeded) inference; returns the name of the server that answered. */
  private String infer() throws Exception {
    ModelInferRequest request =
        TritonTensors.setInputs(
                ModelInferRequest.newBuilder().setModelName("policy").setId("seeded"),
                List.of(TritonTensor.ofUint64("seed", new long[] {1, 1}, 42)))
            .build();
    return TritonTensors.output(
            client
                .modelInfer(request, TritonCallOptions.defaults().withIdempotent(true))
                .get(10, TimeUnit.SECONDS),
            "served_by")
        .toStrings()
        .get(0);
  }

  private Map<String, Integer> inferMany(int n) throws Exception {
    Map<String, Integer> servedBy = new HashMap<>();
    for (int i = 0; i < n; i++) {
      servedBy.merge(infer(), 1, Integer::sum);
    }
    return servedBy;
  }

  private TritonEndpointStatus status(int i) {
    return client.endpointStatuses().get(i);
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, "Timed out waiting for " + what);
      Thread.sleep(10);
    }
  }

  @Test
  void roundRobin_spreadsCallsEvenly() throws Exception {
    assertEquals(Map.of("triton-0", 10, "triton-1", 10, "triton-2", 10), inferMany(30));
    for (int i = 0; i < 3; i++) {
      assertEquals(10, triton.started(i, "ModelInfer"));
    }
  }

  @Test
  void killOneOfThreeMidRun_callsKeepSucceeding_killedEjected_readmittedAfterRestart()
      throws Exception {
    int total = 240;
    CountDownLatch warmedUp = new CountDownLatch(60);
    AtomicInteger succeeded = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(4);
    List<Future<?>> runs = new ArrayList<>();
    try {
      for (int w = 0; w < 4; w++) {
        runs.add(
            workers.submit(
                () -> {
                  for (int i = 0; i < total / 4; i++) {
                    infer();
                    succeeded.incrementAndGet();
                    warmedUp.countDown();
                  }
                  return null;
                }));
      }
      assertTrue(warmedUp.await(10, TimeUnit.SECONDS));
      triton.kill(1);
      for (Future<?> run : runs) {
        run.get(30, TimeUnit.SECONDS); // every call succeeded, or get() throws
      }
    } finally {
      workers.shutdownNow();
    }
    assertEquals(total, succeeded.get());

    TritonEndpointStatus killed = status(1);
    assertTrue(killed.ejected(), killed.toString());
    assertTrue(killed.lastFailure().orElseThrow().contains("UNAVAILABLE"), killed.toString());
    assertFalse(status(0).ejected());
    assertFalse(status(2).ejected());

    int startedOnKilled = triton.started(1, "ModelInfer");
    Map<String, Integer> whileEjected = inferMany(30);
    assertEquals(Map.of("triton-0", 15, "triton-2", 15), whileEjected);
    assertEquals(
        startedOnKilled, triton.started(1, "ModelInfer"), "a call went to the ejected endpoint");
    client.checkHealth().get(5, TimeUnit.SECONDS);
    assertTrue(status(1).ejected(), "a dead endpoint passed its probe");

    triton.restart(1);
    awaitTrue(
        () -> {
          triton.channel(1).resetConnectBackoff();
          client.checkHealth().join();
          return !status(1).ejected();
        },
        "re-admission of triton-1");
    assertEquals(0, status(1).consecutiveFailures());
    Map<String, Integer> after = inferMany(30);
    assertEquals(Map.of("triton-0", 10, "triton-1", 10, "triton-2", 10), after);
  }

  @Test
  void modelNotReady_ejectedAfterTwoProbes_getsNoTraffic_readmittedWhenReady() throws Exception {
    triton.service(2).notReadyModels.add("policy");

    client.checkHealth().get(5, TimeUnit.SECONDS);
    assertFalse(status(2).ejected(), "ejected after one failure, threshold is two");
    assertEquals(1, status(2).consecutiveFailures());
    client.checkHealth().get(5, TimeUnit.SECONDS);
    assertTrue(status(2).ejected());
    assertEquals(
        Optional.of("health probe: ModelReady of model 'policy' answered false"),
        status(2).lastFailure());

    assertEquals(Map.of("triton-0", 15, "triton-1", 15), inferMany(30));
    assertEquals(0, triton.started(2, "ModelInfer"));

    triton.service(2).notReadyModels.clear();
    client.checkHealth().get(5, TimeUnit.SECONDS);
    assertFalse(status(2).ejected());
    assertEquals(3, inferMany(30).size());
    assertEquals(10, triton.started(2, "ModelInfer"));
  }

  @Test
  void allEjected_failsFastWithUnavailableNamingEndpoints_sendsNothing() throws Exception {
    for (FakeTritonService service : triton.services) {
      service.live = false;
    }
    client.checkHealth().get(5, TimeUnit.SECONDS);
    client.checkHealth().get(5, TimeUnit.SECONDS);

    ExecutionException e = assertThrows(ExecutionException.class, this::infer);
    BackendException cause = assertInstanceOf(BackendException.class, e.getCause());
    assertEquals(BackendException.Code.UNAVAILABLE, cause.code());
    assertEquals(
        "ModelInfer of model 'policy' was not sent: every Triton endpoint is ejected as unhealthy"
            + " [triton-0, triton-1, triton-2]",
        cause.getMessage());
    assertNull(cause.getCause());
    for (int i = 0; i < 3; i++) {
      assertEquals(0, triton.started(i, "ModelInfer"));
      assertEquals(Optional.of("health probe: ServerLive answered false"), status(i).lastFailure());
    }
    assertThrows(
        BackendException.class, () -> client.openInferStream(TritonCallOptions.defaults()));
  }

  @Test
  void onEndpoint_reachesEachNamedEndpoint_evenWhenEjected() throws Exception {
    triton.service(0).notReadyModels.add("policy");
    client.checkHealth().get(5, TimeUnit.SECONDS);
    client.checkHealth().get(5, TimeUnit.SECONDS);
    assertTrue(status(0).ejected());

    for (String endpoint : client.endpointNames()) {
      client
          .loadModel(
              "policy",
              Optional.of("{}"),
              Map.of(),
              TritonCallOptions.defaults().onEndpoint(endpoint))
          .get(5, TimeUnit.SECONDS);
    }

    for (FakeTritonService service : triton.services) {
      assertEquals(1, service.loads.size(), service.name);
    }
  }

  @Test
  void periodicProbes_onVirtualTime_ejectAndReadmit() throws Exception {
    FakeScheduler virtual = new FakeScheduler();
    client.close();
    client = client(virtual);
    triton.service(0).live = false;

    virtual.advance(Duration.ofSeconds(5));
    awaitTrue(() -> status(0).consecutiveFailures() == 1, "first failed probe");
    assertFalse(status(0).ejected());
    virtual.advance(Duration.ofSeconds(5));
    awaitTrue(() -> status(0).ejected(), "ejection after the second probe");
    assertNotEquals("triton-0", infer());

    triton.service(0).live = true;
    virtual.advance(Duration.ofSeconds(5));
    awaitTrue(() -> !status(0).ejected(), "re-admission");
    assertEquals(3, triton.service(1).calls("ServerLive"), "one probe per round");
  }
}
