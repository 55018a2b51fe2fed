package dev.jbond.orchestrator.server;

import dev.jbond.internal.Json;
import dev.jbond.orchestrator.config.ConfigException;
import dev.jbond.orchestrator.report.RunReport;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Error;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * The runs API of {@code bond server}. JSON bodies; errors are {@code {"error": "<one line>"}} with
 * 400 (a configuration that cannot be used, naming the key), 404 (no such run), 409 (the run is not
 * in a state the request fits) or 413 (a body over the size limit).
 */
@Controller
@Requires(property = "jbond.server.enabled", value = "true")
@ExecuteOn(TaskExecutors.BLOCKING)
public final class RunsController {
  /** JSON lines. */
  public static final String NDJSON = "application/x-ndjson";

  private static final Pattern REPORT_FILE =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.(png|html)");

  /** How often a live stream reads its file when the run signals nothing. */
  static final Duration FALLBACK = Duration.ofSeconds(2);

  private final RunManager manager;

  RunsController(RunManager manager) {
    this.manager = manager;
  }

  /**
   * {@code POST /runs}: queues a run of the configuration in the body (YAML or JSON).
   *
   * @param body the configuration
   * @return 201 with the run's summary and its {@code Location}
   * @throws IOException when the run's folder cannot be written
   */
  @Post(
      uri = "/runs",
      consumes = {
        MediaType.APPLICATION_JSON,
        "application/yaml",
        MediaType.APPLICATION_YAML,
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
        MediaType.TEXT_PLAIN
      })
  HttpResponse<String> submit(@Nullable @Body String body) throws IOException {
    if (body == null || body.isBlank()) {
      throw new ConfigException(
          "", "Expected a run configuration (YAML or JSON) in the request body, found none");
    }
    RunManager.Run run = manager.submit(body);
    return HttpResponse.<String>created(URI.create("/runs/" + run.id()))
        .body(run.summaryJson())
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  /**
   * {@code GET /runs}: every run, newest first.
   *
   * @return {@code {"runs": [summary, ...]}}
   */
  @Get(uri = "/runs", produces = MediaType.APPLICATION_JSON)
  String list() {
    List<Object> all = new ArrayList<>();
    for (RunManager.Run run : manager.list()) {
      all.add(run.summary());
    }
    return Json.write(Map.of("runs", all));
  }

  /**
   * {@code GET /runs/{id}}: one run's summary.
   *
   * @param id the run's id
   * @return the summary
   */
  @Get(uri = "/runs/{id}", produces = MediaType.APPLICATION_JSON)
  String get(String id) {
    return manager.get(id).summaryJson();
  }

  /**
   * {@code GET /runs/{id}/metrics?since=STEP}: the metrics lines from a step on, as JSON lines, or
   * with {@code Accept: text/event-stream} as a live stream that ends when the run does.
   *
   * @param id the run's id
   * @param since the first step
   * @param request the request, for its Accept header
   * @return the lines or the stream
   * @throws IOException when the file cannot be read
   */
  @Get(
      uri = "/runs/{id}/metrics",
      produces = {NDJSON, MediaType.TEXT_EVENT_STREAM})
  HttpResponse<?> metrics(
      String id, @QueryValue(defaultValue = "0") long since, HttpRequest<?> request)
      throws IOException {
    RunManager.Run run = manager.get(id);
    return lines(run, run.directory().metrics(), "metrics", since, request);
  }

  /**
   * {@code GET /runs/{id}/eval?since=STEP}: the evaluation lines, as {@link #metrics} serves the
   * metrics lines.
   *
   * @param id the run's id
   * @param since the first step
   * @param request the request, for its Accept header
   * @return the lines or the stream
   * @throws IOException when the file cannot be read
   */
  @Get(
      uri = "/runs/{id}/eval",
      produces = {NDJSON, MediaType.TEXT_EVENT_STREAM})
  HttpResponse<?> eval(
      String id, @QueryValue(defaultValue = "0") long since, HttpRequest<?> request)
      throws IOException {
    RunManager.Run run = manager.get(id);
    return lines(run, run.directory().eval(), "eval", since, request);
  }

  /**
   * {@code POST /runs/{id}/stop}: stops a queued run at once, a running one after its step and a
   * checkpoint.
   *
   * @param id the run's id
   * @return 202 with the summary
   * @throws IOException when the status cannot be written
   */
  @Post(uri = "/runs/{id}/stop", consumes = MediaType.ALL)
  HttpResponse<String> stop(String id) throws IOException {
    return accepted(manager.stop(id));
  }

  /**
   * {@code POST /runs/{id}/resume}: queues a stopped or failed run to continue from its newest
   * checkpoint.
   *
   * @param id the run's id
   * @return 202 with the summary
   * @throws IOException when the status cannot be written
   */
  @Post(uri = "/runs/{id}/resume", consumes = MediaType.ALL)
  HttpResponse<String> resume(String id) throws IOException {
    return accepted(manager.resume(id));
  }

  /**
   * {@code GET /runs/{id}/report}: the run's HTML report (written afresh when the run has newer
   * metrics than it), at {@code /runs/{id}/report/} so that its plots load beside it.
   *
   * @param id the run's id
   * @param request the request
   * @return the page, or a redirect to the path with the slash
   * @throws IOException when the report cannot be written
   */
  @Get(uri = "/runs/{id}/report", produces = MediaType.TEXT_HTML)
  HttpResponse<?> report(String id, HttpRequest<?> request) throws IOException {
    RunManager.Run run = manager.get(id);
    if (!request.getPath().endsWith("/")) {
      return HttpResponse.seeOther(URI.create("/runs/" + id + "/report/"));
    }
    return reportFile(run, "report.html");
  }

  /**
   * {@code GET /runs/{id}/report/{file}}: a file of the report (its PNG plots).
   *
   * @param id the run's id
   * @param file the file's name
   * @return the file
   * @throws IOException when the report cannot be written or read
   */
  @Get(uri = "/runs/{id}/report/{file}")
  HttpResponse<?> reportPart(String id, String file) throws IOException {
    RunManager.Run run = manager.get(id);
    if (!REPORT_FILE.matcher(file).matches()) {
      throw new RunRequestException(
          404, "Expected the name of a report file (.html or .png), found '" + file + "'");
    }
    return reportFile(run, file);
  }

  private HttpResponse<?> reportFile(RunManager.Run run, String name) throws IOException {
    Path root = run.directory().root();
    synchronized (run) {
      Path report = run.directory().report();
      Path metrics = run.directory().metrics();
      if (Files.isRegularFile(metrics)
          && (!Files.isRegularFile(report)
              || Files.getLastModifiedTime(metrics).compareTo(Files.getLastModifiedTime(report))
                  > 0)) {
        RunReport.write(List.of(root), root);
      }
    }
    Path file = root.resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new RunRequestException(
          404,
          "Expected "
              + name
              + " in the report of run "
              + run.id()
              + ", found none (the run has no training steps yet)");
    }
    return HttpResponse.ok(Files.readAllBytes(file))
        .contentType(name.endsWith(".png") ? MediaType.IMAGE_PNG_TYPE : MediaType.TEXT_HTML_TYPE);
  }

  private HttpResponse<?> lines(
      RunManager.Run run, Path file, String event, long since, HttpRequest<?> request)
      throws IOException {
    boolean stream =
        request.accept().stream().anyMatch(t -> t.matches(MediaType.TEXT_EVENT_STREAM_TYPE));
    if (!stream) {
      StringBuilder out = new StringBuilder();
      for (LineTail.Line line : new LineTail(file, since).poll()) {
        out.append(line.json()).append('\n');
      }
      return HttpResponse.ok(out.toString()).contentType(NDJSON);
    }
    return HttpResponse.ok(events(run, file, event, since))
        .contentType(MediaType.TEXT_EVENT_STREAM_TYPE);
  }

  /**
   * The live stream: the lines from {@code since} on, then new ones as they land, a {@code status}
   * event first and whenever the status changes; it completes once the run is settled (stopped,
   * finished, failed) and every line was sent. The file is read when the run signals a change (its
   * step's lines are written, its status changes) and, for runs another process writes (a {@code
   * bond run --resume} of the folder), every {@link #FALLBACK} as well: an idle stream costs one
   * wake-up per {@link #FALLBACK}, not a read per poll.
   */
  static Flux<Event<String>> events(RunManager.Run run, Path file, String event, long since) {
    LineTail tail = new LineTail(file, since);
    RunStatus[] last = {null};
    List<Event<String>> end = List.of(Event.of("").name("end"));
    return Flux.merge(Flux.just(0L), run.changes(), Flux.interval(FALLBACK, FALLBACK))
        .onBackpressureLatest()
        .publishOn(Schedulers.boundedElastic(), 1)
        .concatMapIterable(
            signal -> {
              List<Event<String>> out = new ArrayList<>();
              RunStatus status = run.status(); // before reading: lines then cannot lag the status
              try {
                for (LineTail.Line line : tail.poll()) {
                  out.add(Event.of(line.json()).name(event).id(Long.toString(line.step())));
                }
              } catch (IOException e) {
                out.add(Event.of(Json.write(Map.of("error", e.getMessage()))).name("error"));
                out.addAll(end);
                return out;
              }
              if (status != last[0]) {
                last[0] = status;
                out.add(Event.of(run.summaryJson()).name("status"));
              }
              if (status.settled()) {
                out.addAll(end);
              }
              return out;
            })
        .takeUntil(e -> e == end.get(0))
        .filter(e -> e != end.get(0));
  }

  private static HttpResponse<String> accepted(RunManager.Run run) {
    return HttpResponse.<String>status(HttpStatus.ACCEPTED)
        .body(run.summaryJson())
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  @Error(exception = ConfigException.class)
  HttpResponse<String> badConfig(ConfigException e) {
    return error(400, e.getMessage());
  }

  @Error(exception = RunRequestException.class)
  HttpResponse<String> badRequest(RunRequestException e) {
    return error(e.status(), e.getMessage());
  }

  /**
   * An error response: {@code {"error": "<one line>"}}.
   *
   * @param status the HTTP status
   * @param message the message
   * @return the response
   */
  static MutableHttpResponse<String> error(int status, String message) {
    String line = message == null ? "" : message.replace('\n', ' ').replace('\r', ' ').strip();
    return HttpResponse.<String>status(HttpStatus.valueOf(status))
        .body(Json.write(Map.of("error", line)))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }
}
