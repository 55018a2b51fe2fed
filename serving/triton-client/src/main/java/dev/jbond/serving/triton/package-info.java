/**
 * Triton Inference Server over gRPC: {@link dev.jbond.serving.triton.TritonClient} (asynchronous,
 * deadlines, retries with jittered backoff, client-side round robin over health-checked endpoints,
 * TLS and mutual TLS), its configuration records, and {@link dev.jbond.serving.triton.TritonTensor}
 * / {@link dev.jbond.serving.triton.TritonTensors} for Triton's tensor data rules.
 *
 * <p>The protocol messages and stubs are generated at build time from this module's own protos
 * (package {@code inference}, service {@code GRPCInferenceService}) into {@code
 * dev.jbond.serving.triton.proto}. gRPC exceptions never leave this package: failures surface as
 * {@link dev.jbond.BackendException}.
 */
package dev.jbond.serving.triton;
