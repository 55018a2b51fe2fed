package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.loop.JbondLoop;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.LearnerPublisher;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.onnx.train.PolicyModel;
import dev.jbond.orchestrator.export.Exporter;
import dev.jbond.serving.ServedAdapters;
import dev.jbond.serving.TritonLoraPublisher;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.lora.LoraExports;
import dev.jbond.serving.lora.LoraTensors;
import dev.jbond.serving.lora.SafeTensors;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.WeightPublisher;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA J-BOND with adapters published per request to a fleet of three embedded servers that serve
 * policy and anchor from one base model, whose host caches hold one adapter each (so publishing the
 * anchor evicts the policy's task, and samplers meet "not found in cache" and send the weights
 * again): the run's metrics equal those of the same LoRA run in process (adapters merged into the
 * sampler's weights), step for step.
 */
class LoraOverTritonTest {
  private static final int STEPS = 5;

  static LoraPolicy lora(ModelDirectory model) throws IOException {
    return LoraPolicy.create(
        PolicyModel.load(model.fullGraph()),
        new LoraSpec(
            4,
            8.0,
            EnumSet.of(
                LoraModule.ATTN_QKV,
                LoraModule.ATTN_DENSE,
                LoraModule.MLP_H_TO_4H,
                LoraModule.MLP_4H_TO_H),
            7));
  }

  static ModelDirectory model(Path dir) throws IOException {
    return ModelDirectory.write(
        dir, DecoderWeights.initialize(TinyJbond.CONFIG), OptionalInt.empty(), OptionalInt.empty());
  }

  private static List<StepMetrics> run(
      OrtPolicyLearner learner, PolicySampler sampler, WeightPublisher publisher) {
    List<StepMetrics> metrics = new ArrayList<>();
    try (JbondLoop loop =
        TinyJbond.loop(sampler, learner, publisher).optMetricsSink(metrics::add).build()) {
      loop.run(STEPS);
    }
    return metrics;
  }

  /**
   * What the client sends for an adapter, byte for byte: rows built here from the documented layout
   * (A [r, in] row-major, then B [out, r] row-major times alpha / r, zero-padded to the widest row;
   * config rows module id, layer, rank) against the raw {@code lora_weights} and {@code
   * lora_config} of the request the publisher sent, in FP32 (FP16 and BF16 rounding:
   * LoraTensorsTest).
   */
  @Test
  void publish_sendsTheDocumentedRows(@TempDir Path dir) throws IOException {
    List<ModelInferRequest> sent = new ArrayList<>();
    ClientInterceptor capture =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                next.newCall(method, options)) {
              @Override
              public void sendMessage(Q message) {
                if (message instanceof ModelInferRequest r) {
                  synchronized (sent) {
                    sent.add(r);
                  }
                }
                super.sendMessage(message);
              }
            };
          }
        };
    try (LoraServing s = LoraServing.start(dir, 1 << 20, 8, capture)) {
      OrtPolicyLearner learner = s.learner;
      LoraPolicy lora = learner.lora().orElseThrow();
      // B = 0 at first: train a few steps so that both matrices carry values
      TritonLoraPublisher publisher = s.publisher();
      try (JbondLoop loop = TinyJbond.loop(s.sampler, learner, publisher).build()) {
        loop.run(2);
      }
      sent.clear();
      publisher.publish(learner, PolicyRole.POLICY, 7);
      List<LoraAdapter> values = lora.adapters(learner.weights(PolicyRole.POLICY));
      double scale = lora.spec().alpha() / lora.spec().rank();
      int width = 0;
      for (LoraAdapter a : values) {
        width = Math.max(width, a.rank() * (a.in() + a.out()));
      }
      ByteBuffer rows =
          ByteBuffer.allocate(values.size() * width * 4).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer config = ByteBuffer.allocate(values.size() * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (LoraAdapter a : values) {
        int start = rows.position();
        for (float v : a.a()) {
          rows.putFloat(v);
        }
        for (float v : a.b()) {
          rows.putFloat((float) (v * scale));
        }
        rows.position(start + width * 4);
        config.putInt(a.module().id()).putInt(a.layer()).putInt(a.rank());
      }
      assertEquals(1, sent.size(), "one request per endpoint carries the adapter");
      ModelInferRequest request = sent.get(0);
      Map<String, ByteString> raw = new java.util.HashMap<>();
      for (int i = 0; i < request.getInputsCount(); i++) {
        raw.put(request.getInputs(i).getName(), request.getRawInputContents(i));
      }
      assertEquals(ByteString.copyFrom(rows.array()), raw.get("lora_weights"));
      assertEquals(ByteString.copyFrom(config.array()), raw.get("lora_config"));
      assertTrue(raw.containsKey("lora_task_id"));
      assertTrue(values.stream().anyMatch(a -> a.b()[0] != 0f), "the adapters have left B = 0");
    }
  }

  @Test
  void fleetWithSmallCaches_metricsEqualTheInProcessLoraRun(@TempDir Path dir) throws IOException {
    ModelDirectory model = model(dir.resolve("model"));
    List<StepMetrics> inProcess;
    try (OrtPolicyLearner learner =
            OrtPolicyLearner.create(lora(model), TinyJbond.learnerConfig());
        DirectSampler sampler =
            DirectSampler.builder(model, SamplingConfig.builder().setMaxNewTokens(8).build())
                .build()) {
      inProcess = run(learner, sampler, new LearnerPublisher(sampler));
    }

    List<Path> repos = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path repo = dir.resolve("repo" + i);
      // one adapter of this model in FP32 is 8 rows x 640 values x 4 bytes = 20,480 bytes
      TritonServing.writeLoraRoles(
          repo, DecoderWeights.initialize(TinyJbond.CONFIG), TritonDatatype.FP32, 30_000);
      repos.add(repo);
    }
    List<StepMetrics> fleet;
    long resends;
    ServedAdapters adapters = new ServedAdapters();
    try (TritonServing serving = TritonServing.startFleet(repos, 64);
        OrtPolicyLearner learner = OrtPolicyLearner.create(lora(model), TinyJbond.learnerConfig());
        TritonSampler sampler =
            TritonSampler.builder(
                    serving.client, SamplingConfig.builder().setMaxNewTokens(8).build())
                .optAdapters(adapters)
                // one base model serves both roles' adapters, as one engine would: the roles'
                // tasks share each replica's cache
                .optModelName(PolicyRole.ANCHOR, "jbond-policy")
                .build()) {
      TritonLoraPublisher publisher =
          new TritonLoraPublisher(serving.client, sampler, adapters, LoraTensors.Dtype.FP32);
      fleet = run(learner, sampler, publisher);
      resends = sampler.loraWeightResends();
      // the export: merged ONNX with the learner's log-probabilities, PEFT and TensorRT-LLM files
      Path out = dir.resolve("export");
      Exporter.exportOne(learner, PolicyRole.POLICY, model, "jbond-policy", out);
      List<Generation> probe =
          sampler.sample(TinyJbond.prompts().subList(0, 2), 2, PolicyRole.POLICY, 3);
      try (OrtPolicyLearner merged =
          OrtPolicyLearner.open(out.resolve("policy/model.onnx"), TinyJbond.learnerConfig())) {
        double[] expected = learner.logProbs(PolicyRole.POLICY, probe);
        double[] actual = merged.logProbs(PolicyRole.POLICY, probe);
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], actual[i], 1e-4, "merged export, sequence " + i);
        }
      }
      Map<String, SafeTensors.Tensor> peft =
          SafeTensors.read(out.resolve("policy/lora/" + LoraExports.PEFT_WEIGHTS));
      assertEquals(16, peft.size(), peft.keySet().toString());
      assertTrue(peft.containsKey("base_model.model.h.1.mlp.c_fc.lora_B.weight"));
      assertTrue(
          Files.isRegularFile(out.resolve("policy/lora/trtllm/1/" + LoraExports.TRT_WEIGHTS)));
      // the served adapters are the learner's: samples carry the adapter's version
      List<Prompt> prompts = TinyJbond.prompts().subList(0, 2);
      for (Generation g : sampler.sample(prompts, 2, PolicyRole.POLICY, 1)) {
        assertEquals((long) STEPS, g.model().version(), "served version");
      }
    }

    assertTrue(resends > 0, "the small caches forced resends with weights: " + resends);
    assertEquals(inProcess.size(), fleet.size());
    for (int i = 0; i < STEPS; i++) {
      StepMetrics a = inProcess.get(i);
      StepMetrics b = fleet.get(i);
      String step = "step " + a.step();
      assertEquals(a.rewardMean(), b.rewardMean(), 1e-9, step);
      assertEquals(a.anchorRewardMean(), b.anchorRewardMean(), 1e-9, step);
      assertEquals(a.winRate(), b.winRate(), 1e-9, step);
      assertEquals(a.completionLength(), b.completionLength(), 1e-9, step);
      assertEquals(a.loss(), b.loss(), 1e-5 * (1 + Math.abs(a.loss())), step);
      assertEquals(a.klAnchor(), b.klAnchor(), 1e-5, step);
      assertEquals(a.gradientNorm(), b.gradientNorm(), 1e-5 * (1 + a.gradientNorm()), step);
      assertTrue(b.extras().get("samplerLogProbError") < 1e-3, step + ": sync");
    }
    System.out.printf(
        "LoRA fleet (3 endpoints, caches of one adapter): %d requests resent with weights; final"
            + " reward %.4f in process, %.4f over the fleet%n",
        resends, inProcess.get(STEPS - 1).rewardMean(), fleet.get(STEPS - 1).rewardMean());
  }
}
