/**
 * Reward models on ONNX Runtime: {@link dev.jbond.models.reward.OrtRewardModel}, the {@link
 * dev.jbond.spi.RewardModel} over any ONNX graph from token ids (+ attention mask) to one score per
 * sequence, and {@link dev.jbond.models.reward.SentimentRewardGraph}, the demo's byte-level
 * sentiment reward built as an ONNX graph by our own code.
 *
 * <p>{@code OrtException} never leaves this package: it is wrapped in {@link
 * dev.jbond.BackendException}.
 */
package dev.jbond.models.reward;
