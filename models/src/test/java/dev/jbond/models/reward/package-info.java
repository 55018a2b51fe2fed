/** Tests of the ONNX reward model and the demo sentiment reward graph. */
package dev.jbond.models.reward;
