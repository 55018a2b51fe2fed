package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.PolicyRole;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery of a generation model's tensors: the embedded server completes a {@code jbond-generate}
 * configuration that lists none (as Triton completes ONNX configurations), so {@code ModelMetadata}
 * lists the TensorRT-LLM profile; the sampler checks the served tensors before its first request
 * and refuses a model whose tensors differ in one line.
 */
class ServedTensorsTest {
  private static final long SEED = 7;

  @TempDir Path repo;
  private EmbeddedTritonServer server;
  private ManagedChannel channel;
  private TritonClient client;

  private void write(ModelConfig config) throws Exception {
    TrtLlmModelConfig.write(
        repo,
        config,
        1,
        DecoderWeights.initialize(GenerationServers.decoder(SEED)),
        OptionalInt.of(GenerationServers.EOS),
        OptionalInt.of(GenerationServers.PAD));
  }

  private static ModelConfig bare(String name, int maxBatchSize) {
    return ModelConfig.newBuilder()
        .setName(name)
        .setBackend(TrtLlmModelConfig.BACKEND)
        .setMaxBatchSize(maxBatchSize)
        .build();
  }

  @BeforeEach
  void setUp() throws Exception {
    write(bare("bare", 0));
    write(bare("bare-batched", 8));
    write(
        TrtLlmModelConfig.config(
            "int64-seed", 8, false, TensorProfile.trtLlm().withSeedDatatype(TritonDatatype.INT64)));
    String name = GenerationServers.uniqueName();
    server = GenerationServers.startInProcess(repo, name);
    channel = GenerationServers.inProcessChannel(name);
    client =
        GenerationServers.client(
            List.of(new TritonChannel("embedded", channel)), Duration.ofHours(1), SEED);
  }

  @AfterEach
  void tearDown() {
    client.close();
    GenerationServers.shutdown(channel);
    server.close();
  }

  private Map<String, String> tensors(List<ModelMetadataResponse.TensorMetadata> list) {
    return list.stream()
        .collect(
            Collectors.toMap(
                ModelMetadataResponse.TensorMetadata::getName,
                t -> t.getDatatype() + t.getShapeList()));
  }

  @Test
  void aConfigWithoutTensors_isCompletedWithTheProfile() throws Exception {
    for (String model : List.of("bare", "bare-batched")) {
      ModelMetadataResponse metadata = client.modelMetadata(model, "", defaults()).get();
      Map<String, String> inputs = tensors(metadata.getInputsList());
      assertEquals("INT32[-1, -1]", inputs.get("input_ids"), model);
      assertEquals("INT32[-1, 1]", inputs.get("input_lengths"), model);
      assertEquals("UINT64[-1, 1]", inputs.get("seed"), model);
      assertEquals("FP32[-1, 1]", inputs.get("temperature"), model);
      assertEquals("BOOL[-1, 1]", inputs.get("return_log_probs"), model);
      // the LoRA inputs, optional, as TensorRT-LLM's shipped configuration lists them
      assertEquals("UINT64[-1, 1]", inputs.get("lora_task_id"), model);
      assertEquals("FP16[-1, -1, -1]", inputs.get("lora_weights"), model);
      assertEquals("INT32[-1, -1, 3]", inputs.get("lora_config"), model);
      assertEquals(14, inputs.size(), model);
      Map<String, String> outputs = tensors(metadata.getOutputsList());
      assertEquals("INT32[-1, -1, -1]", outputs.get("output_ids"), model);
      assertEquals("INT32[-1, -1]", outputs.get("sequence_length"), model);
      assertEquals("FP32[-1, -1, -1]", outputs.get("output_log_probs"), model);
      assertEquals(5, outputs.size(), model);
      ModelConfig config = client.modelConfig(model, "", defaults()).get();
      assertEquals(14, config.getInputCount(), model);
    }
    // and the sampler, which checks them first, samples from it
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(4))
            .optModelName(PolicyRole.POLICY, "bare-batched")
            .build()) {
      assertEquals(
          6, sampler.sample(GenerationServers.prompts(3, SEED), 2, PolicyRole.POLICY, SEED).size());
    }
  }

  @Test
  void servedTensorsOfAnotherType_areOneLineBeforeAnyRequest() {
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(4))
            .optModelName(PolicyRole.POLICY, "int64-seed")
            .build()) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> sampler.sample(GenerationServers.prompts(1, SEED), 1, PolicyRole.POLICY, SEED));
      assertEquals(
          "Expected input 'seed' of model 'int64-seed' to be UINT64 of rank 2, found INT64 of rank"
              + " 2 (shape [-1, 1])",
          e.getMessage());
    }
    try (TritonSampler sampler =
        TritonSampler.builder(client, GenerationServers.sampling(4))
            .optModelName(PolicyRole.POLICY, "bare")
            .optProfile(TensorProfile.trtLlm().withName(TensorProfile.Slot.SEED, "random_seed"))
            .build()) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> sampler.sample(GenerationServers.prompts(1, SEED), 1, PolicyRole.POLICY, SEED));
      assertEquals(
          true,
          e.getMessage()
              .startsWith(
                  "Expected model 'bare' to have input 'random_seed' (UINT64 of rank 2), found no"
                      + " such input (it has: [input_ids, "),
          e.getMessage());
    }
  }

  private static dev.jbond.serving.triton.TritonCallOptions defaults() {
    return dev.jbond.serving.triton.TritonCallOptions.defaults();
  }
}
