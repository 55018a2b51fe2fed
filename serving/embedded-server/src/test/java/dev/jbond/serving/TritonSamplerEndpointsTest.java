package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.embedded.GenerationModel;
import dev.jbond.serving.embedded.GenerationModelFactory;
import dev.jbond.serving.embedded.GenerationRequest;
import dev.jbond.serving.embedded.GenerationResponder;
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import dev.jbond.serving.triton.TritonEndpointStatus;
import dev.jbond.serving.triton.TritonHealthCheck;
import dev.jbond.serving.triton.TritonRetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Triton sampler over three embedded servers on Netty loopback: one killed mid-run is ejected
 * and every sampling call still succeeds with the same samples; deadlines and interruption end a
 * sampling call with a BackendException.
 */
class TritonSamplerEndpointsTest {
  private static final long SEED = 20261129L;

  @TempDir Path repo;
  private final List<EmbeddedTritonServer> servers = new ArrayList<>();
  private TritonClient client;
  private final AtomicBoolean dieOnNextRequest = new AtomicBoolean();
  private final AtomicIntegerArray received = new AtomicIntegerArray(3);

  @BeforeEach
  void setUp() throws Exception {
    GenerationServers.write(repo, GenerationServers.POLICY, 1, 7, false);
    List<TritonEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      EmbeddedTritonServer server =
          EmbeddedTritonServer.builder(repo)
              .optPort(0)
              .optSessionConfig(GenerationServers.SESSION)
              .optWorkerThreads(4)
              .optGenerationModelFactory(counted(i))
              .optShutdownTimeout(Duration.ofMillis(200))
              .build();
      servers.add(server);
      server.start();
      endpoints.add(TritonEndpoint.plaintext("localhost:" + server.port()));
    }
    client =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optEndpoints(endpoints)
                    .optDeadline(GenerationServers.WAIT)
                    .optHealthCheck(
                        new TritonHealthCheck(
                            Duration.ofMillis(50), Duration.ofMillis(500), 1, List.of()))
                    .build())
            .optRandom(new SplittableRandom(SEED))
            .build();
  }

  /**
   * Server {@code index}'s models, counting the requests they receive; server 1's, once {@link
   * #dieOnNextRequest} is set, never answers the first request it receives and closes its server,
   * so that a stream dies with requests in flight.
   */
  private GenerationModelFactory counted(int index) {
    GenerationModelFactory plain = TrtLlmGenerationModel.factory(GenerationServers.settings());
    return (config, version) -> {
      GenerationModel model = plain.create(config, version);
      return new GenerationModel() {
        @Override
        public void generate(GenerationRequest request, GenerationResponder responder) {
          received.incrementAndGet(index);
          if (index == 1 && dieOnNextRequest.compareAndSet(true, false)) {
            Thread killer = new Thread(() -> servers.get(index).close());
            killer.start();
            return;
          }
          model.generate(request, responder);
        }

        @Override
        public void close() {
          model.close();
        }
      };
    };
  }

  @AfterEach
  void tearDown() {
    client.close();
    servers.forEach(EmbeddedTritonServer::close);
  }

  @Test
  void sample_oneOfThreeEndpointsKilled_isEjectedAndSamplingContinues() throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(4, SEED);
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(8)).build()) {
      List<Generation> expected = sampler.sample(prompts, 4, PolicyRole.POLICY, SEED);
      String killed = client.endpointNames().get(1);
      for (int call = 0; call < 12; call++) {
        if (call == 3) {
          servers.get(1).close();
        }
        assertSameSamples(expected, sampler.sample(prompts, 4, PolicyRole.POLICY, SEED), call);
      }
      long end = System.nanoTime() + GenerationServers.WAIT.toNanos();
      while (!ejected(killed)) {
        assertTrue(System.nanoTime() < end, "Expected endpoint " + killed + " to be ejected");
        Thread.sleep(10);
      }
      assertEquals(
          2,
          client.endpointStatuses().stream().filter(s -> !s.ejected()).count(),
          client.endpointStatuses().toString());
    }
  }

  @Test
  void sample_streamWhoseServerDiesMidCall_resendsTheUnansweredRequestsElsewhere()
      throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(4, SEED);
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(8)).optStream(true).build()) {
      List<Generation> expected = sampler.sample(prompts, 4, PolicyRole.POLICY, SEED);
      // one call spreads over the three endpoints, one stream each
      for (int i = 0; i < 3; i++) {
        assertTrue(received.get(i) >= 5, "requests per server: " + received);
      }
      dieOnNextRequest.set(true);
      for (int call = 0; call < 6; call++) {
        assertSameSamples(expected, sampler.sample(prompts, 4, PolicyRole.POLICY, SEED), call);
      }
      // the server took a request and died holding it: some call lost its stream mid-flight
      assertFalse(dieOnNextRequest.get(), "Expected a stream to reach the dying server");
    }
  }

  @Test
  void sample_streamFailingOnEveryAttempt_throwsUnavailable() throws Exception {
    List<Prompt> prompts = GenerationServers.prompts(2, SEED);
    TritonClient single =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optEndpoints(
                        List.of(TritonEndpoint.plaintext("localhost:" + servers.get(1).port())))
                    .optDeadline(GenerationServers.WAIT)
                    .optRetry(
                        new TritonRetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(2), 2.0))
                    .build())
            .optRandom(new SplittableRandom(SEED))
            .build();
    try (single;
        TritonSampler sampler =
            TritonSampler.builder(single, GenerationServers.sampling(8)).optStream(true).build()) {
      dieOnNextRequest.set(true);
      BackendException e =
          assertThrows(
              BackendException.class, () -> sampler.sample(prompts, 2, PolicyRole.POLICY, SEED));
      assertEquals(BackendException.Code.UNAVAILABLE, e.code(), e.getMessage());
    }
  }

  /** Tokens and versions identical; log-probs within 1e-5 (the batch shape may differ). */
  private static void assertSameSamples(
      List<Generation> expected, List<Generation> actual, int call) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      Generation e = expected.get(i);
      Generation a = actual.get(i);
      assertEquals(e.completion(), a.completion(), "call " + call + " row " + i);
      assertEquals(e.model(), a.model(), "call " + call + " row " + i);
      double[] el = e.engineLogProbs().orElseThrow().toArray();
      double[] al = a.engineLogProbs().orElseThrow().toArray();
      for (int k = 0; k < el.length; k++) {
        assertEquals(el[k], al[k], 1e-5, "call " + call + " row " + i + " token " + k);
      }
    }
  }

  private boolean ejected(String endpoint) {
    return client.endpointStatuses().stream()
        .filter(s -> s.name().equals(endpoint))
        .anyMatch(TritonEndpointStatus::ejected);
  }

  @Test
  void sample_deadlinePassed_throwsDeadlineExceeded() {
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(30))
            .optDeadline(Duration.ofNanos(1000))
            .build()) {
      BackendException e =
          assertThrows(
              BackendException.class,
              () -> sampler.sample(GenerationServers.prompts(2, SEED), 2, PolicyRole.POLICY, SEED));
      assertEquals(BackendException.Code.DEADLINE_EXCEEDED, e.code(), e.getMessage());
    }
  }

  @Test
  void sample_interrupted_throwsAndCancels() {
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(30)).build()) {
      Thread.currentThread().interrupt();
      BackendException e =
          assertThrows(
              BackendException.class,
              () -> sampler.sample(GenerationServers.prompts(2, SEED), 2, PolicyRole.POLICY, SEED));
      assertTrue(Thread.interrupted(), "Expected the interrupt flag to stay set");
      assertEquals(BackendException.Code.UNAVAILABLE, e.code());
      assertEquals("Interrupted while sampling from model 'jbond-policy'", e.getMessage());
      assertFalse(Thread.currentThread().isInterrupted());
    }
  }
}
