/**
 * ONNX Runtime integration: the process-wide {@code OrtEnvironment} behind a lazy holder ({@link
 * dev.jbond.onnx.ort.OrtEnvironments}), sessions opened from a {@link dev.jbond.onnx.graph.Graph},
 * bytes or a model file ({@link dev.jbond.onnx.ort.OrtSessions}, {@link
 * dev.jbond.onnx.ort.SessionConfig}), tensor conversions, and {@link
 * dev.jbond.onnx.ort.OrtResource}, the closeable base of every class that owns native state.
 *
 * <p>{@code OrtException} never leaves this package: it is wrapped in {@link
 * dev.jbond.BackendException} with a {@link dev.jbond.BackendException.Code}. ONNX Runtime's
 * training API is not used (it is absent from the Linux builds, and some of its methods crash the
 * JVM there); training runs as ordinary inference sessions over gradient graphs.
 */
package dev.jbond.onnx.ort;
