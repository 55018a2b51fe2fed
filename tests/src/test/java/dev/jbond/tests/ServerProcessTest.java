package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bond server} as a process, the way operators run it: SIGTERM stops a running run after its
 * step with a checkpoint and exits 0; a restarted server lists the run as stopped and resumable and
 * resumes it; after a crash (SIGKILL) a restarted server marks the run it left running as stopped
 * and resumable. Without a token, binding a non-loopback address is refused with exit 2.
 */
class ServerProcessTest {
  private static final Pattern LISTENING = Pattern.compile("bond server on http://[^:]+:([0-9]+)/");
  private static final Duration START = Duration.ofMinutes(2);

  @TempDir Path dir;

  @SuppressWarnings("unchecked")
  @Test
  void sigterm_checkpointsRunningRuns_andARestartedServerResumesThem() throws Exception {
    Path runs = dir.resolve("runs");
    Path logs = RepositoryRoot.get().resolve("tests/target/server-logs");
    Map<String, Object> config =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.get().resolve("models/demo"), 400, 5));
    ((Map<String, Object>) config.get("prompts")).put("batch-size", 8);
    ((Map<String, Object>) config.get("sampling")).put("max-new-tokens", 24);
    Map<String, Object> run = (Map<String, Object>) config.get("run");
    run.put("eval-every", 0);
    run.put("checkpoint-every", 100);
    String id;
    long stoppedAt;
    try (BondProcess server = server(logs, "server-1", runs)) {
      Http http = new Http(port(server));
      HttpResponse<String> created = http.post("/runs", Json.write(config));
      assertEquals(201, created.statusCode(), created.body());
      id = String.valueOf(Json.parseObject(created.body()).get("id"));
      http.await(id, s -> ((Number) s.get("step")).longValue() >= 2);

      server.terminate();
      assertEquals(0, server.waitFor(Duration.ofMinutes(1)), server.err());
      assertTrue(server.out().contains("Stopping: running runs finish their step"), server.out());
      Map<String, Object> status =
          Json.parseObject(Files.readString(runs.resolve(id).resolve("status.json")));
      assertEquals("stopped", status.get("status"), status.toString());
    }

    try (BondProcess server = server(logs, "server-2", runs)) {
      Http http = new Http(port(server));
      Map<String, Object> summary = Json.parseObject(http.get("/runs/" + id).body());
      assertEquals("stopped", summary.get("status"), summary.toString());
      assertEquals(true, summary.get("resumable"));
      stoppedAt = ((Number) summary.get("checkpointStep")).longValue();
      assertTrue(stoppedAt >= 2, summary.toString());
      assertEquals(stoppedAt, ((Number) summary.get("step")).longValue());

      HttpResponse<String> resumed = http.post("/runs/" + id + "/resume", "");
      assertEquals(202, resumed.statusCode(), resumed.body());
      http.await(id, s -> ((Number) s.get("step")).longValue() >= stoppedAt + 2);
      server.kill(); // a crash: no checkpoint beyond the ones written
    }

    try (BondProcess server = server(logs, "server-3", runs)) {
      Http http = new Http(port(server));
      Map<String, Object> summary = Json.parseObject(http.get("/runs/" + id).body());
      assertEquals("stopped", summary.get("status"), summary.toString());
      assertEquals(true, summary.get("resumable"));
      assertEquals(stoppedAt, ((Number) summary.get("checkpointStep")).longValue());
      server.terminate();
      assertEquals(0, server.waitFor(Duration.ofMinutes(1)), server.err());
    }
  }

  @Test
  void nonLoopbackWithoutToken_isRefusedWithExit2() throws Exception {
    try (BondProcess server =
        BondProcess.start(
            RepositoryRoot.get().resolve("tests/target/server-logs"),
            "server-open",
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--runs",
            dir.resolve("runs").toString())) {
      assertEquals(2, server.waitFor(START));
      assertEquals(
          "bond: Expected a token (--token-file FILE or the JBOND_TOKEN environment variable) to"
              + " bind 0.0.0.0, found none (without one the server binds loopback only)\n",
          server.err());
    }
  }

  private static BondProcess server(Path logs, String name, Path runs) throws IOException {
    return BondProcess.start(
        logs,
        name,
        "server",
        "--port",
        "0",
        "--runs",
        runs.toString(),
        "--allow-path",
        runs.toString(),
        "--allow-path",
        RepositoryRoot.get().resolve("models/demo").toString());
  }

  private static URI port(BondProcess server) throws Exception {
    return URI.create(
        "http://127.0.0.1:" + server.awaitPort(LISTENING, START, "the server to listen"));
  }

  /** A small JSON client. */
  private record Http(URI base) {
    HttpResponse<String> get(String path) throws Exception {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(base.resolve(path)).build(),
              HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String json) throws Exception {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(base.resolve(path))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    }

    void await(String id, Predicate<Map<String, Object>> until) throws Exception {
      long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      Map<String, Object> last = null;
      while (System.nanoTime() < end) {
        last = Json.parseObject(get("/runs/" + id).body());
        if (until.test(last)) {
          return;
        }
        Thread.sleep(100);
      }
      throw new AssertionError("Timed out waiting for run " + id + "; last summary: " + last);
    }
  }
}
