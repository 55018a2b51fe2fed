package dev.jbond.onnx.ort;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/** How much ONNX Runtime rewrites a graph before running it. */
public enum OptimizationLevel {
  /** No rewriting. */
  NONE(OptLevel.NO_OPT),
  /** Semantics-preserving rewrites only: constant folding, redundant-node removal. */
  BASIC(OptLevel.BASIC_OPT),
  /** Basic plus op fusions (e.g. attention, GELU, LayerNorm fusions). */
  EXTENDED(OptLevel.EXTENDED_OPT),
  /** Everything, including layout changes; ONNX Runtime's own default. */
  ALL(OptLevel.ALL_OPT);

  private final OptLevel ort;

  OptimizationLevel(OptLevel ort) {
    this.ort = ort;
  }

  OptLevel ort() {
    return ort;
  }
}
