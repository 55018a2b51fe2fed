/**
 * jbond's ONNX engine: ONNX models built, read and written in Java and run on ONNX Runtime.
 *
 * <p>Sub-packages: {@code proto} (the ONNX IR as protobuf classes generated from our own schema),
 * {@code graph} (a mutable graph model with a fluent op builder, tensors, and model files with
 * external data), {@code ort} (ONNX Runtime sessions, the shared environment, and the closeable
 * base of every native-backed object), {@code autodiff} (gradient graphs in standard ONNX ops) and
 * {@code train} (the ONNX Runtime policy learner). This package holds the types they share.
 */
package dev.jbond.onnx;
