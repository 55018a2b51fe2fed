package dev.jbond.tests;

import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.ServedAdapters;
import dev.jbond.serving.TritonLoraPublisher;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.lora.LoraTensors;
import dev.jbond.serving.triton.TritonDatatype;
import io.grpc.ClientInterceptor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One embedded server whose models take FP32 LoRA adapters per request, a LoRA learner on {@link
 * TinyJbond#CONFIG} ({@link LoraOverTritonTest#lora}), and a sampler that sends the adapters of
 * {@link #adapters}; {@link #publisher()} publishes to them.
 */
final class LoraServing implements AutoCloseable {
  final TritonServing serving;
  final OrtPolicyLearner learner;
  final TritonSampler sampler;
  final ServedAdapters adapters = new ServedAdapters();

  private LoraServing(TritonServing serving, OrtPolicyLearner learner, int maxNewTokens) {
    this.serving = serving;
    this.learner = learner;
    this.sampler =
        TritonSampler.builder(
                serving.client, SamplingConfig.builder().setMaxNewTokens(maxNewTokens).build())
            .optAdapters(adapters)
            .build();
  }

  /**
   * Writes the model and the repository under {@code dir} and starts them.
   *
   * @param dir a fresh folder
   * @param cacheBytes the server's host adapter cache
   * @param maxNewTokens the sampler's completion length
   * @param interceptor the client's interceptor, or null
   */
  static LoraServing start(
      Path dir, long cacheBytes, int maxNewTokens, ClientInterceptor interceptor)
      throws IOException {
    Path repo = dir.resolve("repo");
    TritonServing.writeLoraRoles(
        repo, DecoderWeights.initialize(TinyJbond.CONFIG), TritonDatatype.FP32, cacheBytes);
    OrtPolicyLearner learner =
        OrtPolicyLearner.create(
            LoraOverTritonTest.lora(LoraOverTritonTest.model(dir.resolve("model"))),
            TinyJbond.learnerConfig());
    TritonServing serving;
    try {
      serving = TritonServing.startFleet(List.of(repo), 64, interceptor);
    } catch (IOException | RuntimeException e) {
      learner.close();
      throw e;
    }
    return new LoraServing(serving, learner, maxNewTokens);
  }

  /** A publisher of FP32 adapters to this server and sampler. */
  TritonLoraPublisher publisher() {
    return new TritonLoraPublisher(serving.client, sampler, adapters, LoraTensors.Dtype.FP32);
  }

  @Override
  public void close() {
    sampler.close();
    learner.close();
    serving.close();
  }
}
