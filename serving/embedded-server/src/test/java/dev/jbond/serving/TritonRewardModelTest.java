package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.demo.DemoAssets;
import dev.jbond.models.reward.OrtRewardModel;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reward over Triton: the demo reward model served by the embedded server scores exactly as the
 * same ONNX model in process, across several requests; served tensors that do not fit are one line
 * before any request.
 */
class TritonRewardModelTest {
  private static final long SEED = 31;

  @TempDir Path repo;
  private EmbeddedTritonServer server;
  private ManagedChannel channel;
  private TritonClient client;

  @BeforeEach
  void setUp() throws Exception {
    DemoAssets.writeReward(repo, 0);
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

  private static List<Generation> generations(int count) {
    SplittableRandom random = new SplittableRandom(SEED);
    List<Generation> out = new ArrayList<>();
    for (Prompt p : GenerationServers.prompts(count, SEED)) {
      int[] completion = new int[random.nextInt(12)];
      for (int k = 0; k < completion.length; k++) {
        completion[k] = 2 + random.nextInt(250);
      }
      out.add(Generation.of(p, TokenSequence.of(completion), new ModelVersion("policy", 1)));
    }
    return out;
  }

  @Test
  void scores_equalTheModelInProcess() throws Exception {
    List<Generation> generations = generations(23);
    double[] expected;
    try (OrtRewardModel local =
        OrtRewardModel.builder(repo.resolve("reward/1/model.onnx"))
            .optSessionConfig(GenerationServers.SESSION)
            .build()) {
      expected = local.score(generations);
    }
    try (TritonRewardModel served =
        TritonRewardModel.builder(client, "reward").optMaxBatchRows(5).build()) {
      double[] actual = served.score(generations); // 5 requests: 5, 5, 5, 5 and 3 rows
      assertEquals(expected.length, actual.length);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], actual[i], 1e-6, "generation " + i);
      }
    }
  }

  @Test
  void tensorsThatDoNotFit_areOneLine() {
    try (TritonRewardModel logits =
        TritonRewardModel.builder(client, "reward").optOutputName("logits").build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> logits.score(generations(1)));
      assertEquals(
          "Expected reward model 'reward' to have output 'logits', found no such output (it has:"
              + " [score])",
          e.getMessage());
    }
    try (TritonRewardModel label =
        TritonRewardModel.builder(client, "reward").optLabel(1).build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> label.score(generations(1)));
      assertEquals(
          "Expected reward.label in [0, 1) for output 'score' of reward model 'reward' (shape [-1,"
              + " 1]), found 1",
          e.getMessage());
    }
    try (TritonRewardModel ids =
        TritonRewardModel.builder(client, "reward").optInputIdsName("tokens").build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> ids.score(generations(1)));
      assertEquals(
          "Expected reward model 'reward' to have input 'tokens', found no such input (it has:"
              + " [input_ids, attention_mask])",
          e.getMessage());
    }
  }
}
