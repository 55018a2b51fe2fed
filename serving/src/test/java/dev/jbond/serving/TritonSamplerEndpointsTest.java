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
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import dev.jbond.serving.triton.TritonEndpointStatus;
import dev.jbond.serving.triton.TritonHealthCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
              .optGenerationModelFactory(
                  TrtLlmGenerationModel.factory(GenerationServers.settings()))
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
