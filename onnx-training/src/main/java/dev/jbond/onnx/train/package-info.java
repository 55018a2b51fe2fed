/**
 * Training on ONNX Runtime: the ONNX Runtime implementation of {@link dev.jbond.spi.PolicyLearner}
 * ({@link dev.jbond.onnx.train.OrtPolicyLearner}), the policy-model contract ({@link
 * dev.jbond.onnx.train.PolicyModel}), the optimizer ({@link dev.jbond.onnx.train.AdamW}), its
 * learning-rate schedule and the learner's configuration.
 *
 * <p>The learner builds two graphs from the policy (sequence log-probabilities, and the weighted
 * log-likelihood with its backward pass from {@link dev.jbond.onnx.autodiff.GradientBuilder}),
 * feeds the parameters of each role zero-copy from direct buffers, receives gradients in place as
 * pinned outputs, and runs AdamW in Java. ONNX Runtime's training API is never used.
 */
package dev.jbond.onnx.train;
