/**
 * Unit tests of the graph model: building, naming, producer and consumer maps, topological order,
 * lossless load and write of torch exports, opset-dependent op forms, type notes, tensors, and
 * model files with external data.
 */
package dev.jbond.onnx.graph;
