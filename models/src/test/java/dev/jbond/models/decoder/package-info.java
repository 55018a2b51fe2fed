/**
 * Tests of the decoder: configuration checks, seeded initialisation, the model directory, the
 * agreement of the full-sequence and KV-cache decode graphs under ONNX Runtime, padding invariance,
 * agreement with the torch-exported GPT-2 fixture of onnx-training, and whole-model
 * finite-difference checks of the gradient builder in float64.
 */
package dev.jbond.models.decoder;
