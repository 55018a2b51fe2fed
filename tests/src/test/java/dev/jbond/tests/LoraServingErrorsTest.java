package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.PolicyRole;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.ServedAdapters;
import dev.jbond.serving.TritonLoraPublisher;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded server's LoRA inputs fail as TensorRT-LLM's backend does, in one line: an unknown
 * task without weights ("not found in cache"), a cache too small for the adapter ("PEFT Cache is
 * full", which the publisher retries, then reports in one line), weights without their config, a
 * module the model does not adapt, and adapters sent to a model that serves none.
 */
class LoraServingErrorsTest {
  private static ModelInferRequest request(String model, List<TritonTensor> lora) {
    List<TritonTensor> inputs = new ArrayList<>();
    inputs.add(TritonTensor.ofInt32("input_ids", new long[] {1, 2}, 1, 2));
    inputs.add(TritonTensor.ofInt32("input_lengths", new long[] {1, 1}, 2));
    inputs.add(TritonTensor.ofInt32("request_output_len", new long[] {1, 1}, 2));
    inputs.addAll(lora);
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setId("r");
    TritonTensors.setInputs(b, inputs);
    return b.build();
  }

  private static String failure(TritonServing serving, ModelInferRequest request) {
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> serving.client.modelInfer(request, TritonCallOptions.defaults()).get());
    return e.getCause().getMessage();
  }

  @Test
  void malformedOrUnknownAdapters_failInOneLine(@TempDir Path dir) throws IOException {
    Path repo = dir.resolve("repo");
    TritonServing.writeLoraRoles(
        repo, DecoderWeights.initialize(TinyJbond.CONFIG), TritonDatatype.FP32, 1 << 20);
    // a model without LoRA beside them
    TritonServing.writeRoles(
        dir.resolve("plain"),
        DecoderWeights.initialize(TinyJbond.CONFIG),
        OptionalInt.empty(),
        OptionalInt.empty());
    try (TritonServing serving = TritonServing.start(repo, 64);
        TritonServing plain = TritonServing.start(dir.resolve("plain"), 64)) {
      TritonTensor task = TritonTensor.ofUint64("lora_task_id", new long[] {1, 1}, 42L);
      assertTrue(
          failure(serving, request("jbond-policy", List.of(task)))
              .contains("LoRA task 42 not found in cache. Please send LoRA weights with request"));

      TritonTensor weights =
          TritonTensor.ofFp32("lora_weights", new long[] {1, 1, 4 * 64}, new float[4 * 64]);
      assertTrue(
          failure(serving, request("jbond-policy", List.of(task, weights)))
              .contains("Expected both lora_weights and lora_config or neither for model"));

      TritonTensor config =
          TritonTensor.ofInt32("lora_config", new long[] {1, 1, 3}, 7, 0, 4); // mlp_gate
      String gate = failure(serving, request("jbond-policy", List.of(task, weights, config)));
      assertTrue(
          gate.contains(
              "Expected LoRA modules and layers that model 'jbond-policy:1' adapts in row 0 of"
                  + " lora_config, found module 7 (mlp_gate) in layer 0"),
          gate);

      String none = failure(plain, request("jbond-policy", List.of(task)));
      assertTrue(
          none.contains(
              "Expected no LoRA inputs for model 'jbond-policy', which serves no adapters (its"
                  + " configuration sets no lora_cache_host_memory_bytes), found lora_task_id"),
          none);
    }
  }

  @Test
  void cacheSmallerThanTheAdapter_publisherReportsItInOneLine(@TempDir Path dir)
      throws IOException {
    // one adapter is 20,480 bytes in FP32
    try (LoraServing s = LoraServing.start(dir, 10_000, 4, null)) {
      OrtPolicyLearner learner = s.learner;
      ServedAdapters adapters = s.adapters;
      TritonLoraPublisher publisher = s.publisher();
      BackendException e =
          assertThrows(
              BackendException.class, () -> publisher.publish(learner, PolicyRole.POLICY, 1));
      assertEquals(BackendException.Code.RESOURCE_EXHAUSTED, e.code());
      assertTrue(e.getMessage().startsWith("Expected room for LoRA task "), e.getMessage());
      assertTrue(
          e.getMessage().contains("PEFT Cache is full. Could not store taskId="), e.getMessage());
      assertTrue(!e.getMessage().contains("\n"), "one line");
      assertTrue(adapters.get(PolicyRole.POLICY).isEmpty(), "nothing published");
    }
  }
}
