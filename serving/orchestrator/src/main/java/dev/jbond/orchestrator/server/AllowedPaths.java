package dev.jbond.orchestrator.server;

import dev.jbond.orchestrator.config.ConfigException;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The folders a configuration submitted over HTTP may name paths under. A path is allowed when,
 * normalized ({@code ..} resolved), it lies under a root, and when its real location (symbolic
 * links followed, for the path itself or, where it does not exist yet, its nearest existing parent)
 * lies under a root's real location too. Nothing about files outside the roots is revealed: the
 * check runs before any file the configuration names is opened.
 */
public final class AllowedPaths {
  private final List<Path> roots;
  private final List<Path> realRoots;

  /**
   * Creates the check.
   *
   * @param roots the allowed folders (need not exist)
   */
  public AllowedPaths(List<Path> roots) {
    this.roots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    List<Path> real = new ArrayList<>();
    for (Path root : this.roots) {
      Path r = realLocation(root);
      real.add(r == null ? root : r);
    }
    this.realRoots = List.copyOf(real);
  }

  /**
   * Returns the roots.
   *
   * @return the absolute, normalized roots
   */
  public List<Path> roots() {
    return roots;
  }

  /**
   * Refuses a configuration that names a path outside the roots.
   *
   * @param config a resolved configuration (absolute paths)
   * @throws ConfigException naming the first key whose path is outside
   */
  public void check(RunConfig config) {
    for (Map.Entry<String, String> e : RunConfigLoader.paths(config).entrySet()) {
      check(e.getKey(), Path.of(e.getValue()));
    }
  }

  /**
   * Refuses one path outside the roots.
   *
   * @param key the key path, for the message
   * @param path an absolute path
   * @throws ConfigException when the path is outside
   */
  public void check(String key, Path path) {
    Path normal = path.toAbsolutePath().normalize();
    boolean under = roots.stream().anyMatch(normal::startsWith);
    if (under) {
      Path real = realLocation(normal);
      if (real != null && realRoots.stream().anyMatch(real::startsWith)) {
        return;
      }
      throw new ConfigException(
          key,
          "expected a path under the server's allowed roots "
              + roots
              + ", found "
              + path
              + ", which a symbolic link leads out of them");
    }
    throw new ConfigException(
        key, "expected a path under the server's allowed roots " + roots + ", found " + path);
  }

  /**
   * The real path of a path, or of its nearest existing parent with the rest appended; null when it
   * cannot be found out (then the path is refused).
   */
  private static Path realLocation(Path path) {
    Path existing = path;
    Path rest = null;
    while (existing != null && !Files.exists(existing)) {
      Path name = existing.getFileName();
      rest = rest == null ? name : name.resolve(rest);
      existing = existing.getParent();
    }
    if (existing == null) {
      return path;
    }
    try {
      Path real = existing.toRealPath();
      return rest == null ? real : real.resolve(rest).normalize();
    } catch (IOException e) {
      return null;
    }
  }
}
