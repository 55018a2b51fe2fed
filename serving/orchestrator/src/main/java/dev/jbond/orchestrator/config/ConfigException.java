package dev.jbond.orchestrator.config;

/**
 * A run configuration that cannot be used: an unknown key, a value of the wrong type or out of
 * range, a file that cannot be read or parsed. The message is one line that starts with the key's
 * path (for example {@code run.steps: expected an integer >= 1, found 0}) or the file.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  /**
   * Creates the exception for a key.
   *
   * @param key the key's path, dotted, with list indices ({@code serving.endpoints[1].target});
   *     empty for the file as a whole
   * @param problem what was expected and found, one line
   */
  public ConfigException(String key, String problem) {
    super(key.isEmpty() ? problem : key + ": " + problem);
    this.key = key;
  }

  /**
   * Creates the exception for a key, with its cause.
   *
   * @param key the key's path; empty for the file as a whole
   * @param problem what was expected and found, one line
   * @param cause the cause
   */
  public ConfigException(String key, String problem, Throwable cause) {
    super(key.isEmpty() ? problem : key + ": " + problem, cause);
    this.key = key;
  }

  /**
   * Returns the path of the key the problem is with.
   *
   * @return the dotted path, or empty for the file as a whole
   */
  public String key() {
    return key;
  }
}
