package dev.jbond.orchestrator.server;

import static dev.jbond.orchestrator.server.ServerFixtures.json;
import static dev.jbond.orchestrator.server.ServerFixtures.status;
import static dev.jbond.orchestrator.server.ServerFixtures.tinyConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Readiness follows the Triton endpoints of the runs: a run on a fleet endpoint that does not
 * answer makes {@code /health} (and {@code /health/readiness}) DOWN with the endpoint named, while
 * liveness stays UP; once the run is stopped the server is ready again.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HealthTest implements TestPropertyProvider {
  @Inject EmbeddedServer server;

  @Override
  public Map<String, String> getProperties() {
    try {
      Path runs = Files.createTempDirectory("jbond-health-test").resolve("runs");
      return Map.of(
          "jbond.server.enabled",
          "true",
          "micronaut.server.port",
          "-1",
          "jbond.server.runs",
          runs.toString(),
          "jbond.server.allow-paths",
          runs + "," + ServerFixtures.demoAssets());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  @Test
  void aDeadFleetEndpoint_makesTheServerNotReady() throws Exception {
    ServerFixtures.Http http = new ServerFixtures.Http(server.getURI());
    assertEquals(200, http.get("/health").statusCode());
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort(); // free once closed: nothing answers there
    }
    String target = "127.0.0.1:" + dead;
    Map<String, Object> config = tinyConfig(4);
    Map<String, Object> serving = (Map<String, Object>) config.get("serving");
    serving.put("mode", "triton");
    serving.put("endpoints", List.of(Map.of("target", target)));
    serving.put("load-deadline", "2s");
    ((Map<String, Object>) config.get("run")).put("step-retries", 20);
    HttpResponse<String> created = http.post("/runs", "application/json", json(config));
    assertEquals(201, created.statusCode(), created.body());
    String id = String.valueOf(Json.parseObject(created.body()).get("id"));

    HttpResponse<String> health = http.get("/health");
    assertEquals(503, health.statusCode(), health.body());
    Map<String, Object> body = Json.parseObject(health.body());
    assertEquals("DOWN", body.get("status"));
    Map<String, Object> triton =
        (Map<String, Object>) ((Map<String, Object>) body.get("details")).get("triton");
    assertEquals("DOWN", triton.get("status"));
    String state = String.valueOf(((Map<String, Object>) triton.get("details")).get(target));
    assertTrue(state.startsWith("no answer"), health.body());
    assertEquals(503, http.get("/health/readiness").statusCode());
    assertEquals(200, http.get("/health/liveness").statusCode());

    assertEquals(202, http.post("/runs/" + id + "/stop", null, "").statusCode());
    Map<String, Object> settled =
        http.await(id, s -> ((RunStatus.ofJson(status(s))).settled()), Duration.ofMinutes(2));
    assertTrue(List.of("stopped", "failed").contains(status(settled)), settled.toString());
    assertEquals(200, http.get("/health").statusCode());
  }
}
