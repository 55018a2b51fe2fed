package dev.jbond.serving.embedded;

/**
 * Observes what {@link EmbeddedTritonServer} does, for metrics and tests. Every method has an empty
 * default. Methods run on the server's threads and must return quickly; an exception thrown by a
 * listener fails the request or load in progress.
 */
public interface EmbeddedServerListener {
  /**
   * Called on the worker thread just before a plain model runs a batch.
   *
   * @param batch what is about to run
   */
  default void beforeBatch(BatchInfo batch) {}

  /**
   * Called when a model version has been loaded and starts serving.
   *
   * @param model the model name
   * @param version the served version number
   */
  default void versionLoaded(String model, long version) {}

  /**
   * Called when a model version has been closed: it was unloaded or replaced, and its last request
   * finished.
   *
   * @param model the model name
   * @param version the served version number
   */
  default void versionClosed(String model, long version) {}
}
