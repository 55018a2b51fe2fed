/**
 * Jbond's serving SPI implementations over Triton's protocol: {@link
 * dev.jbond.serving.TritonSampler} (a {@link dev.jbond.spi.PolicySampler} that samples through a
 * {@link dev.jbond.serving.triton.TritonClient}), {@link dev.jbond.serving.TritonWeightPublisher}
 * (a {@link dev.jbond.spi.WeightPublisher} that loads new weights with RepositoryModelLoad) and the
 * {@link dev.jbond.serving.TensorProfile} of tensor names and datatypes they share with the
 * embedded server's generation models.
 */
package dev.jbond.serving;
