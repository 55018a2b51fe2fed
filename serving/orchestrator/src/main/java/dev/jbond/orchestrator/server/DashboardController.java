package dev.jbond.orchestrator.server;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The dashboard page: {@code GET /} and its assets under {@code /dashboard/}, all from the
 * application's own resources (no CDN).
 */
@Controller
@Requires(property = "jbond.server.enabled", value = "true")
public final class DashboardController {
  private static final Pattern FILE =
      Pattern.compile("[a-z0-9][a-z0-9_-]*\\.(html|js|css|svg|png)");
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png");

  /**
   * {@code GET /}: the page.
   *
   * @return the page
   * @throws IOException when the resource cannot be read
   */
  @Get(uri = "/", produces = MediaType.TEXT_HTML)
  HttpResponse<?> index() throws IOException {
    return asset("index.html");
  }

  /**
   * {@code GET /dashboard/{file}}: one of the page's assets.
   *
   * @param file the file's name
   * @return the file
   * @throws IOException when the resource cannot be read
   */
  @Get(uri = "/dashboard/{file}")
  HttpResponse<?> asset(String file) throws IOException {
    if (!FILE.matcher(file).matches()) {
      throw new RunRequestException(404, "Expected a dashboard file, found '" + file + "'");
    }
    try (InputStream in = DashboardController.class.getResourceAsStream("/dashboard/" + file)) {
      if (in == null) {
        throw new RunRequestException(404, "Expected a dashboard file, found no '" + file + "'");
      }
      String extension = file.substring(file.lastIndexOf('.') + 1);
      return HttpResponse.ok(in.readAllBytes())
          .contentType(TYPES.get(extension))
          .header("Cache-Control", "no-cache");
    }
  }

  @io.micronaut.http.annotation.Error(exception = RunRequestException.class)
  HttpResponse<String> notFound(RunRequestException e) {
    return RunsController.error(e.status(), e.getMessage());
  }
}
