package dev.jbond.orchestrator.server;

import static dev.jbond.orchestrator.server.ServerFixtures.events;
import static dev.jbond.orchestrator.server.ServerFixtures.json;
import static dev.jbond.orchestrator.server.ServerFixtures.status;
import static dev.jbond.orchestrator.server.ServerFixtures.tinyConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The runs API of {@code bond server} over real HTTP on loopback, with real runs of the demo's
 * configuration (8 steps): submit, queue, stream to the end, files, report, stop and resume (with
 * the same metrics as an uninterrupted run), every error status with its body, health and
 * Prometheus.
 */
@MicronautTest
@SuppressWarnings("unchecked") // sections of parsed configurations
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunsApiTest implements TestPropertyProvider {
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(4);

  @Inject EmbeddedServer server;

  private Path runs;
  private Path outside;
  private ServerFixtures.Http http;
  private String finishedRun; // the uninterrupted 8-step demo run, for the resume comparison

  /** The demo's own configuration (64 prompts a step, 96 new tokens, evaluations at 0 and 8). */
  private static Map<String, Object> demoConfig() {
    return dev.jbond.orchestrator.config.ConfigYaml.tree(
        dev.jbond.orchestrator.cli.DemoCommand.config(ServerFixtures.demoAssets(), 8, 3));
  }

  @Override
  public Map<String, String> getProperties() {
    try {
      Path root = Files.createTempDirectory("jbond-server-test");
      runs = Files.createDirectories(root.resolve("runs"));
      outside = Files.createDirectories(root.resolve("outside"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Map.of(
        "jbond.server.enabled", "true",
        "micronaut.server.port", "-1",
        "micronaut.server.max-request-size", "65536",
        "jbond.server.runs", runs.toString(),
        "jbond.server.allow-paths", runs + "," + ServerFixtures.demoAssets());
  }

  @BeforeAll
  void client() {
    http = new ServerFixtures.Http(server.getURI());
  }

  @Test
  @Order(1)
  void submittedRuns_queueStreamAndFinish() throws Exception {
    HttpResponse<String> a = http.post("/runs", "application/json", json(demoConfig()));
    assertEquals(201, a.statusCode(), a.body());
    String id = String.valueOf(Json.parseObject(a.body()).get("id"));
    assertEquals("/runs/" + id, a.headers().firstValue("Location").orElseThrow());
    assertTrue(Files.isRegularFile(runs.resolve(id).resolve("config.yaml")));

    // a second run, as YAML, waits in the queue (one run at a time) and stops at once when asked
    String yaml = new org.yaml.snakeyaml.Yaml().dump(tinyConfig(6));
    HttpResponse<String> b = http.post("/runs", "application/yaml", yaml);
    assertEquals(201, b.statusCode(), b.body());
    Map<String, Object> queued = Json.parseObject(b.body());
    assertEquals("queued", status(queued), b.body());
    String second = String.valueOf(queued.get("id"));
    HttpResponse<String> stopQueued = http.post("/runs/" + second + "/stop", null, "");
    assertEquals(202, stopQueued.statusCode(), stopQueued.body());
    assertEquals("stopped", status(Json.parseObject(stopQueued.body())));

    List<ServerFixtures.Event> metrics;
    try (Stream<String> lines = http.stream("/runs/" + id + "/metrics?since=0").body()) {
      metrics = events(lines);
    }
    List<Long> steps = new ArrayList<>();
    for (ServerFixtures.Event e : metrics) {
      if (e.name().equals("metrics")) {
        Map<String, Object> line = Json.parseObject(e.data());
        steps.add(((Number) line.get("step")).longValue());
        assertEquals(e.id(), String.valueOf(line.get("step")));
      }
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), steps, metrics.toString());
    assertEquals("status", metrics.get(0).name());
    ServerFixtures.Event last = metrics.get(metrics.size() - 1);
    assertEquals("status", last.name());
    assertEquals("finished", status(Json.parseObject(last.data())));

    List<ServerFixtures.Event> evals;
    try (Stream<String> lines = http.stream("/runs/" + id + "/eval").body()) {
      evals = events(lines);
    }
    assertEquals(
        List.of("0", "8"),
        evals.stream().filter(e -> e.name().equals("eval")).map(e -> e.id()).toList());

    Map<String, Object> summary = Json.parseObject(http.get("/runs/" + id).body());
    assertEquals("finished", status(summary));
    assertEquals(8L, ((Number) summary.get("step")).longValue());
    assertEquals(8L, ((Number) summary.get("totalSteps")).longValue());
    assertEquals(8L, ((Number) summary.get("checkpointStep")).longValue());
    assertEquals(false, summary.get("resumable"));
    assertEquals(8L, ((Number) ((Map<?, ?>) summary.get("metrics")).get("step")).longValue());
    assertEquals(8L, ((Number) ((Map<?, ?>) summary.get("eval")).get("step")).longValue());
    assertTrue(
        ((Number) ((Map<?, ?>) summary.get("eval")).get("quantileVsReference")).doubleValue() >= 0);

    Map<String, Object> list = Json.parseObject(http.get("/runs").body());
    List<?> all = (List<?>) list.get("runs");
    assertEquals(List.of(second, id), all.stream().map(r -> ((Map<?, ?>) r).get("id")).toList());

    HttpResponse<String> ndjson = http.get("/runs/" + id + "/metrics?since=7");
    assertEquals(200, ndjson.statusCode());
    assertEquals("application/x-ndjson", ndjson.headers().firstValue("Content-Type").orElseThrow());
    String[] tail = ndjson.body().strip().split("\n");
    assertEquals(2, tail.length, ndjson.body());
    assertEquals(
        Files.readAllLines(runs.resolve(id).resolve("metrics.jsonl")).subList(6, 8),
        Arrays.asList(tail));
    assertEquals(2, http.get("/runs/" + id + "/eval").body().strip().split("\n").length);

    // settled runs cannot be stopped or resumed
    HttpResponse<String> stop = http.post("/runs/" + id + "/stop", null, "");
    assertEquals(409, stop.statusCode());
    assertEquals(
        "Expected a queued or running run to stop, found run " + id + " finished",
        Json.parseObject(stop.body()).get("error"));
    HttpResponse<String> resume = http.post("/runs/" + id + "/resume", null, "");
    assertEquals(409, resume.statusCode());
    assertTrue(String.valueOf(Json.parseObject(resume.body()).get("error")).contains("finished"));
    finishedRun = id;
  }

  @Test
  @Order(2)
  void report_isServedWithItsPlots() throws Exception {
    assertNotNull(finishedRun, "needs the finished run of the first test");
    HttpResponse<String> redirect = http.get("/runs/" + finishedRun + "/report");
    // the JDK client does not follow redirects unless asked: 303 to the folder-like path
    assertEquals(303, redirect.statusCode());
    assertEquals(
        "/runs/" + finishedRun + "/report/",
        redirect.headers().firstValue("Location").orElseThrow());
    HttpResponse<String> page = http.get("/runs/" + finishedRun + "/report/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
    var img = Pattern.compile("<img src=\"([^\"]+\\.png)\"").matcher(page.body());
    assertTrue(img.find(), page.body());
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    HttpResponse<byte[]> png =
        client.send(
            java.net.http.HttpRequest.newBuilder(
                    server.getURI().resolve("/runs/" + finishedRun + "/report/" + img.group(1)))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, png.statusCode());
    assertEquals("image/png", png.headers().firstValue("Content-Type").orElseThrow());
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png.body(), 4));
    HttpResponse<String> escape = http.get("/runs/" + finishedRun + "/report/config.yaml");
    assertEquals(404, escape.statusCode());
    assertEquals(404, http.get("/runs/" + finishedRun + "/report/..%2Fconfig.yaml").statusCode());
  }

  @Test
  @Order(3)
  void stopAndResume_overHttp_giveTheMetricsOfAnUninterruptedRun() throws Exception {
    assertNotNull(finishedRun, "needs the finished run of the first test");
    HttpResponse<String> created = http.post("/runs", "application/json", json(demoConfig()));
    assertEquals(201, created.statusCode(), created.body());
    String id = String.valueOf(Json.parseObject(created.body()).get("id"));
    http.await(
        id,
        s -> status(s).equals("running") && ((Number) s.get("step")).longValue() >= 2,
        RUN_TIMEOUT);
    HttpResponse<String> stop = http.post("/runs/" + id + "/stop", null, "");
    assertEquals(202, stop.statusCode(), stop.body());
    assertTrue(List.of("stopping", "stopped").contains(status(Json.parseObject(stop.body()))));
    Map<String, Object> stopped = http.await(id, s -> status(s).equals("stopped"), RUN_TIMEOUT);
    long at = ((Number) stopped.get("checkpointStep")).longValue();
    assertTrue(at >= 2 && at < 8, stopped.toString());
    assertEquals(true, stopped.get("resumable"));
    assertEquals(at, ((Number) stopped.get("step")).longValue());

    HttpResponse<String> resume = http.post("/runs/" + id + "/resume", null, "");
    assertEquals(202, resume.statusCode(), resume.body());
    // a follower that saw the steps up to the stop asks for the rest, and gets each once
    List<Long> rest = new ArrayList<>();
    try (Stream<String> lines = http.stream("/runs/" + id + "/metrics?since=" + (at + 1)).body()) {
      for (ServerFixtures.Event e : events(lines)) {
        if (e.name().equals("metrics")) {
          rest.add(Long.parseLong(e.id()));
        }
      }
    }
    List<Long> expected = new ArrayList<>();
    for (long s = at + 1; s <= 8; s++) {
      expected.add(s);
    }
    assertEquals(expected, rest);
    assertEquals("finished", status(Json.parseObject(http.get("/runs/" + id).body())));

    assertEquals(
        withoutTimings(runs.resolve(finishedRun).resolve("metrics.jsonl")),
        withoutTimings(runs.resolve(id).resolve("metrics.jsonl")));
    assertEquals(
        Files.readAllLines(runs.resolve(finishedRun).resolve("eval.jsonl")),
        Files.readAllLines(runs.resolve(id).resolve("eval.jsonl")));
  }

  /**
   * Removes what the serving side's float rounding decides (the dynamic batcher groups requests
   * differently from run to run): {@code samplerLogProbError} in the extras, a difference of about
   * 1e-5 nats whose last digits vary while the samples themselves are identical.
   */
  @SuppressWarnings("unchecked")
  private static void removeServingNoise(Map<String, Object> metricsLine) {
    Object extras = metricsLine.get("extras");
    if (extras instanceof Map<?, ?> map) {
      Map<String, Object> copy = new java.util.LinkedHashMap<>((Map<String, Object>) map);
      copy.remove("samplerLogProbError");
      metricsLine.put("extras", copy);
    }
  }

  private static List<String> withoutTimings(Path metrics) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      Map<String, Object> fields = new java.util.LinkedHashMap<>(Json.parseObject(line));
      fields.remove("timings");
      removeServingNoise(fields);
      out.add(Json.write(fields));
    }
    return out;
  }

  @Test
  @Order(4)
  void prometheus_parsesAndNamesTheRunMetrics() {
    HttpResponse<String> r = http.get("/prometheus");
    assertEquals(200, r.statusCode());
    Map<String, String> types = PrometheusText.parse(r.body());
    String run = "{run=\"" + finishedRun + "\"";
    for (String counter :
        List.of(
            "jbond_steps_total",
            "jbond_samples_total",
            "jbond_tokens_generated_total",
            "jbond_triton_requests_total")) {
      assertEquals("counter", types.get(counter), counter);
    }
    assertEquals("histogram", types.get("jbond_step_phase_seconds"));
    for (String gauge :
        List.of(
            "jbond_reward_mean",
            "jbond_quantile_vs_reference",
            "jbond_kl_reference",
            "jbond_kl_anchor",
            "jbond_learning_rate",
            "jbond_runs",
            "jvm_memory_used_bytes",
            "process_cpu_usage")) {
      assertEquals("gauge", types.get(gauge), gauge);
    }
    assertTrue(r.body().contains("jbond_steps_total" + run + "} 8.0"), r.body());
    assertTrue(
        Pattern.compile(
                "jbond_triton_requests_total\\{method=\"ModelStreamInfer\",outcome=\"OK\",run=\""
                    + finishedRun
                    + "\"} [1-9]")
            .matcher(r.body())
            .find());
    assertTrue(
        r.body()
            .contains(
                "jbond_step_phase_seconds_count{phase=\"sample\",run=\"" + finishedRun + "\"} 8"),
        r.body());
  }

  @Test
  void health_isUp() {
    HttpResponse<String> r = http.get("/health");
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> body = Json.parseObject(r.body());
    assertEquals("UP", body.get("status"));
    assertTrue(((Map<?, ?>) body.get("details")).containsKey("triton"), r.body());
  }

  @Test
  void dashboard_isServed() {
    HttpResponse<String> page = http.get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
    assertTrue(page.body().contains("/dashboard/app.js"), page.body());
    HttpResponse<String> js = http.get("/dashboard/app.js");
    assertEquals(200, js.statusCode());
    assertTrue(js.headers().firstValue("Content-Type").orElseThrow().startsWith("text/javascript"));
    assertFalse(page.body().contains("http://") || page.body().contains("https://"), "no CDN");
    assertEquals(404, http.get("/dashboard/missing.js").statusCode());
  }

  @Test
  void unknownRuns_are404() {
    for (String path :
        List.of("/runs/nope", "/runs/nope/metrics", "/runs/nope/eval", "/runs/nope/report/")) {
      HttpResponse<String> r = http.get(path);
      assertEquals(404, r.statusCode(), path);
      assertEquals(
          "Expected the id of a run, found no run 'nope'", Json.parseObject(r.body()).get("error"));
    }
    for (String path : List.of("/runs/nope/stop", "/runs/nope/resume")) {
      assertEquals(404, http.post(path, null, "").statusCode(), path);
    }
    HttpResponse<String> unknown = http.get("/nowhere");
    assertEquals(404, unknown.statusCode());
    assertEquals(
        "Expected one of the server's paths (see README), found GET /nowhere",
        Json.parseObject(unknown.body()).get("error"));
  }

  @Test
  void badBodies_are400WithTheKeyOr413Or415() {
    assertError(
        http.post("/runs", "application/yaml", "run: [1, 2"),
        400,
        "Expected YAML or JSON in run configuration (request body), found a syntax error");
    assertError(
        http.post("/runs", "application/json", "{\"run\": {"),
        400,
        "Expected YAML or JSON in run configuration (request body), found a syntax error");
    assertError(http.post("/runs", "application/json", ""), 400, "Expected a run configuration");
    Map<String, Object> unknownKey = tinyConfig(2);
    ((Map<String, Object>) unknownKey.get("run")).put("stepz", 3);
    assertError(http.post("/runs", "application/json", json(unknownKey)), 400, "run.stepz: ");
    Map<String, Object> wrongType = tinyConfig(2);
    ((Map<String, Object>) wrongType.get("run")).put("steps", "many");
    assertError(http.post("/runs", "application/json", json(wrongType)), 400, "run.steps: ");
    Map<String, Object> outOfRange = tinyConfig(2);
    ((Map<String, Object>) outOfRange.get("run")).put("steps", 0);
    assertError(
        http.post("/runs", "application/json", json(outOfRange)),
        400,
        "run.steps: expected an integer >= 1, found 0");
    assertError(
        http.post("/runs", "application/json", "{\"pad\": \"" + "x".repeat(70_000) + "\"}"),
        413,
        "Expected a request body of at most 65536 bytes, found a larger one");
    HttpResponse<String> type = http.post("/runs", "application/octet-stream", "{}");
    assertEquals(415, type.statusCode(), type.body());
    assertTrue(Json.parseObject(type.body()).containsKey("error"), type.body());
  }

  @Test
  void pathsOutsideTheRoots_are400NamingTheKey() throws Exception {
    Path assets = ServerFixtures.demoAssets();
    // absolute path elsewhere
    Map<String, Object> c = tinyConfig(2);
    ((Map<String, Object>) c.get("policy")).put("model", "/etc");
    assertError(
        http.post("/runs", "application/json", json(c)),
        400,
        "policy.model: expected a path under the server's allowed roots");
    // .. out of an allowed root
    c = tinyConfig(2);
    ((Map<String, Object>) c.get("prompts")).put("file", assets + "/../../../etc/passwd");
    assertError(
        http.post("/runs", "application/json", json(c)),
        400,
        "prompts.file: expected a path under the server's allowed roots");
    // relative paths resolve against the server's working directory, and .. cannot climb out
    c = tinyConfig(2);
    ((Map<String, Object>) c.get("reward")).put("model", "../../../../../../../../etc/hosts");
    assertError(
        http.post("/runs", "application/json", json(c)),
        400,
        "reward.model: expected a path under the server's allowed roots");
    // a symbolic link inside a root that leads out of it
    Files.copy(assets.resolve("prompts.jsonl"), outside.resolve("prompts.jsonl"));
    Path link = runs.resolve("sneaky");
    Files.createSymbolicLink(link, outside);
    c = tinyConfig(2);
    ((Map<String, Object>) c.get("prompts")).put("file", link.resolve("prompts.jsonl").toString());
    assertError(
        http.post("/runs", "application/json", json(c)),
        400,
        "prompts.file: expected a path under the server's allowed roots");
    // TLS files of fleet endpoints are paths too
    c = tinyConfig(2);
    Map<String, Object> serving = (Map<String, Object>) c.get("serving");
    serving.put("mode", "triton");
    serving.put(
        "endpoints",
        List.of(Map.of("target", "localhost:8001", "tls", Map.of("ca-file", "/etc/ssl/x.pem"))));
    assertError(
        http.post("/runs", "application/json", json(c)),
        400,
        "serving.endpoints[0].tls.ca-file: expected a path under the server's allowed roots");
    // nothing was created for refused configurations
    try (Stream<Path> children = Files.list(runs)) {
      assertTrue(
          children.allMatch(p -> p.equals(link) || Files.isRegularFile(p.resolve("config.yaml"))));
    }
  }

  private static void assertError(HttpResponse<String> r, int status, String prefix) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
    String error = String.valueOf(Json.parseObject(r.body()).get("error"));
    assertTrue(error.startsWith(prefix), error);
    assertFalse(error.contains("\n"), error);
  }
}
