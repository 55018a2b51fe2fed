package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.proto.InferParameter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TensorRT-LLM generation model called directly: concurrent requests are decoded in one batch
 * with the same results as each alone, decoupled batched requests answer one response per row with
 * batch_index, and malformed requests fail with messages naming the tensor.
 */
class TrtLlmGenerationModelTest {
  @TempDir Path dir;
  private ModelVersionDirectory version;

  /** Records what the model answers. */
  private static final class Recorder implements GenerationResponder {
    final List<List<TritonTensor>> responses = new CopyOnWriteArrayList<>();
    final CompletableFuture<Boolean> done = new CompletableFuture<>();

    @Override
    public void send(List<TritonTensor> outputs, boolean last) {
      responses.add(outputs);
      if (last) {
        done.complete(true);
      }
    }

    @Override
    public void complete() {
      done.complete(true);
    }

    @Override
    public void fail(Throwable error) {
      done.completeExceptionally(error);
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    Map<String, TritonTensor> last() throws Exception {
      done.get(20, TimeUnit.SECONDS);
      Map<String, TritonTensor> out = new LinkedHashMap<>();
      for (TritonTensor t : responses.get(responses.size() - 1)) {
        out.put(t.name(), t);
      }
      return out;
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(40)
            .setContextLength(32)
            .setLayers(1)
            .setWidth(16)
            .setHeads(2)
            .setSeed(3)
            .optInitStd(0.3)
            .build();
    ModelDirectory.write(
        dir.resolve("1"), DecoderWeights.initialize(config), OptionalInt.of(1), OptionalInt.of(0));
    version = new ModelVersionDirectory(1, dir.resolve("1"));
  }

  private static TrtLlmGenerationModel.Settings settings(Duration window) {
    return TrtLlmGenerationModel.Settings.defaults()
        .withSessionConfig(TestModels.SESSION)
        .withBatchWindow(window);
  }

  private static GenerationRequest request(int row, boolean decoupled, int batch) {
    Map<String, TritonTensor> inputs = new LinkedHashMap<>();
    int[] ids = new int[3 * batch];
    int[] lengths = new int[batch];
    long[] seeds = new long[batch];
    for (int b = 0; b < batch; b++) {
      for (int k = 0; k < 3; k++) {
        ids[b * 3 + k] = 2 + (row * 7 + b * 3 + k) % 38;
      }
      lengths[b] = 3;
      seeds[b] = 1000L * row + b;
    }
    long[] column = {batch, 1};
    inputs.put("input_ids", TritonTensor.ofInt32("input_ids", new long[] {batch, 3}, ids));
    inputs.put("input_lengths", TritonTensor.ofInt32("input_lengths", column, lengths));
    inputs.put(
        "request_output_len",
        TritonTensor.ofInt32("request_output_len", column, filled(batch, 10)));
    inputs.put("end_id", TritonTensor.ofInt32("end_id", column, filled(batch, 1)));
    inputs.put("seed", TritonTensor.ofUint64("seed", column, seeds));
    inputs.put(
        "return_log_probs", TritonTensor.ofBools("return_log_probs", new long[] {1, 1}, true));
    return new GenerationRequest(
        "gen", 1, "r" + row, inputs, Map.of(), List.of(), Optional.empty(), decoupled);
  }

  private static int[] filled(int count, int value) {
    int[] out = new int[count];
    Arrays.fill(out, value);
    return out;
  }

  @Test
  void generate_concurrentRequests_decodedInOneBatchEqualToAlone() throws Exception {
    List<Map<String, TritonTensor>> alone = new ArrayList<>();
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("alone", version, settings(Duration.ZERO))) {
      for (int r = 0; r < 8; r++) {
        Recorder recorder = new Recorder();
        model.generate(request(r, false, 1), recorder);
        alone.add(recorder.last());
      }
      assertEquals(8, model.batchCount());
    }
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("batched", version, settings(Duration.ofMillis(200)))) {
      List<Recorder> recorders = new ArrayList<>();
      for (int r = 0; r < 8; r++) {
        Recorder recorder = new Recorder();
        recorders.add(recorder);
        model.generate(request(r, false, 1), recorder);
      }
      for (int r = 0; r < 8; r++) {
        Map<String, TritonTensor> out = recorders.get(r).last();
        assertArrayEquals(
            alone.get(r).get("output_ids").toInts(), out.get("output_ids").toInts(), "row " + r);
        assertArrayEquals(
            new long[] {1, 1, alone.get(r).get("sequence_length").toInts()[0]},
            out.get("output_ids").shape());
        float[] expected = alone.get(r).get("output_log_probs").toFloats();
        float[] actual = out.get("output_log_probs").toFloats();
        assertEquals(expected.length, actual.length);
        for (int k = 0; k < expected.length; k++) {
          assertEquals(expected[k], actual[k], 1e-5, "row " + r + " token " + k);
        }
      }
      assertEquals(1, model.batchCount());
    }
  }

  /** One row, prompt {@code [5, 6, 7]}, no end id, {@code length} new tokens, seed 9. */
  private static GenerationRequest single(String id, int length) {
    Map<String, TritonTensor> inputs = new LinkedHashMap<>();
    long[] one = {1, 1};
    inputs.put("input_ids", TritonTensor.ofInt32("input_ids", new long[] {1, 3}, 5, 6, 7));
    inputs.put("input_lengths", TritonTensor.ofInt32("input_lengths", one, 3));
    inputs.put("request_output_len", TritonTensor.ofInt32("request_output_len", one, length));
    inputs.put("seed", TritonTensor.ofUint64("seed", one, 9));
    return new GenerationRequest(
        "gen", 1, id, inputs, Map.of(), List.of(), Optional.empty(), false);
  }

  @Test
  void generate_shortRequestBehindALongOne_joinsTheRunningBatchAndIsAnsweredFirst()
      throws Exception {
    List<String> answered = new CopyOnWriteArrayList<>();
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("inflight", version, settings(Duration.ZERO))) {
      Recorder alone = new Recorder();
      model.generate(single("alone", 2), alone);
      int[] expected = alone.last().get("output_ids").toInts();
      Recorder longOne = new Recorder();
      Recorder shortOne = new Recorder();
      longOne.done.thenRun(() -> answered.add("long"));
      shortOne.done.thenRun(() -> answered.add("short"));
      // hold the long request's batch after its first step until the short one is queued, so
      // that a slow test thread cannot let the long one finish before the short one arrives
      CountDownLatch shortQueued = new CountDownLatch(1);
      model.afterEachStep(
          () -> {
            try {
              shortQueued.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      model.generate(single("long", 29), longOne);
      model.generate(single("short", 2), shortOne);
      shortQueued.countDown();
      assertArrayEquals(expected, shortOne.last().get("output_ids").toInts());
      assertEquals(3 + 29, longOne.last().get("output_ids").toInts().length);
      // a batch that ran to its end before taking new rows would answer "long" first
      assertEquals(List.of("short", "long"), answered);
    }
  }

  private static GenerationRequest withBurst(GenerationRequest request, InferParameter burst) {
    return new GenerationRequest(
        request.model(),
        request.version(),
        request.id(),
        request.inputs(),
        Map.of(TensorProfile.BURST_PARAMETER, burst),
        request.outputs(),
        request.deadline(),
        request.decoupled());
  }

  @Test
  void generate_announcedBurstArrivingSpreadOut_decodedInOneBatch() throws Exception {
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("burst", version, settings(Duration.ZERO))) {
      List<Recorder> recorders = new ArrayList<>();
      for (int r = 0; r < 4; r++) {
        Recorder recorder = new Recorder();
        recorders.add(recorder);
        model.generate(
            withBurst(request(r, false, 1), InferParameter.newBuilder().setInt64Param(4).build()),
            recorder);
        Thread.sleep(2);
      }
      for (Recorder recorder : recorders) {
        recorder.last();
      }
      assertEquals(1, model.batchCount());
    }
  }

  @Test
  void generate_badBurstParameter_failsNamingIt() throws Exception {
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("burst", version, settings(Duration.ZERO))) {
      Recorder recorder = new Recorder();
      model.generate(
          withBurst(request(0, false, 1), InferParameter.newBuilder().setBoolParam(true).build()),
          recorder);
      Throwable error = recorder.done.handle((v, e) -> e).get(5, TimeUnit.SECONDS);
      assertInstanceOf(IllegalArgumentException.class, error);
      assertTrue(
          error
              .getMessage()
              .startsWith("Expected parameter 'jbond_burst_rows' to be an int64 >= 0"),
          error.getMessage());
    }
  }

  @Test
  void generate_decoupledBatch_oneResponsePerRowWithBatchIndex() throws Exception {
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open("decoupled", version, settings(Duration.ZERO))) {
      Recorder recorder = new Recorder();
      model.generate(request(0, true, 3), recorder);
      recorder.last();
      assertEquals(3, recorder.responses.size());
      for (int b = 0; b < 3; b++) {
        TritonTensor index =
            recorder.responses.get(b).stream()
                .filter(t -> t.name().equals("batch_index"))
                .findFirst()
                .orElseThrow();
        assertArrayEquals(new int[] {b}, index.toInts());
      }
    }
  }

  @Test
  void generate_wrongTemperatureDatatype_failsNamingTheTensor() throws Exception {
    try (TrtLlmGenerationModel model =
        TrtLlmGenerationModel.open(
            "bad", version, settings(Duration.ZERO).withProfile(TensorProfile.trtLlm()))) {
      GenerationRequest good = request(0, false, 1);
      Map<String, TritonTensor> inputs = new LinkedHashMap<>(good.inputs());
      inputs.put("temperature", TritonTensor.ofInt32("temperature", new long[] {1, 1}, 1));
      Recorder recorder = new Recorder();
      model.generate(
          new GenerationRequest(
              "gen", 1, "bad", inputs, Map.of(), List.of(), Optional.empty(), false),
          recorder);
      Throwable error = recorder.done.handle((v, e) -> e).get(5, TimeUnit.SECONDS);
      assertInstanceOf(IllegalArgumentException.class, error);
      assertEquals(
          "Expected datatype FP32 for inference input 'temperature' of model 'gen', found INT32",
          error.getMessage());
      assertTrue(recorder.responses.isEmpty());
    }
  }
}
