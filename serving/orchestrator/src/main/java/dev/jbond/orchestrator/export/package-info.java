/** Export of trained weights as ONNX models and as a Triton model repository. */
package dev.jbond.orchestrator.export;
