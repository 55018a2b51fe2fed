package dev.jbond.orchestrator.server;

import dev.jbond.orchestrator.config.ConfigException;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Property;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code bond server} was started with.
 *
 * @param runs the folder runs live in, one folder each
 * @param allowedRoots the folders a submitted configuration may name paths under
 * @param token the bearer token every request but {@code /health} must carry; empty: none
 * @param maxConcurrentRuns how many runs execute at once; the others wait in a queue
 * @param shutdownTimeout how long a shutdown waits for running runs to checkpoint and stop
 */
public record ServerSettings(
    Path runs,
    List<Path> allowedRoots,
    Optional<String> token,
    int maxConcurrentRuns,
    Duration shutdownTimeout) {
  /** The environment variable a token may come from instead of {@code --token-file}. */
  public static final String TOKEN_VARIABLE = "JBOND_TOKEN";

  /**
   * Validates the components and makes paths absolute.
   *
   * @param runs see the record description
   * @param allowedRoots see the record description
   * @param token see the record description
   * @param maxConcurrentRuns see the record description
   * @param shutdownTimeout see the record description
   */
  public ServerSettings {
    runs = runs.toAbsolutePath().normalize();
    allowedRoots = allowedRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    Objects.requireNonNull(token, "token");
    if (maxConcurrentRuns < 1) {
      throw new IllegalArgumentException(
          "Expected at least 1 concurrent run, found " + maxConcurrentRuns);
    }
    Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
  }

  /**
   * Reads a token: the file's content without surrounding white space, else the {@value
   * #TOKEN_VARIABLE} environment variable.
   *
   * @param tokenFile the file, or null
   * @param environment the variable's value, or null
   * @return the token, or empty when neither is given
   * @throws ConfigException when the file cannot be read or the token is empty
   */
  public static Optional<String> readToken(@Nullable Path tokenFile, @Nullable String environment) {
    String token;
    String source;
    if (tokenFile != null) {
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new ConfigException(
            "", "Cannot read the token file " + tokenFile.toAbsolutePath() + ": " + e.getMessage());
      }
      source = "the token file " + tokenFile;
    } else if (environment != null) {
      token = environment.strip();
      source = "the environment variable " + TOKEN_VARIABLE;
    } else {
      return Optional.empty();
    }
    if (token.isEmpty()
        || token.contains("\n")
        || token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw new ConfigException(
          "",
          "Expected a token of printable ASCII characters on one line in "
              + source
              + ", found "
              + (token.isEmpty() ? "nothing" : "white space or other characters"));
    }
    return Optional.of(token);
  }

  /**
   * Builds the settings from the {@code jbond.server.*} properties that {@code bond server} sets.
   */
  @Factory
  @Requires(property = "jbond.server.enabled", value = "true")
  static final class FromProperties {
    @Singleton
    ServerSettings settings(
        @Property(name = "jbond.server.runs", defaultValue = "runs") String runs,
        @Nullable @Property(name = "jbond.server.allow-paths") List<String> allowPaths,
        @Nullable @Property(name = "jbond.server.token-file") String tokenFile,
        @Property(name = "jbond.server.max-concurrent-runs", defaultValue = "1") int concurrent,
        @Property(name = "jbond.server.shutdown-timeout", defaultValue = "10m") Duration timeout) {
      Path runsDir = Path.of(runs);
      List<Path> roots = new ArrayList<>();
      if (allowPaths == null || allowPaths.isEmpty()) {
        roots.add(runsDir);
        roots.add(demoAssets());
      } else {
        allowPaths.forEach(p -> roots.add(Path.of(p)));
      }
      return new ServerSettings(
          runsDir,
          roots,
          readToken(tokenFile == null ? null : Path.of(tokenFile), System.getenv(TOKEN_VARIABLE)),
          concurrent,
          timeout);
    }
  }

  /** {@code models/demo} under the jbond home (as {@code bond demo} finds it). */
  static Path demoAssets() {
    String home = System.getProperty("jbond.home");
    return (home == null ? Path.of("") : Path.of(home)).resolve("models").resolve("demo");
  }
}
