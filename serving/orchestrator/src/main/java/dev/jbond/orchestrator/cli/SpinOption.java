package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.run.OrtSpinning;
import picocli.CommandLine.Option;

/** The {@code --spin} / {@code --no-spin} option of the commands that serve over gRPC. */
final class SpinOption {
  @Option(
      names = "--spin",
      negatable = true,
      description =
          "Whether ONNX Runtime's intra-op threads spin-wait between runs (--spin / --no-spin)."
              + " Default: only when at least 4 cores are left beside them; spinning takes the cores"
              + " that gRPC's threads need on small machines (BENCHMARKS.md, issue 5).")
  Boolean spin;

  /**
   * Decides for {@code intraOpThreads} threads on this JVM's cores ({@link OrtSpinning#spin}).
   *
   * @param intraOpThreads the intra-op thread count, 0 for ONNX Runtime's choice
   * @return whether the threads spin
   */
  boolean resolve(int intraOpThreads) {
    return OrtSpinning.spin(spin, intraOpThreads, Runtime.getRuntime().availableProcessors());
  }
}
