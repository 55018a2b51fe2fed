package dev.jbond.serving.embedded;

import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.serving.triton.proto.ModelConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded, servable version of a model: its completed configuration and what runs it (an ONNX
 * Runtime session behind a {@link DynamicBatcher}, or a {@link GenerationModel}).
 *
 * <p>Reference counted, like Triton's {@code shared_ptr<Model>}: the model manager holds one
 * reference while the version serves, and every request holds one from its arrival to its last
 * response ({@link #tryRetain()} / {@link #release()}). {@link #retire()} drops the manager's
 * reference when the version is unloaded or replaced; the version closes when the count reaches
 * zero, so requests already admitted finish on it.
 */
final class LoadedVersion {
  final String model;
  final long number;
  final ModelConfig config;
  final ModelConfigs.Kind kind;
  final String fingerprint;
  private final OrtModelSession session;
  private final DynamicBatcher batcher;
  private final GenerationModel generation;
  private final Runnable onClosed;
  private final AtomicInteger references = new AtomicInteger(1);

  private LoadedVersion(
      String model,
      long number,
      ModelConfig config,
      ModelConfigs.Kind kind,
      String fingerprint,
      OrtModelSession session,
      DynamicBatcher batcher,
      GenerationModel generation,
      Runnable onClosed) {
    this.model = model;
    this.number = number;
    this.config = config;
    this.kind = kind;
    this.fingerprint = fingerprint;
    this.session = session;
    this.batcher = batcher;
    this.generation = generation;
    this.onClosed = onClosed;
  }

  static LoadedVersion onnx(
      String model,
      long number,
      ModelConfig config,
      String fingerprint,
      OrtModelSession session,
      DynamicBatcher batcher,
      Runnable onClosed) {
    return new LoadedVersion(
        model,
        number,
        config,
        ModelConfigs.Kind.ONNX,
        fingerprint,
        session,
        batcher,
        null,
        onClosed);
  }

  static LoadedVersion generation(
      String model,
      long number,
      ModelConfig config,
      String fingerprint,
      GenerationModel generation,
      Runnable onClosed) {
    return new LoadedVersion(
        model,
        number,
        config,
        ModelConfigs.Kind.GENERATION,
        fingerprint,
        null,
        null,
        generation,
        onClosed);
  }

  /** Whether the configuration says decoupled (several responses per request). */
  boolean decoupled() {
    return config.hasModelTransactionPolicy() && config.getModelTransactionPolicy().getDecoupled();
  }

  /** The batcher of a plain model. */
  DynamicBatcher batcher() {
    return batcher;
  }

  /** The model of a generation model. */
  GenerationModel generation() {
    return generation;
  }

  /**
   * Takes a reference for a request.
   *
   * @return false when the version has already closed (the caller looks again)
   */
  boolean tryRetain() {
    while (true) {
      int count = references.get();
      if (count <= 0) {
        return false;
      }
      if (references.compareAndSet(count, count + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the version. */
  void release() {
    if (references.decrementAndGet() == 0) {
      close();
    }
  }

  /** Drops the manager's reference: called once, when the version stops serving. */
  void retire() {
    release();
  }

  /** Whether the version has closed. */
  boolean isClosed() {
    return references.get() <= 0;
  }

  private void close() {
    try {
      if (batcher != null) {
        batcher.close();
      }
      if (session != null) {
        session.close();
      }
      if (generation != null) {
        generation.close();
      }
    } finally {
      onClosed.run();
    }
  }

  @Override
  public String toString() {
    return "LoadedVersion '" + model + "' " + number + " (" + kind + ")";
  }
}
