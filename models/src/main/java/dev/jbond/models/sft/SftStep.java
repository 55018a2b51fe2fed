package dev.jbond.models.sft;

/**
 * What one supervised fine-tuning step did.
 *
 * @param step the learner's step count after this step
 * @param loss the mean over the batch of the completion's negative log-likelihood (nats)
 * @param lossPerToken the negative log-likelihood per completion token (nats)
 * @param tokens completion tokens in the batch
 * @param learningRate the learning rate of the step
 * @param gradientNorm the global gradient norm before clipping
 * @param millis wall-clock milliseconds of the step
 */
public record SftStep(
    long step,
    double loss,
    double lossPerToken,
    long tokens,
    double learningRate,
    double gradientNorm,
    double millis) {}
