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
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelConfigRequest;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataRequest;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.ModelRepositoryParameter;
import dev.jbond.serving.triton.proto.RepositoryIndexRequest;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import dev.jbond.serving.triton.proto.RepositoryModelUnloadRequest;
import dev.jbond.serving.triton.proto.ServerReadyRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository RPCs of the embedded server: index and readiness with a broken model, loads with
 * {@code config} and {@code file:} overrides, hot swap mid-traffic (no request lost, in-flight
 * requests finish on the old version, which closes afterwards), unload, and load errors.
 */
class EmbeddedTritonServerRepositoryTest {
  private static final long SEED = 20260302L;
  private static final Graph OLD = TestModels.reward(1);
  private static final Graph NEW = TestModels.reward(2);
  private static final String CONFIG_JSON =
      """
      {"name": "rm", "max_batch_size": 8,
       "input": [{"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]}],
       "output": [{"name": "score", "data_type": "TYPE_FP32", "dims": [1]}],
       "dynamic_batching": {"max_queue_delay_microseconds": 1000}}
      """;

  @TempDir Path repo;
  private EmbeddedServerFixture fixture;

  @BeforeEach
  void setUp() throws Exception {
    TestModels.writeModel(repo, "rm", 1, OLD, TestModels.REWARD_CONFIG);
    Files.createDirectories(repo.resolve("broken").resolve("1"));
    Files.writeString(repo.resolve("broken").resolve("1").resolve("a.txt"), "not a model");
    fixture = EmbeddedServerFixture.start(repo);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private static ModelInferRequest request(String id, long[] ids, int rows, int length) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName("rm").setId(id),
            List.of(TestModels.ids(rows, length, ids)))
        .build();
  }

  private static float[] scores(ModelInferResponse response) {
    return TritonTensors.output(response, "score").toFloats();
  }

  private static Map<String, ByteString> newWeights() {
    return Map.of("1/model.onnx", ByteString.copyFrom(NEW.toBytes()));
  }

  private void awaitClosed(String version) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!fixture.recorder.closed.contains(version)) {
      if (System.nanoTime() > end) {
        throw new AssertionError(
            "Expected " + version + " to close, closed: " + fixture.recorder.closed);
      }
      Thread.sleep(2);
    }
  }

  @Test
  void repositoryIndex_listsReadyAndBrokenModels_andBrokenModelMakesServerNotReady() {
    List<RepositoryIndexResponse.ModelIndex> index =
        fixture
            .blocking()
            .repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
            .getModelsList();
    List<RepositoryIndexResponse.ModelIndex> ready =
        fixture
            .blocking()
            .repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true).build())
            .getModelsList();

    assertEquals(2, index.size());
    assertEquals("broken", index.get(0).getName());
    assertEquals("UNAVAILABLE", index.get(0).getState());
    assertEquals(
        "Model 'broken' version 1: expected model.onnx in "
            + repo.resolve("broken").resolve("1").toAbsolutePath()
            + ", found [a.txt]",
        index.get(0).getReason());
    assertEquals("rm", index.get(1).getName());
    assertEquals("1", index.get(1).getVersion());
    assertEquals("READY", index.get(1).getState());
    assertEquals(List.of("rm"), ready.stream().map(m -> m.getName()).toList());
    assertFalse(fixture.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());

    fixture
        .blocking()
        .repositoryModelUnload(
            RepositoryModelUnloadRequest.newBuilder().setModelName("broken").build());
    assertTrue(fixture.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
  }

  @Test
  void load_fileOverride_swapsVersion_whileInFlightRequestsFinishOnTheOldOne() throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 2, 5);
    TritonClient client = fixture.client(SEED);
    fixture.recorder.hold(batch -> batch.version() == 1);
    CompletableFuture<ModelInferResponse> running =
        CompletableFuture.supplyAsync(
            () -> fixture.blocking().modelInfer(request("running", ids, 2, 5)));
    fixture.recorder.awaitBatchStarted();
    CompletableFuture<ModelInferResponse> queued =
        CompletableFuture.supplyAsync(
            () -> fixture.blocking().modelInfer(request("queued", ids, 2, 5)));
    fixture.awaitQueued("rm", 1);

    client
        .loadModel("rm", Optional.of(CONFIG_JSON), newWeights(), TritonCallOptions.defaults())
        .get(10, TimeUnit.SECONDS);
    ModelInferResponse after = fixture.blocking().modelInfer(request("after", ids, 2, 5));

    assertEquals("2", after.getModelVersion());
    assertArrayEquals(TestModels.directScores(NEW, 2, 5, ids), scores(after), 1e-6f);
    assertFalse(fixture.recorder.closed.contains("rm:1"), "closed while requests were in flight");
    fixture.recorder.open();
    for (CompletableFuture<ModelInferResponse> old : List.of(running, queued)) {
      ModelInferResponse response = old.get(10, TimeUnit.SECONDS);
      assertEquals("1", response.getModelVersion());
      assertArrayEquals(TestModels.directScores(OLD, 2, 5, ids), scores(response), 1e-6f);
    }
    awaitClosed("rm:1");
    assertEquals(
        List.of("2"),
        fixture
            .blocking()
            .modelMetadata(ModelMetadataRequest.newBuilder().setName("rm").build())
            .getVersionsList());
    assertFalse(
        fixture
            .blocking()
            .modelReady(ModelReadyRequest.newBuilder().setName("rm").setVersion("1").build())
            .getReady());
  }

  @Test
  void load_fileOverrideMidTraffic_losesNoRequestAndClientsSwitchToTheNewVersion()
      throws Exception {
    int clients = 8;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger answeredByNew = new AtomicInteger();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Map<String, Integer> perVersion = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> loops = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        TritonClient triton = fixture.client(SEED + c);
        loops.add(
            pool.submit(
                () -> {
                  SplittableRandom random = new SplittableRandom(SEED * 17 + client);
                  boolean sawNew = false;
                  for (int i = 0; !stop.get() && i < 2000; i++) {
                    long[] ids = TestModels.tokens(random, 1, 7);
                    try {
                      ModelInferResponse response =
                          triton
                              .modelInfer(
                                  request(client + "-" + i, ids, 1, 7),
                                  TritonCallOptions.defaults())
                              .get(10, TimeUnit.SECONDS);
                      String version = response.getModelVersion();
                      perVersion.merge(version, 1, Integer::sum);
                      Graph expected = version.equals("2") ? NEW : OLD;
                      assertArrayEquals(
                          TestModels.directScores(expected, 1, 7, ids), scores(response), 1e-6f);
                      if (sawNew && !version.equals("2")) {
                        throw new AssertionError(
                            "client " + client + " went back to version " + version);
                      }
                      sawNew |= version.equals("2");
                      answered.incrementAndGet();
                      if (sawNew) {
                        answeredByNew.incrementAndGet();
                      }
                    } catch (Exception | AssertionError e) {
                      failures.add(e);
                      return;
                    }
                  }
                }));
      }
      awaitCount(answered, 100);
      fixture
          .client(SEED)
          .loadModel("rm", Optional.of(CONFIG_JSON), newWeights(), TritonCallOptions.defaults())
          .get(10, TimeUnit.SECONDS);
      awaitCount(answeredByNew, 100);
      stop.set(true);
      for (Future<?> loop : loops) {
        loop.get(30, TimeUnit.SECONDS);
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }

    assertEquals(List.of(), failures);
    assertTrue(perVersion.getOrDefault("1", 0) >= 100, perVersion.toString());
    assertTrue(perVersion.getOrDefault("2", 0) >= 100, perVersion.toString());
    awaitClosed("rm:1");
  }

  private static void awaitCount(AtomicInteger count, int target) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (count.get() < target) {
      if (System.nanoTime() > end) {
        throw new AssertionError("Expected " + target + " answers, found " + count.get());
      }
      Thread.sleep(2);
    }
  }

  @Test
  void unload_thenInfer_notFound_andLoadFromRepositoryServesAgain() {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 3);
    fixture
        .blocking()
        .repositoryModelUnload(
            RepositoryModelUnloadRequest.newBuilder().setModelName("rm").build());

    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> fixture.blocking().modelInfer(request("a", ids, 1, 3)));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals(
        "Request for unknown model: 'rm' has no available versions",
        e.getStatus().getDescription());
    RepositoryIndexResponse.ModelIndex row =
        fixture
            .blocking()
            .repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
            .getModels(1);
    assertEquals("UNAVAILABLE", row.getState());
    assertEquals("unloaded", row.getReason());

    fixture
        .blocking()
        .repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("rm").build());
    ModelInferResponse response = fixture.blocking().modelInfer(request("b", ids, 1, 3));
    assertEquals("1", response.getModelVersion(), "same weights keep their version");
    assertArrayEquals(TestModels.directScores(OLD, 1, 3, ids), scores(response), 1e-6f);
  }

  @Test
  void load_configOnly_reloadsWithTheNewConfigAndKeepsTheVersionOfUnchangedWeights() {
    fixture
        .blocking()
        .repositoryModelLoad(
            RepositoryModelLoadRequest.newBuilder()
                .setModelName("rm")
                .putParameters(
                    "config",
                    ModelRepositoryParameter.newBuilder()
                        .setStringParam(
                            CONFIG_JSON.replace("\"max_batch_size\": 8", "\"maxBatchSize\": 2"))
                        .build())
                .build());

    assertEquals(
        2,
        fixture
            .blocking()
            .modelConfig(ModelConfigRequest.newBuilder().setName("rm").build())
            .getConfig()
            .getMaxBatchSize());
    assertEquals(List.of("rm:1", "rm:1"), fixture.recorder.loaded);
  }

  @Test
  void load_swapThenRevertToRepositoryWeights_getsAFreshVersion() {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 3);
    fixture
        .blocking()
        .repositoryModelLoad(
            load(
                "rm",
                Map.of("config", config(CONFIG_JSON), "file:1/model.onnx", file(NEW.toBytes()))));
    fixture
        .blocking()
        .repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("rm").build());

    ModelInferResponse response = fixture.blocking().modelInfer(request("a", ids, 1, 3));
    assertEquals("3", response.getModelVersion());
    assertArrayEquals(TestModels.directScores(OLD, 1, 3, ids), scores(response), 1e-6f);
  }

  @Test
  void load_badParameters_failInvalidArgumentAndKeepServing() {
    String[][] cases = {
      {
        message(load("rm", Map.of("file:1/model.onnx", file(NEW.toBytes())))),
        "Load parameter 'config' must be specified for model file override (model 'rm', files"
            + " [1/model.onnx])"
      },
      {
        message(load("rm", Map.of("colour", config("blue")))),
        "Unrecognized load parameter 'colour' for model 'rm', expected 'config' or"
            + " 'file:<version>/<path>'"
      },
      {
        message(
            load(
                "rm",
                Map.of("config", config(CONFIG_JSON), "file:../escape.onnx", file(new byte[1])))),
        "Expected a relative path inside the model directory for load parameter"
            + " 'file:../escape.onnx' of model 'rm', found '../escape.onnx'"
      },
      {
        message(load("rm", Map.of("config", config("{\"inputs\": []}")))),
        "Failed to load model 'rm': Unknown field 'config.inputs' in the JSON model configuration,"
            + " expected one of [name, platform, version_policy, max_batch_size, input, output,"
            + " instance_group, default_model_filename, cc_model_filenames, metric_tags,"
            + " dynamic_batching, parameters, backend, model_transaction_policy, response_cache,"
            + " runtime] for ModelConfig"
      },
      {
        message(load("ghost", Map.of())),
        "Failed to load model 'ghost': Expected model 'ghost' in repository "
            + repo.toAbsolutePath()
            + ", found [broken, rm]"
      },
      {
        message(
            load(
                "rm",
                Map.of(
                    "config",
                    config(CONFIG_JSON.replace("TYPE_INT64", "TYPE_INT32")),
                    "file:1/model.onnx",
                    file(NEW.toBytes())))),
        "Failed to load model 'rm': Model 'rm' version 1: expected data_type TYPE_INT64 for input"
            + " 'input_ids' (the ONNX model's), found TYPE_INT32"
      },
    };
    for (String[] c : cases) {
      assertEquals(c[1], c[0]);
    }
    assertEquals(
        "1",
        fixture.blocking().modelInfer(request("still", new long[] {1, 2}, 1, 2)).getModelVersion());
  }

  private static RepositoryModelLoadRequest load(
      String model, Map<String, ModelRepositoryParameter> parameters) {
    return RepositoryModelLoadRequest.newBuilder()
        .setModelName(model)
        .putAllParameters(parameters)
        .build();
  }

  private static ModelRepositoryParameter config(String json) {
    return ModelRepositoryParameter.newBuilder().setStringParam(json).build();
  }

  private static ModelRepositoryParameter file(byte[] bytes) {
    return ModelRepositoryParameter.newBuilder().setBytesParam(ByteString.copyFrom(bytes)).build();
  }

  private String message(RepositoryModelLoadRequest request) {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> fixture.blocking().repositoryModelLoad(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getMessage());
    return e.getStatus().getDescription();
  }

  @Test
  void load_unsupportedRepositoryName_failsUnimplemented() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                fixture
                    .blocking()
                    .repositoryModelLoad(
                        RepositoryModelLoadRequest.newBuilder()
                            .setRepositoryName("other")
                            .setModelName("rm")
                            .build()));

    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    assertEquals(
        "'repository_name' specification is not supported", e.getStatus().getDescription());
  }
}
