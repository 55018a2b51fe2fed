/** Reverse-mode automatic differentiation over ONNX graphs, in standard ONNX ops. */
package dev.jbond.onnx.autodiff;
