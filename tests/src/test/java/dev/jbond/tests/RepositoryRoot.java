package dev.jbond.tests;

import java.nio.file.Files;
import java.nio.file.Path;

/** Test helper: the repository root (where {@code models/demo} lies), found from the module. */
final class RepositoryRoot {
  private RepositoryRoot() {}

  static Path get() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("models").resolve("demo").resolve("policy"))) {
        return p;
      }
    }
    throw new IllegalStateException("Expected models/demo above " + dir + ", found none");
  }

  static Path demo() {
    return get().resolve("models").resolve("demo");
  }
}
