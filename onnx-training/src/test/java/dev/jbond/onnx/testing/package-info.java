/**
 * Shared test fixtures of onnx-training: the torch-exported GPT-2-style models and their reference
 * logits.
 */
package dev.jbond.onnx.testing;
