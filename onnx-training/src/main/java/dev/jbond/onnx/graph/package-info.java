/**
 * A mutable ONNX graph model and a fluent builder for it, used by jbond's decoder builder and its
 * reverse-mode gradient builder.
 *
 * <p>{@link dev.jbond.onnx.graph.Graph} holds nodes, values, initializers, graph inputs and outputs
 * and opset imports, with producer and consumer maps, unique names and topological order; it loads
 * from and writes back to {@code ModelProto} without losing what it does not model. {@link
 * dev.jbond.onnx.graph.Ops} emits common ops in the form the graph's opset expects. {@link
 * dev.jbond.onnx.graph.Tensor} is an immutable tensor, {@link dev.jbond.onnx.graph.TensorType},
 * {@link dev.jbond.onnx.graph.Shape} and {@link dev.jbond.onnx.graph.Dim} describe value types, and
 * {@link dev.jbond.onnx.graph.ModelFiles} reads and writes model files with external data.
 */
package dev.jbond.onnx.graph;
