package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.InferTensorContents;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelConfigRequest;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataRequest;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import dev.jbond.serving.triton.proto.ServerLiveRequest;
import dev.jbond.serving.triton.proto.ServerMetadataRequest;
import dev.jbond.serving.triton.proto.ServerMetadataResponse;
import dev.jbond.serving.triton.proto.ServerReadyRequest;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The embedded server's health, metadata and ModelInfer over the in-process transport, with the
 * reward-model-like graph served at {@code max_batch_size: 8}: results against direct ONNX Runtime,
 * dynamic batching of concurrent clients, deadlines while queued, the bounded queue, malformed
 * requests and the RPCs it does not implement.
 */
class EmbeddedTritonServerTest {
  private static final long SEED = 20260301L;
  private static final Graph REWARD = TestModels.reward(1);

  @TempDir Path repo;
  private final ManualClock clock = new ManualClock();
  private EmbeddedServerFixture fixture;

  @BeforeEach
  void setUp() throws Exception {
    TestModels.writeModel(repo, "rm", 1, REWARD, TestModels.REWARD_CONFIG);
    TestModels.writeModel(
        repo,
        "rm_small_queue",
        1,
        REWARD,
        TestModels.REWARD_CONFIG
            .replace("\"rm\"", "\"rm_small_queue\"")
            .replace(
                "max_queue_delay_microseconds: 1000 }",
                "max_queue_delay_microseconds: 1000 default_queue_policy { max_queue_size: 2 } }"));
    TestModels.writeModel(repo, "auto", 1, REWARD, null);
    fixture = EmbeddedServerFixture.start(repo, b -> b.optClock(clock));
  }

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  private static ModelInferRequest request(String model, String id, TritonTensor... inputs) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName(model).setId(id), List.of(inputs))
        .build();
  }

  private static float[] scores(ModelInferResponse response) {
    return TritonTensors.output(response, "score").toFloats();
  }

  private StatusRuntimeException inferFails(ModelInferRequest request) {
    return assertThrows(StatusRuntimeException.class, () -> fixture.blocking().modelInfer(request));
  }

  // ---- health and metadata ----

  @Test
  void healthAndMetadataRpcs_answerLikeTriton() {
    assertTrue(fixture.blocking().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    assertTrue(fixture.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    ServerMetadataResponse server =
        fixture.blocking().serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertEquals("jbond", server.getName());
    assertTrue(server.getExtensionsList().contains("model_repository"));
    assertTrue(
        fixture
            .blocking()
            .modelReady(ModelReadyRequest.newBuilder().setName("rm").build())
            .getReady());
    assertTrue(
        fixture
            .blocking()
            .modelReady(ModelReadyRequest.newBuilder().setName("rm").setVersion("1").build())
            .getReady());
    assertFalse(
        fixture
            .blocking()
            .modelReady(ModelReadyRequest.newBuilder().setName("rm").setVersion("2").build())
            .getReady());
    assertFalse(
        fixture
            .blocking()
            .modelReady(ModelReadyRequest.newBuilder().setName("x").build())
            .getReady());

    ModelMetadataResponse metadata =
        fixture.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName("rm").build());
    assertEquals("onnxruntime_onnx", metadata.getPlatform());
    assertEquals(List.of("1"), metadata.getVersionsList());
    assertEquals("input_ids", metadata.getInputs(0).getName());
    assertEquals("INT64", metadata.getInputs(0).getDatatype());
    assertEquals(List.of(-1L, -1L), metadata.getInputs(0).getShapeList());
    assertEquals("FP32", metadata.getOutputs(0).getDatatype());
    assertEquals(List.of(-1L, 1L), metadata.getOutputs(0).getShapeList());

    ModelConfig config =
        fixture
            .blocking()
            .modelConfig(ModelConfigRequest.newBuilder().setName("rm").build())
            .getConfig();
    assertEquals(8, config.getMaxBatchSize());
    assertEquals(1000, config.getDynamicBatching().getMaxQueueDelayMicroseconds());

    StatusRuntimeException unknown =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
    assertEquals(
        "Request for unknown model: 'nope' is not found", unknown.getStatus().getDescription());
  }

  @Test
  void modelConfig_withoutConfigFile_isCompletedFromTheOnnxModel() {
    ModelConfig config =
        fixture
            .blocking()
            .modelConfig(ModelConfigRequest.newBuilder().setName("auto").build())
            .getConfig();

    assertEquals("auto", config.getName());
    assertEquals("onnxruntime_onnx", config.getPlatform());
    assertEquals(4, config.getMaxBatchSize());
    assertTrue(config.hasDynamicBatching());
    assertEquals(List.of(-1L), config.getInput(0).getDimsList());
    assertEquals(List.of(1L), config.getOutput(0).getDimsList());
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 2, 3);
    ModelInferResponse response =
        fixture.blocking().modelInfer(request("auto", "a", TestModels.ids(2, 3, ids)));
    assertArrayEquals(TestModels.directScores(REWARD, 2, 3, ids), scores(response), 1e-6f);
  }

  @Test
  void repositoryModelLoad_modelAddedAfterStartWithExternalData_servesIt() throws Exception {
    Path dir = repo.resolve("external").resolve("1");
    Files.createDirectories(dir);
    REWARD.save(dir.resolve("model.onnx"), 16);
    assertTrue(Files.exists(dir.resolve("model.onnx.data")));
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 2, 3);

    fixture
        .blocking()
        .repositoryModelLoad(
            RepositoryModelLoadRequest.newBuilder().setModelName("external").build());
    ModelInferResponse response =
        fixture.blocking().modelInfer(request("external", "e", TestModels.ids(2, 3, ids)));

    assertArrayEquals(TestModels.directScores(REWARD, 2, 3, ids), scores(response), 1e-6f);
  }

  // ---- inference ----

  @Test
  void modelInfer_rawAndTypedContents_equalDirectOrtScores() {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 3, 5);
    float[] expected = TestModels.directScores(REWARD, 3, 5, ids);

    ModelInferResponse raw =
        fixture.blocking().modelInfer(request("rm", "raw", TestModels.ids(3, 5, ids)));
    ModelInferRequest.Builder typed =
        ModelInferRequest.newBuilder().setModelName("rm").setId("typed");
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    for (long id : ids) {
      contents.addInt64Contents(id);
    }
    typed.addInputs(
        ModelInferRequest.InferInputTensor.newBuilder()
            .setName("input_ids")
            .setDatatype("INT64")
            .addShape(3)
            .addShape(5)
            .setContents(contents));
    ModelInferResponse fromTyped = fixture.blocking().modelInfer(typed.build());

    assertEquals("rm", raw.getModelName());
    assertEquals("1", raw.getModelVersion());
    assertEquals("raw", raw.getId());
    assertEquals(List.of(3L, 1L), raw.getOutputs(0).getShapeList());
    assertEquals("FP32", raw.getOutputs(0).getDatatype());
    assertArrayEquals(expected, scores(raw), 1e-6f);
    assertArrayEquals(expected, scores(fromTyped), 1e-6f);
  }

  @Test
  void modelInfer_sixteenConcurrentClients_areBatchedAndEachGetsItsOwnScores() throws Exception {
    int clients = 16;
    int perClient = 8;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        TritonClient triton = fixture.client(SEED + c);
        done.add(
            pool.submit(
                () -> {
                  SplittableRandom random = new SplittableRandom(SEED * 31 + client);
                  // two sequence lengths: requests of different lengths must run in separate
                  // batches
                  int length = client % 2 == 0 ? 6 : 9;
                  int rows = 1 + client % 3;
                  for (int i = 0; i < perClient; i++) {
                    long[] ids = TestModels.tokens(random, rows, length);
                    ModelInferResponse response =
                        triton
                            .modelInfer(
                                request("rm", client + "-" + i, TestModels.ids(rows, length, ids)),
                                TritonCallOptions.defaults())
                            .get(10, TimeUnit.SECONDS);
                    assertArrayEquals(
                        TestModels.directScores(REWARD, rows, length, ids),
                        scores(response),
                        1e-6f,
                        "request " + client + "-" + i);
                  }
                  return perClient;
                }));
      }
      int requests = 0;
      for (Future<Integer> future : done) {
        requests += future.get(60, TimeUnit.SECONDS);
      }

      List<BatchInfo> batches = fixture.recorder.batches;
      int batchedRequests = batches.stream().mapToInt(b -> b.requestIds().size()).sum();
      assertEquals(requests, batchedRequests);
      assertTrue(
          batches.size() < requests,
          "Expected fewer ORT runs than requests, found " + batches.size() + " for " + requests);
      assertTrue(batches.stream().allMatch(b -> b.rows() <= 8), "batch over max_batch_size");
      assertTrue(batches.stream().anyMatch(b -> b.requestIds().size() > 1));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void modelInfer_queueTimeoutPassesWhileQueued_failsDeadlineExceededAndNeverRuns()
      throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 4);
    fixture.recorder.hold();
    CompletableFuture<ModelInferResponse> first =
        CompletableFuture.supplyAsync(
            () -> fixture.blocking().modelInfer(request("rm", "first", TestModels.ids(1, 4, ids))));
    fixture.recorder.awaitBatchStarted();
    ModelInferRequest timed =
        request("rm", "timed", TestModels.ids(1, 4, ids)).toBuilder()
            .putParameters("timeout", TritonTensors.int64Parameter(1000))
            .build();
    CompletableFuture<ModelInferResponse> second =
        CompletableFuture.supplyAsync(() -> fixture.blocking().modelInfer(timed));
    fixture.awaitQueued("rm", 1);

    clock.advance(Duration.ofMillis(2));
    fixture.recorder.open();

    assertArrayEquals(
        TestModels.directScores(REWARD, 1, 4, ids), scores(first.get(10, TimeUnit.SECONDS)), 1e-6f);
    Exception failure = assertThrows(Exception.class, () -> second.get(10, TimeUnit.SECONDS));
    StatusRuntimeException status = (StatusRuntimeException) failure.getCause();
    assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getStatus().getCode());
    assertTrue(
        status.getStatus().getDescription().startsWith("Request timeout expired: request 'timed'"),
        status.getStatus().getDescription());
    fixture.blocking().modelInfer(request("rm", "after", TestModels.ids(1, 4, ids)));
    assertFalse(fixture.recorder.ran("timed"));
    assertTrue(fixture.recorder.ran("after"));
  }

  @Test
  void modelInfer_clientDeadlinePassesWhileQueued_requestNeverRuns() throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 4);
    fixture.recorder.hold();
    CompletableFuture<ModelInferResponse> first =
        CompletableFuture.supplyAsync(
            () -> fixture.blocking().modelInfer(request("rm", "first", TestModels.ids(1, 4, ids))));
    fixture.recorder.awaitBatchStarted();

    StatusRuntimeException late =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .modelInfer(request("rm", "late", TestModels.ids(1, 4, ids))));
    fixture.recorder.open();
    first.get(10, TimeUnit.SECONDS);
    fixture.blocking().modelInfer(request("rm", "after", TestModels.ids(1, 4, ids)));

    assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
    assertFalse(fixture.recorder.ran("late"));
    assertEquals(0, fixture.server.queuedRequests("rm"));
  }

  @Test
  void modelInfer_queueFull_failsUnavailableAndQueuedRequestsStillRun() throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 4);
    fixture.recorder.hold();
    List<CompletableFuture<ModelInferResponse>> admitted = new ArrayList<>();
    admitted.add(
        CompletableFuture.supplyAsync(
            () ->
                fixture
                    .blocking()
                    .modelInfer(request("rm_small_queue", "running", TestModels.ids(1, 4, ids)))));
    fixture.recorder.awaitBatchStarted();
    for (String id : List.of("queued-1", "queued-2")) {
      admitted.add(
          CompletableFuture.supplyAsync(
              () ->
                  fixture
                      .blocking()
                      .modelInfer(request("rm_small_queue", id, TestModels.ids(1, 4, ids)))));
    }
    fixture.awaitQueued("rm_small_queue", 2);

    StatusRuntimeException full =
        inferFails(request("rm_small_queue", "rejected", TestModels.ids(1, 4, ids)));
    fixture.recorder.open();

    assertEquals(Status.Code.UNAVAILABLE, full.getStatus().getCode());
    assertEquals(
        "Exceeds maximum queue size: model 'rm_small_queue' version 1 has 2 requests queued, the"
            + " limit is 2",
        full.getStatus().getDescription());
    for (CompletableFuture<ModelInferResponse> future : admitted) {
      assertEquals(1, scores(future.get(10, TimeUnit.SECONDS)).length);
    }
    assertFalse(fixture.recorder.ran("rejected"));
  }

  // ---- malformed requests ----

  @Test
  void modelInfer_unknownModelOrVersion_failsNotFound() {
    TritonTensor ids = TestModels.ids(1, 2, new long[] {1, 2});
    StatusRuntimeException model = inferFails(request("nope", "a", ids));
    StatusRuntimeException version =
        inferFails(request("rm", "b", ids).toBuilder().setModelVersion("7").build());

    assertEquals(Status.Code.NOT_FOUND, model.getStatus().getCode());
    assertEquals(
        "Request for unknown model: 'nope' is not found", model.getStatus().getDescription());
    assertEquals(Status.Code.NOT_FOUND, version.getStatus().getCode());
    assertEquals(
        "Request for unknown model: 'rm' version 7 is not found, available versions: [1]",
        version.getStatus().getDescription());
  }

  @Test
  void modelInfer_malformedInputs_failInvalidArgumentNamingTheTensor() {
    long[] ids = {1, 2, 3, 4};
    ModelInferRequest missing = ModelInferRequest.newBuilder().setModelName("rm").build();
    ModelInferRequest unexpected =
        request(
            "rm",
            "u",
            TestModels.ids(1, 4, ids),
            TritonTensor.ofInt64("attention_mask", new long[] {1, 4}, ids));
    ModelInferRequest wrongType =
        request("rm", "t", TritonTensor.ofInt32("input_ids", new long[] {1, 4}, 1, 2, 3, 4));
    ModelInferRequest wrongRank =
        request("rm", "r", TritonTensor.ofInt64("input_ids", new long[] {4}, ids));
    ModelInferRequest tooBig =
        request("rm", "b", TestModels.ids(9, 1, new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    ModelInferRequest shortRaw =
        ModelInferRequest.newBuilder()
            .setModelName("rm")
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("input_ids")
                    .setDatatype("INT64")
                    .addShape(1)
                    .addShape(4))
            .addRawInputContents(ByteString.copyFrom(new byte[24]))
            .build();
    ModelInferRequest extraRaw =
        request("rm", "x", TestModels.ids(1, 4, ids)).toBuilder()
            .addRawInputContents(ByteString.copyFrom(new byte[8]))
            .build();
    ModelInferRequest unknownOutput =
        TritonTensors.setRequestedOutputs(
                request("rm", "o", TestModels.ids(1, 4, ids)).toBuilder(), List.of("logits"))
            .build();
    ModelInferRequest reserved =
        request("rm", "p", TestModels.ids(1, 4, ids)).toBuilder()
            .putParameters("triton_secret", TritonTensors.boolParameter(true))
            .build();

    String[][] cases = {
      {message(missing), "Expected inference input 'input_ids' for model 'rm', found inputs []"},
      {
        message(unexpected),
        "Unexpected inference input 'attention_mask' for model 'rm', expected inputs [input_ids]"
      },
      {
        message(wrongType),
        "Expected datatype INT64 for inference input 'input_ids' of model 'rm', found INT32"
      },
      {
        message(wrongRank),
        "Expected shape [-1, -1] for inference input 'input_ids' of model 'rm', found [4]"
      },
      {
        message(tooBig),
        "Expected batch size in [1, 8] (max_batch_size) for inference input 'input_ids' of model"
            + " 'rm', found 9"
      },
      {
        message(shortRaw),
        "Expected 32 bytes of INT64 data for shape [1, 4] of tensor 'input_ids', found 24 (model"
            + " 'rm')"
      },
      {
        message(extraRaw),
        "Expected 1 raw_input_contents entries (one per input) in the request for model 'rm',"
            + " found 2"
      },
      {
        message(unknownOutput),
        "Unexpected inference output 'logits' for model 'rm', expected one of [score]"
      },
      {
        message(reserved),
        "Parameter 'triton_secret' is reserved for Triton usage and cannot be set in a request"
      },
    };
    for (String[] c : cases) {
      assertEquals(c[1], c[0]);
    }
    assertTrue(fixture.recorder.batches.isEmpty());
  }

  private String message(ModelInferRequest request) {
    StatusRuntimeException e = inferFails(request);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getMessage());
    return e.getStatus().getDescription();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ModelStatistics",
        "SystemSharedMemoryStatus",
        "SystemSharedMemoryRegister",
        "CudaSharedMemoryUnregister",
        "TraceSetting",
        "LogSettings"
      })
  void rpcsOutsideTheEmbeddedServer_answerUnimplementedNamingTheRpc(String rpc) {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> rawCall("inference.GRPCInferenceService/" + rpc));

    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    assertEquals(
        "The " + rpc + " RPC is not implemented by the jbond embedded Triton server",
        e.getStatus().getDescription());
  }

  @Test
  void otherServices_answerUnimplementedNamingTheMethod() {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> rawCall("grpc.health.v1.Health/Check"));

    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    assertEquals(
        "Unknown method 'grpc.health.v1.Health/Check': the jbond embedded Triton server serves"
            + " only inference.GRPCInferenceService",
        e.getStatus().getDescription());
  }

  private InputStream rawCall(String method) {
    MethodDescriptor.Marshaller<InputStream> bytes =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(InputStream value) {
            return value;
          }

          @Override
          public InputStream parse(InputStream stream) {
            return stream;
          }
        };
    MethodDescriptor<InputStream, InputStream> descriptor =
        MethodDescriptor.newBuilder(bytes, bytes)
            .setFullMethodName(method)
            .setType(MethodDescriptor.MethodType.UNARY)
            .build();
    return ClientCalls.blockingUnaryCall(
        fixture.channel,
        descriptor,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        new ByteArrayInputStream(new byte[0]));
  }
}
