/**
 * Tests of generation: the sampling rule on hand-made logits, per-sequence seeds, agreement of the
 * sampler's log-probs with the full-sequence graph, chi-square tests of the sampled token
 * frequencies, determinism across batch compositions, the KV cache against recomputation, bad
 * input, the {@link dev.jbond.testing.PolicySamplerContract} and in-place publishing of the direct
 * sampler, and an opt-in throughput benchmark.
 */
package dev.jbond.models.generate;
