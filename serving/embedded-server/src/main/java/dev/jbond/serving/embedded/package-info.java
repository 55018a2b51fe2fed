/**
 * The embedded Triton-protocol server: {@link dev.jbond.serving.embedded.EmbeddedTritonServer}
 * serves a Triton-layout model repository ({@link dev.jbond.serving.embedded.ModelRepository}) over
 * Triton's gRPC service {@code inference.GRPCInferenceService}.
 *
 * <p>Plain ONNX models (reward models, any ONNX graph) behave like Triton's ONNX Runtime backend:
 * named tensors, {@code max_batch_size}, dynamic batching with a bounded queue and per-request
 * deadlines. Generation models (config {@code backend: "jbond-generate"}) are dispatched to a
 * {@link dev.jbond.serving.embedded.GenerationModel} made by the {@link
 * dev.jbond.serving.embedded.GenerationModelFactory} given to the server. Everything that is not
 * public is an implementation detail of the server.
 */
package dev.jbond.serving.embedded;
