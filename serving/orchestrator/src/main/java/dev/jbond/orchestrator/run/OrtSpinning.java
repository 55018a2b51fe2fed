package dev.jbond.orchestrator.run;

import dev.jbond.onnx.ort.SessionConfig;

/**
 * Whether ONNX Runtime's intra-op threads spin-wait between runs, for the commands that run them
 * beside gRPC's threads ({@code bond serve}, {@code bond bench sample}, a run's sessions).
 *
 * <p>Spinning shortens the hand-off between runs when the threads have cores to themselves, and
 * takes the cores away from the network threads when they do not. Measured (BENCHMARKS.md, issue
 * 5): on 2 cores with 2 ONNX Runtime threads, turning spinning off made the embedded server's gRPC
 * paths 5-15% faster and even the in-process sampler faster; on 16 cores with 2 threads, spinning
 * was faster. Unless the user says, threads spin only when at least {@value #SPARE_CORES} cores are
 * left to everything else.
 */
public final class OrtSpinning {
  /** Cores left to the JVM's other threads below which spinning is off unless asked for. */
  public static final int SPARE_CORES = 4;

  /** ONNX Runtime's session option; "0" stops the spinning. */
  public static final String ALLOW_SPINNING = "session.intra_op.allow_spinning";

  private OrtSpinning() {}

  /**
   * Decides whether the intra-op threads spin.
   *
   * @param requested the user's choice ({@code --spin} / {@code --no-spin}), null when none
   * @param intraOpThreads the intra-op thread count, 0 for ONNX Runtime's choice (one per core)
   * @param cores the cores this JVM may use
   * @return whether to let them spin
   */
  public static boolean spin(Boolean requested, int intraOpThreads, int cores) {
    if (requested != null) {
      return requested;
    }
    int ortThreads = intraOpThreads == 0 ? cores : intraOpThreads;
    return cores - ortThreads >= SPARE_CORES;
  }

  /**
   * Sets the choice on a session builder.
   *
   * @param session the builder
   * @param spin whether the threads spin
   * @return the builder
   */
  public static SessionConfig.Builder apply(SessionConfig.Builder session, boolean spin) {
    return spin ? session : session.optConfigEntry(ALLOW_SPINNING, "0");
  }
}
