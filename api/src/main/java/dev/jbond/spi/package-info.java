/**
 * Backend contracts (the SPI) of a J-BOND run: {@link dev.jbond.spi.PolicySampler}, {@link
 * dev.jbond.spi.RewardModel}, {@link dev.jbond.spi.PolicyLearner}, {@link
 * dev.jbond.spi.WeightPublisher} and {@link dev.jbond.spi.CheckpointStore}, plus the provider and
 * registry types through which engines are found.
 */
package dev.jbond.spi;
