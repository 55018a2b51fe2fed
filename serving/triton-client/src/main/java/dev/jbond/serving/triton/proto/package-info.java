/**
 * Protocol messages and gRPC stubs of Triton's {@code inference.GRPCInferenceService}, generated at
 * build time from this module's {@code src/main/proto} (our own protos, wire-compatible with
 * Triton's). Only this file is written by hand; the classes are regenerated on every build and must
 * not be edited. Use them through {@link dev.jbond.serving.triton.TritonClient} and {@link
 * dev.jbond.serving.triton.TritonTensors}.
 */
package dev.jbond.serving.triton.proto;
