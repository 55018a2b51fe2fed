package dev.jbond;

import java.util.Objects;

/**
 * A named, versioned model as served to a sampler: for example {@code ("jbond-policy", 12)}.
 *
 * @param name the served model name, non-empty
 * @param version the version, {@code >= 0}; larger is newer
 */
public record ModelVersion(String name, long version) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param version see the record description
   * @throws IllegalArgumentException when the name is empty or the version negative
   */
  public ModelVersion {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || version < 0) {
      throw new IllegalArgumentException(
          "Expected a non-empty model name and a version >= 0, found '" + name + "' " + version);
    }
  }

  @Override
  public String toString() {
    return name + "@" + version;
  }
}
