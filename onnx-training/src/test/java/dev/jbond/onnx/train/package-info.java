/**
 * Tests of the ONNX Runtime learner: the {@link dev.jbond.spi.PolicyLearner} conformance suite,
 * log-probabilities and gradients against independent computations, training, snapshots, export,
 * AdamW and the learning-rate schedule, and clear errors for bad models and bad input.
 */
package dev.jbond.onnx.train;
