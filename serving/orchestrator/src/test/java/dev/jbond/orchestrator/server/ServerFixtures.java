package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** What the server tests share: the demo assets, a tiny run configuration, an HTTP client. */
final class ServerFixtures {
  private ServerFixtures() {}

  /** {@code models/demo} of the repository (the tests run in serving/orchestrator). */
  static Path demoAssets() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("models/demo")) && Files.isRegularFile(p.resolve("bond"))) {
        return p.resolve("models/demo");
      }
    }
    throw new IllegalStateException("Expected the repository's models/demo above the tests");
  }

  /**
   * The demo's configuration, made tiny: 8 prompts a step, 24 new tokens, a 2-prompt evaluation
   * with 2 samples each every 2 steps, a checkpoint every step.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> tinyConfig(int steps) {
    Map<String, Object> tree = ConfigYaml.tree(DemoCommand.config(demoAssets(), steps, 3));
    ((Map<String, Object>) tree.get("prompts")).put("batch-size", 8);
    ((Map<String, Object>) tree.get("sampling")).put("max-new-tokens", 24);
    Map<String, Object> eval = (Map<String, Object>) tree.get("eval");
    eval.put("samples-per-prompt", 2);
    eval.put("reference-samples", 2);
    eval.put("max-prompts", 2);
    Map<String, Object> run = (Map<String, Object>) tree.get("run");
    run.put("eval-every", 2);
    run.put("checkpoint-every", 1);
    return tree;
  }

  static String json(Map<String, Object> tree) {
    return Json.write(tree);
  }

  /** A JDK HTTP client against one base URL. */
  static final class Http {
    private final HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final Map<String, String> headers = new LinkedHashMap<>();

    Http(URI base) {
      this.base = base;
    }

    Http header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    HttpResponse<String> get(String path, String... extraHeaders) {
      return send(builder(path, extraHeaders).GET().build());
    }

    HttpResponse<String> post(String path, String contentType, String body) {
      HttpRequest.Builder b = builder(path).POST(HttpRequest.BodyPublishers.ofString(body));
      if (contentType != null) {
        b.header("Content-Type", contentType);
      }
      return send(b.build());
    }

    HttpResponse<Stream<String>> stream(String path) {
      try {
        return client.send(
            builder(path, "Accept", "text/event-stream").GET().build(),
            HttpResponse.BodyHandlers.ofLines());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    private HttpRequest.Builder builder(String path, String... extraHeaders) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(3));
      headers.forEach(b::header);
      for (int i = 0; i < extraHeaders.length; i += 2) {
        b.header(extraHeaders[i], extraHeaders[i + 1]);
      }
      return b;
    }

    private HttpResponse<String> send(HttpRequest request) {
      try {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** Polls GET /runs/{id} until the summary matches; returns it. */
    Map<String, Object> await(String id, Predicate<Map<String, Object>> until, Duration timeout)
        throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      Map<String, Object> last = null;
      while (System.nanoTime() < end) {
        HttpResponse<String> r = get("/runs/" + id);
        assertEquals(200, r.statusCode(), r.body());
        last = Json.parseObject(r.body());
        if (until.test(last)) {
          return last;
        }
        Thread.sleep(100);
      }
      fail("Timed out waiting for run " + id + "; last summary: " + last);
      return last;
    }
  }

  /** One server-sent event. */
  record Event(String name, String id, String data) {}

  /** Reads a whole event stream (until the server completes it). */
  static List<Event> events(Stream<String> lines) {
    List<Event> events = new ArrayList<>();
    String name = "message";
    String id = null;
    StringBuilder data = new StringBuilder();
    for (String line : (Iterable<String>) lines::iterator) {
      if (line.isEmpty()) {
        if (data.length() > 0) {
          events.add(new Event(name, id, data.toString()));
        }
        name = "message";
        id = null;
        data.setLength(0);
      } else if (line.startsWith("event:")) {
        name = line.substring(6).strip();
      } else if (line.startsWith("id:")) {
        id = line.substring(3).strip();
      } else if (line.startsWith("data:")) {
        if (data.length() > 0) {
          data.append('\n');
        }
        data.append(line.substring(5).strip());
      }
    }
    return events;
  }

  static String status(Map<String, Object> summary) {
    return String.valueOf(summary.get("status"));
  }
}
