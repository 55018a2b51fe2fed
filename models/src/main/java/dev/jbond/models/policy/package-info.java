/**
 * A policy's files, whoever wrote them: jbond's own decoder directory ({@link
 * dev.jbond.models.decoder.ModelDirectory}) or a causal language model exported to ONNX from
 * PyTorch or Hugging Face ({@link dev.jbond.models.policy.ExportDirectory}), behind one view
 * ({@link dev.jbond.models.policy.PolicyFiles}); and how a learner's weights reach the graph a
 * sampler runs ({@link dev.jbond.models.policy.WeightMapping}).
 */
package dev.jbond.models.policy;
