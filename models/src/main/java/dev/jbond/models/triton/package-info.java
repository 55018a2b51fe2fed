/**
 * The Triton model repository layout ({@code <repo>/<model>/config.pbtxt} and {@code
 * <repo>/<model>/<version>/model.onnx} + data): {@link dev.jbond.models.triton.TritonModelConfig},
 * the subset of Triton's {@code ModelConfig} jbond writes, as protobuf text, and {@link
 * dev.jbond.models.triton.TritonRepository}, which writes models into a repository.
 */
package dev.jbond.models.triton;
