package dev.jbond.serving.embedded;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One numbered version directory of a model in a repository.
 *
 * @param version the directory's number, {@code >= 1}
 * @param directory the directory, {@code <model>/<version>}
 */
public record ModelVersionDirectory(long version, Path directory) {
  /**
   * Validates the components.
   *
   * @param version see the record description
   * @param directory see the record description
   * @throws IllegalArgumentException when the version is below 1
   */
  public ModelVersionDirectory {
    if (version < 1) {
      throw new IllegalArgumentException("Expected a model version >= 1, found " + version);
    }
    Objects.requireNonNull(directory, "directory");
  }
}
