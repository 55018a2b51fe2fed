package dev.jbond.serving.embedded;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One row of the server's model index (RepositoryIndex): a model version and its state.
 *
 * @param name the model name
 * @param version the served version number, empty when the model serves no version
 * @param state the state
 * @param reason why the model is not ready (for example the load error), empty when ready
 */
public record ModelStatus(String name, OptionalLong version, ModelState state, String reason) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param version see the record description
   * @param state see the record description
   * @param reason see the record description
   */
  public ModelStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(reason, "reason");
  }
}
