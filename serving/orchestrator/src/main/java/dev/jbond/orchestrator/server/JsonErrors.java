package dev.jbond.orchestrator.server;

import dev.jbond.internal.Json;
import io.micronaut.context.annotation.Primary;
import io.micronaut.context.annotation.Property;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import java.util.Map;

/**
 * Makes the errors Micronaut answers itself (unknown route, wrong method or media type, a body over
 * the size limit, a body that cannot be read) look like the API's own: {@code {"error": "<one
 * line>"}}.
 */
@Singleton
@Primary
@Requires(property = "jbond.server.enabled", value = "true")
final class JsonErrors implements ErrorResponseProcessor<String> {
  private final long maxBody;

  JsonErrors(
      @Property(name = "micronaut.server.max-request-size", defaultValue = "10485760")
          long maxBody) {
    this.maxBody = maxBody;
  }

  @Override
  public MutableHttpResponse<String> processResponse(
      ErrorContext context, MutableHttpResponse<?> response) {
    HttpStatus status = response.status();
    String message;
    if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE) {
      message = "Expected a request body of at most " + maxBody + " bytes, found a larger one";
    } else if (status == HttpStatus.NOT_FOUND) {
      message =
          "Expected one of the server's paths (see README), found "
              + context.getRequest().getMethod()
              + " "
              + context.getRequest().getPath();
    } else {
      message =
          context.getErrors().stream()
              .map(Error::getMessage)
              .findFirst()
              .orElse(status.getReason());
    }
    String line = message.replace('\n', ' ').replace('\r', ' ').strip();
    return response
        .contentType(MediaType.APPLICATION_JSON_TYPE)
        .body(Json.write(Map.of("error", line)));
  }
}
