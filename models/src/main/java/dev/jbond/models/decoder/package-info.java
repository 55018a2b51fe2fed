/**
 * jbond's own GPT-style causal decoder, emitted as ONNX graphs through {@code
 * dev.jbond.onnx.graph}: the architecture's hyperparameters ({@link
 * dev.jbond.models.decoder.DecoderConfig}), its parameters ({@link
 * dev.jbond.models.decoder.DecoderWeights}, seeded GPT-2 initialisation or existing weights), the
 * full-sequence and KV-cache decode graphs over one set of weights ({@link
 * dev.jbond.models.decoder.DecoderBuilder}) and the model directory that holds both graphs, their
 * shared external weights and a small metadata file ({@link
 * dev.jbond.models.decoder.ModelDirectory}).
 */
package dev.jbond.models.decoder;
