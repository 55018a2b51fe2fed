/** Tests of supervised fine-tuning through the ONNX Runtime learner. */
package dev.jbond.models.sft;
