package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.proto.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A model as found in a repository, before it is loaded: its directory, its configuration as
 * written (not yet completed from the model file) and the version directories its version policy
 * selects.
 *
 * @param name the model name (the directory name)
 * @param directory the model directory
 * @param config the configuration from {@code config.pbtxt} or a load request; an empty one when
 *     none was written
 * @param configWritten whether a configuration was written; when false the server completes the
 *     whole configuration from the model file, as Triton does with {@code
 *     --strict-model-config=false}
 * @param versions the selected versions, in ascending order, at least one; copied
 */
public record ModelSource(
    String name,
    Path directory,
    ModelConfig config,
    boolean configWritten,
    List<ModelVersionDirectory> versions) {
  /**
   * Validates and copies the components.
   *
   * @param name see the record description
   * @param directory see the record description
   * @param config see the record description
   * @param configWritten see the record description
   * @param versions see the record description
   * @throws IllegalArgumentException when the name is empty or no version is given
   */
  public ModelSource {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty model name");
    }
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(config, "config");
    versions = List.copyOf(versions);
    if (versions.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected at least one version of model '" + name + "', found none");
    }
  }
}
