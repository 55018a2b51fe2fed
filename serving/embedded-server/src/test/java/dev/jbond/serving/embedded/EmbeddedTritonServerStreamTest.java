package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.Graph;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import dev.jbond.serving.triton.proto.RepositoryIndexRequest;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelStreamInfer on the embedded server: one final response per request for plain models, in-band
 * errors that leave the stream open, and dispatch to generation models through the hook (a
 * decoupled fake streaming three responses and an empty final one, single-response fakes over
 * ModelInfer, and the errors Triton gives for the wrong transaction policy).
 */
class EmbeddedTritonServerStreamTest {
  private static final long SEED = 20260303L;
  private static final Graph REWARD = TestModels.reward(1);

  @TempDir Path repo;
  private final List<GenerationRequest> generated = new CopyOnWriteArrayList<>();
  private final List<String> generatorsClosed = new CopyOnWriteArrayList<>();
  private final ExecutorService generatorThread = Executors.newSingleThreadExecutor();
  private EmbeddedServerFixture fixture;

  /**
   * A fake generation model whose config parameter {@code mode} says how it answers: {@code
   * stream3} sends three responses {@code output_ids = [last input + k]} (k = 1..3) from its own
   * thread and completes; {@code single} sends one last response; {@code double} sends two.
   */
  private final class FakeGenerator implements GenerationModel {
    private final String mode;
    private final String name;

    FakeGenerator(String name, String mode) {
      this.name = name;
      this.mode = mode;
    }

    @Override
    public void generate(GenerationRequest request, GenerationResponder responder) {
      generated.add(request);
      int[] ids = request.inputs().get("input_ids").toInts();
      int last = ids[ids.length - 1];
      switch (mode) {
        case "stream3" ->
            generatorThread.execute(
                () -> {
                  for (int k = 1; k <= 3; k++) {
                    responder.send(List.of(outputIds(last + k)), false);
                  }
                  responder.complete();
                });
        case "single" -> responder.send(List.of(outputIds(last + 1)), true);
        case "double" -> {
          responder.send(List.of(outputIds(last + 1)), false);
          responder.send(List.of(outputIds(last + 2)), true);
        }
        default -> responder.fail(new IllegalArgumentException("Unknown mode '" + mode + "'"));
      }
    }

    @Override
    public void close() {
      generatorsClosed.add(name);
    }
  }

  private static TritonTensor outputIds(int id) {
    return TritonTensor.ofInt32("output_ids", new long[] {1}, id);
  }

  private void writeGenerator(String name, String mode, boolean decoupled) throws Exception {
    Path dir = repo.resolve(name);
    Files.createDirectories(dir.resolve("1"));
    Files.writeString(dir.resolve("1").resolve("weights.txt"), mode);
    Files.writeString(
        dir.resolve(ModelRepository.CONFIG_FILE),
        """
        backend: "jbond-generate"
        max_batch_size: 0
        model_transaction_policy { decoupled: %s }
        input { name: "input_ids" data_type: TYPE_INT32 dims: [ -1 ] }
        output { name: "output_ids" data_type: TYPE_INT32 dims: [ -1 ] }
        parameters { key: "mode" value: { string_value: "%s" } }
        """
            .formatted(decoupled, mode));
  }

  @BeforeEach
  void setUp() throws Exception {
    TestModels.writeModel(repo, "rm", 1, REWARD, TestModels.REWARD_CONFIG);
    writeGenerator("gen", "stream3", true);
    writeGenerator("gen_single", "single", false);
    writeGenerator("gen_double", "double", false);
    fixture =
        EmbeddedServerFixture.start(
            repo,
            b ->
                b.optGenerationModelFactory(
                    (config, version) ->
                        new FakeGenerator(
                            config.getName(),
                            config.getParametersMap().get("mode").getStringValue())));
  }

  @AfterEach
  void tearDown() {
    fixture.close();
    generatorThread.shutdownNow();
  }

  /** Sends the requests on one stream, half-closes it, and returns every message received. */
  private List<ModelStreamInferResponse> stream(List<ModelInferRequest> requests)
      throws InterruptedException {
    List<ModelStreamInferResponse> received = new CopyOnWriteArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<ModelInferRequest> out =
        fixture
            .async()
            .modelStreamInfer(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ModelStreamInferResponse value) {
                    received.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    failure.set(t);
                    done.countDown();
                  }

                  @Override
                  public void onCompleted() {
                    done.countDown();
                  }
                });
    requests.forEach(out::onNext);
    out.onCompleted();
    assertTrue(done.await(10, TimeUnit.SECONDS), "Expected the stream to end");
    assertEquals(null, failure.get());
    return received;
  }

  private static ModelInferRequest request(String model, String id, TritonTensor input) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName(model).setId(id), List.of(input))
        .build();
  }

  private static boolean isFinal(ModelStreamInferResponse message) {
    return message
        .getInferResponse()
        .getParametersMap()
        .get(TritonTensors.FINAL_RESPONSE_PARAMETER)
        .getBoolParam();
  }

  private static ModelStreamInferResponse only(List<ModelStreamInferResponse> messages, String id) {
    List<ModelStreamInferResponse> matching =
        messages.stream().filter(m -> m.getInferResponse().getId().equals(id)).toList();
    assertEquals(1, matching.size(), "messages for " + id);
    return matching.get(0);
  }

  @Test
  void stream_plainModel_answersEachRequestOnceFinal_andErrorsStayInBand() throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 2, 4);
    List<ModelStreamInferResponse> messages =
        stream(
            List.of(
                request("rm", "ok-1", TestModels.ids(2, 4, ids)),
                request("nope", "unknown", TestModels.ids(2, 4, ids)),
                request("rm", "bad-type", TritonTensor.ofInt32("input_ids", new long[] {1, 1}, 3)),
                request("rm", "ok-2", TestModels.ids(2, 4, ids))));

    assertEquals(4, messages.size());
    float[] expected = TestModels.directScores(REWARD, 2, 4, ids);
    for (String id : List.of("ok-1", "ok-2")) {
      ModelStreamInferResponse message = only(messages, id);
      assertEquals("", message.getErrorMessage());
      assertTrue(isFinal(message));
      assertEquals("1", message.getInferResponse().getModelVersion());
      assertArrayEquals(
          expected, TritonTensors.output(message.getInferResponse(), "score").toFloats(), 1e-6f);
    }
    assertEquals(
        "Request for unknown model: 'nope' is not found",
        only(messages, "unknown").getErrorMessage());
    assertEquals(
        "Expected datatype INT64 for inference input 'input_ids' of model 'rm', found INT32",
        only(messages, "bad-type").getErrorMessage());
  }

  @Test
  void stream_decoupledGenerationModel_sendsThreeResponsesThenAnEmptyFinalOne() throws Exception {
    ModelInferRequest request =
        request("gen", "g1", TritonTensor.ofInt32("input_ids", new long[] {3}, 5, 6, 7)).toBuilder()
            .putParameters(
                TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER,
                TritonTensors.boolParameter(true))
            .putParameters("temperature", TritonTensors.doubleParameter(0.5))
            .build();

    List<ModelStreamInferResponse> messages = stream(List.of(request));

    assertEquals(4, messages.size());
    for (int k = 0; k < 3; k++) {
      ModelInferResponse response = messages.get(k).getInferResponse();
      assertEquals("g1", response.getId());
      assertEquals("gen", response.getModelName());
      assertEquals("1", response.getModelVersion());
      assertFalse(isFinal(messages.get(k)));
      assertArrayEquals(new int[] {8 + k}, TritonTensors.output(response, "output_ids").toInts());
    }
    ModelInferResponse last = messages.get(3).getInferResponse();
    assertTrue(isFinal(messages.get(3)));
    assertEquals("g1", last.getId());
    assertEquals(0, last.getOutputsCount());

    GenerationRequest seen = generated.get(0);
    assertEquals("gen", seen.model());
    assertEquals(1, seen.version());
    assertTrue(seen.decoupled());
    assertEquals(List.of("output_ids"), seen.outputs());
    assertEquals(Map.of("temperature", TritonTensors.doubleParameter(0.5)), seen.parameters());
    assertTrue(seen.deadline().isPresent(), "the client's deadline reaches the model");
  }

  @Test
  void stream_decoupledWithoutEmptyFinal_sendsOnlyTheDataResponses_andTheStreamStillEnds()
      throws Exception {
    List<ModelStreamInferResponse> messages =
        stream(
            List.of(
                request("gen", "a", TritonTensor.ofInt32("input_ids", new long[] {1}, 1)),
                request("gen", "b", TritonTensor.ofInt32("input_ids", new long[] {1}, 10))));

    assertEquals(6, messages.size());
    assertTrue(messages.stream().noneMatch(EmbeddedTritonServerStreamTest::isFinal));
    List<Integer> fromB = new ArrayList<>();
    for (ModelStreamInferResponse message : messages) {
      if (message.getInferResponse().getId().equals("b")) {
        fromB.add(TritonTensors.output(message.getInferResponse(), "output_ids").toInts()[0]);
      }
    }
    assertEquals(List.of(11, 12, 13), fromB);
  }

  @Test
  void modelInfer_decoupledModel_failsUnimplemented() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .modelInfer(
                        request("gen", "u", TritonTensor.ofInt32("input_ids", new long[] {1}, 1))));

    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    assertEquals(
        "ModelInfer RPC doesn't support models with decoupled transaction policy (model 'gen'),"
            + " use ModelStreamInfer",
        e.getStatus().getDescription());
  }

  @Test
  void generationModel_notDecoupled_answersModelInferAndStream_andMoreResponsesFailInternal()
      throws Exception {
    ModelInferResponse unary =
        fixture
            .blocking()
            .modelInfer(
                request(
                    "gen_single", "s", TritonTensor.ofInt32("input_ids", new long[] {2}, 4, 41)));
    List<ModelStreamInferResponse> streamed =
        stream(
            List.of(
                request("gen_single", "s2", TritonTensor.ofInt32("input_ids", new long[] {1}, 9)),
                request("gen_double", "d", TritonTensor.ofInt32("input_ids", new long[] {1}, 9))));
    StatusRuntimeException twice =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .modelInfer(
                        request(
                            "gen_double",
                            "d2",
                            TritonTensor.ofInt32("input_ids", new long[] {1}, 9))));

    assertArrayEquals(new int[] {42}, TritonTensors.output(unary, "output_ids").toInts());
    assertEquals(2, streamed.size());
    assertTrue(isFinal(only(streamed, "s2")));
    assertEquals(
        "Expected a single response from model 'gen_double' (not decoupled), got 2",
        only(streamed, "d").getErrorMessage());
    assertEquals(Status.Code.INTERNAL, twice.getStatus().getCode());
    assertEquals(
        "Expected a single response from model 'gen_double' (not decoupled), got 2",
        twice.getStatus().getDescription());
  }

  @Test
  void generationModel_requestIsCheckedAgainstItsConfig() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .modelInfer(
                        request(
                            "gen_single",
                            "x",
                            TritonTensor.ofInt64("input_ids", new long[] {1}, 1))));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals(
        "Expected datatype INT32 for inference input 'input_ids' of model 'gen_single', found INT64",
        e.getStatus().getDescription());
    assertTrue(generated.isEmpty());
  }

  @Test
  void generationModel_unloaded_isClosedByTheServer() {
    fixture.server.close();

    assertTrue(generatorsClosed.containsAll(List.of("gen", "gen_single", "gen_double")));
  }

  @Test
  void generationModel_withoutFactory_failsToLoadWithAClearReason() throws Exception {
    try (EmbeddedServerFixture bare = EmbeddedServerFixture.start(repo)) {
      RepositoryIndexResponse.ModelIndex gen =
          bare.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModels(0);

      assertEquals("gen", gen.getName());
      assertEquals("UNAVAILABLE", gen.getState());
      assertEquals(
          "Model 'gen' version 1: expected a GenerationModelFactory for backend 'jbond-generate'"
              + " (EmbeddedTritonServer.Builder.optGenerationModelFactory), found none",
          gen.getReason());
    }
  }
}
