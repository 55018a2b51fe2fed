/**
 * Tests against the real ONNX Runtime (CPU): graphs built with {@code dev.jbond.onnx.graph} run and
 * give the values computed in Java, at several opsets; external-data models load from a path; the
 * re-serialised torch exports reproduce torch's logits; sessions close idempotently; failures come
 * out as {@code BackendException} with a code.
 */
package dev.jbond.onnx.ort;
