/** Finite-difference checks of the gradient rules. */
package dev.jbond.onnx.autodiff;
