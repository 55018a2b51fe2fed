package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A server with a token: every endpoint but /health needs it, by header or by cookie. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenAuthTest implements TestPropertyProvider {
  private static final String TOKEN = "s3cret-Token_42";

  @Inject EmbeddedServer server;

  private Path runs;

  @Override
  public Map<String, String> getProperties() {
    try {
      Path root = Files.createTempDirectory("jbond-token-test");
      runs = Files.createDirectories(root.resolve("runs"));
      Path token = root.resolve("token");
      Files.writeString(token, "  " + TOKEN + "\n"); // surrounding white space is not the token
      return Map.of(
          "jbond.server.enabled",
          "true",
          "micronaut.server.port",
          "-1",
          "jbond.server.runs",
          runs.toString(),
          "jbond.server.token-file",
          token.toString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private ServerFixtures.Http anonymous() {
    return new ServerFixtures.Http(server.getURI());
  }

  private ServerFixtures.Http bearer(String token) {
    return new ServerFixtures.Http(server.getURI()).header("Authorization", "Bearer " + token);
  }

  @Test
  void withoutTheToken_everyEndpointButHealthIs401() throws Exception {
    for (String path :
        List.of(
            "/runs",
            "/runs/x",
            "/runs/x/metrics",
            "/runs/x/eval",
            "/runs/x/report/",
            "/prometheus",
            "/dashboard/app.js",
            "/nowhere")) {
      HttpResponse<String> r = anonymous().get(path);
      assertEquals(401, r.statusCode(), path);
      assertEquals(
          "Expected Authorization: Bearer <the server's token>, found none",
          Json.parseObject(r.body()).get("error"),
          path);
      assertEquals(
          "Bearer realm=\"jbond\"", r.headers().firstValue("WWW-Authenticate").orElseThrow());
    }
    for (String path : List.of("/runs", "/runs/x/stop", "/runs/x/resume")) {
      assertEquals(401, anonymous().post(path, "application/json", "{}").statusCode(), path);
    }
    try (Stream<Path> created = Files.list(runs)) {
      assertEquals(0, created.count(), "no run was created without the token");
    }
    HttpResponse<String> health = anonymous().get("/health");
    assertEquals(200, health.statusCode());
    assertEquals("UP", Json.parseObject(health.body()).get("status"));
  }

  @Test
  void wrongTokensAndSchemes_are401() {
    for (String header :
        List.of(
            "Bearer " + TOKEN + "x",
            "Bearer " + TOKEN.substring(1),
            "Bearer ",
            "Basic " + TOKEN,
            TOKEN)) {
      HttpResponse<String> r =
          new ServerFixtures.Http(server.getURI()).header("Authorization", header).get("/runs");
      assertEquals(401, r.statusCode(), header);
      assertEquals(
          "Expected Authorization: Bearer <the server's token>, found a wrong token",
          Json.parseObject(r.body()).get("error"));
    }
    HttpResponse<String> cookie =
        new ServerFixtures.Http(server.getURI()).header("Cookie", "jbond_token=nope").get("/runs");
    assertEquals(401, cookie.statusCode());
  }

  @Test
  void theToken_byHeaderOrCookie_opensEverything() {
    assertEquals(200, bearer(TOKEN).get("/runs").statusCode());
    assertEquals(200, bearer(TOKEN).get("/prometheus").statusCode());
    assertEquals(200, bearer(TOKEN).get("/").statusCode());
    assertEquals(404, bearer(TOKEN).get("/runs/x").statusCode());
    HttpResponse<String> cookie =
        new ServerFixtures.Http(server.getURI())
            .header("Cookie", "other=1; jbond_token=" + TOKEN)
            .get("/runs");
    assertEquals(200, cookie.statusCode(), cookie.body());
  }

  @Test
  void aBrowser_getsTheLoginPage() {
    HttpResponse<String> r = anonymous().get("/", "Accept", "text/html,application/xhtml+xml");
    assertEquals(401, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
    assertTrue(r.body().contains("id=\"login-form\""), r.body());
    assertTrue(r.body().contains("jbond_token"), r.body());
  }
}
