/**
 * Supervised fine-tuning through the J-BOND learner: the weighted sequence log-likelihood with
 * weight {@code -1/B} per sequence, on prompt/completion pairs (loss on completion tokens only).
 */
package dev.jbond.models.sft;
