/**
 * Generation from jbond's decoders on ONNX Runtime: the sampling rule ({@link
 * dev.jbond.models.generate.SamplingConfig}: temperature, top-k, top-p, max new tokens, EOS), the
 * per-sequence seeds ({@link dev.jbond.models.generate.SequenceSeeds}), batched samplers of prompts
 * x samples over the KV-cache decode graph ({@link dev.jbond.models.generate.KvCacheSampler}) and,
 * as the no-cache baseline, over the full-sequence graph ({@link
 * dev.jbond.models.generate.FullSequenceSampler}), and the in-process {@link
 * dev.jbond.spi.PolicySampler} with in-place publishing ({@link
 * dev.jbond.models.generate.DirectSampler}).
 *
 * <p>{@code OrtException} never leaves this package: it is wrapped in {@link
 * dev.jbond.BackendException}.
 */
package dev.jbond.models.generate;
