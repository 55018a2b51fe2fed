/**
 * The ONNX intermediate representation as protobuf messages ({@code ModelProto}, {@code
 * GraphProto}, {@code NodeProto}, {@code TensorProto}, ...), generated at build time from jbond's
 * own schema {@code src/main/proto/jbond_onnx.proto}. The schema follows the published ONNX field
 * numbers (proto2, package {@code onnx}), so these classes read and write the files that PyTorch,
 * the {@code onnx} Python package and ONNX Runtime use, byte for byte. Code outside this module
 * normally works with {@link dev.jbond.onnx.graph.Graph} instead.
 */
package dev.jbond.onnx.proto;
