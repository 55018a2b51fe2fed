package dev.jbond.spi;

/**
 * What one optimizer step reports.
 *
 * @param step the learner's step count after this step (1 after the first step)
 * @param loss the value of {@code sum_s w_s log pi(s)} before the update
 * @param gradientNorm the global L2 norm of the gradient before clipping
 * @param learningRate the learning rate used for this step
 */
public record StepOutcome(long step, double loss, double gradientNorm, double learningRate) {}
