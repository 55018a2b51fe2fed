package dev.jbond.orchestrator.server;

import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.cookie.Cookie;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The bearer token guard of {@code bond server}: when the server has a token, every request but
 * {@code /health} must carry it, as {@code Authorization: Bearer <token>} or, from the dashboard in
 * a browser, as the {@code jbond_token} cookie (SameSite=Strict, so other sites cannot send it).
 * Tokens are compared in constant time (their SHA-256 digests, with {@link MessageDigest#isEqual}),
 * so neither the content nor the length of the token leaks through timing. A request without it, or
 * with a wrong one, gets 401 with {@code {"error": ...}}, or the login page when a browser asks for
 * HTML.
 *
 * <p>A hand-written filter rather than Micronaut Security: one shared secret compared in one place
 * needs neither its authentication model (roles, rules, redirects) nor its dependencies.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Requires(property = "jbond.server.enabled", value = "true")
public final class TokenFilter {
  /** The cookie the dashboard's login page sets. */
  public static final String COOKIE = "jbond_token";

  private final byte[] expected;

  TokenFilter(ServerSettings settings) {
    this.expected = settings.token().map(TokenFilter::digest).orElse(null);
  }

  /**
   * Lets a request through, or answers 401.
   *
   * @param request the request
   * @return null to go on, or the 401 response
   */
  @RequestFilter
  @Nullable
  HttpResponse<?> check(HttpRequest<?> request) {
    if (expected == null) {
      return null;
    }
    String path = request.getPath();
    if (path.equals("/health") || path.startsWith("/health/")) {
      return null;
    }
    Optional<String> presented = presented(request);
    if (presented.isPresent() && MessageDigest.isEqual(expected, digest(presented.get()))) {
      return null;
    }
    String found = presented.isEmpty() ? "none" : "a wrong token";
    boolean browser =
        request.getMethod().name().equals("GET")
            && request.accept().stream().anyMatch(t -> t.matches(MediaType.TEXT_HTML_TYPE));
    if (browser) {
      return HttpResponse.status(HttpStatus.UNAUTHORIZED)
          .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"jbond\"")
          .contentType(MediaType.TEXT_HTML_TYPE)
          .body(loginPage());
    }
    return RunsController.error(
            401, "Expected Authorization: Bearer <the server's token>, found " + found)
        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"jbond\"");
  }

  private static Optional<String> presented(HttpRequest<?> request) {
    Optional<String> header = request.getHeaders().getAuthorization();
    if (header.isPresent()) {
      String value = header.get();
      if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return Optional.of(value.substring(7).strip());
      }
      return Optional.of(""); // another scheme: no token of ours (tokens are never empty)
    }
    return request.getCookies().findCookie(COOKIE).map(Cookie::getValue);
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static byte[] loginPage() {
    try (InputStream in = TokenFilter.class.getResourceAsStream("/dashboard/login.html")) {
      if (in == null) {
        return "<!doctype html><title>jbond</title><p>This server needs its token.</p>"
            .getBytes(StandardCharsets.UTF_8);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
