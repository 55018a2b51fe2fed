package dev.jbond.orchestrator.server;

import java.util.Locale;

/** Where a run managed by {@code bond server} stands. */
public enum RunStatus {
  /** Waiting for a free slot. */
  QUEUED,
  /** Taking steps. */
  RUNNING,
  /** A stop was requested: it finishes its step, checkpoints and stops. */
  STOPPING,
  /** Stopped with a checkpoint (or before its first step); it can be resumed. */
  STOPPED,
  /** It took all its steps. */
  FINISHED,
  /** It failed; it can be resumed from its newest checkpoint. */
  FAILED;

  /**
   * Returns the name used in JSON and files: lower case.
   *
   * @return for example {@code running}
   */
  public String json() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Returns the status of a JSON name.
   *
   * @param json for example {@code running}
   * @return the status
   * @throws IllegalArgumentException when the name is none of them
   */
  public static RunStatus ofJson(String json) {
    return valueOf(json.toUpperCase(Locale.ROOT));
  }

  /**
   * Returns whether nothing happens to the run until someone resumes it.
   *
   * @return true for stopped, finished and failed
   */
  public boolean settled() {
    return this == STOPPED || this == FINISHED || this == FAILED;
  }
}
