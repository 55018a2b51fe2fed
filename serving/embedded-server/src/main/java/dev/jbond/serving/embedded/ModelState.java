package dev.jbond.serving.embedded;

/** The states RepositoryIndex reports for a model version, with Triton's names. */
public enum ModelState {
  /** Loaded and serving. */
  READY,
  /** Being loaded (and not serving an earlier version). */
  LOADING,
  /** Not serving: never loaded, unloaded, or its load failed (the reason says which). */
  UNAVAILABLE
}
