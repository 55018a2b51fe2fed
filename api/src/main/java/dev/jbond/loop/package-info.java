/**
 * The J-BOND training loop, written against the SPI: sample policy and anchor, score, compute
 * log-probabilities and weights, take an optimizer step, update the anchor, publish, report metrics
 * and checkpoint. Sampling for the next step can overlap learning of the current one.
 */
package dev.jbond.loop;
