package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelRepositoryParameter;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against one fake Triton over the in-process transport, with retries and probes on a
 * {@link FakeScheduler} (virtual time) and seeded jitter.
 */
class TritonClientTest {
  private static final long SEED = 20260127L;
  private static final Duration WAIT = Duration.ofSeconds(5);

  private InProcessTriton triton;
  private FakeTritonService service;
  private FakeScheduler scheduler;
  private TritonClient client;

  @BeforeEach
  void setUp() throws Exception {
    triton = InProcessTriton.start(1);
    service = triton.service(0);
    scheduler = new FakeScheduler();
    client = client(b -> {});
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    triton.close();
  }

  private TritonClient client(Consumer<TritonClientConfig.Builder> settings) {
    // probes only when a test asks: the periodic round is an hour of virtual time away
    TritonClientConfig.Builder config =
        TritonClientConfig.builder()
            .optHealthCheck(
                new TritonHealthCheck(Duration.ofHours(1), Duration.ofSeconds(1), 3, List.of()));
    settings.accept(config);
    return TritonClient.builder(config.build())
        .optChannels(triton.tritonChannels())
        .optScheduler(scheduler)
        .optRandom(new SplittableRandom(SEED))
        .build();
  }

  private void replaceClient(Consumer<TritonClientConfig.Builder> settings) {
    client.close();
    client = client(settings);
  }

  private static <T> T get(CompletableFuture<T> future) throws Exception {
    return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static BackendException failure(CompletableFuture<?> future) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> get(future));
    return assertInstanceOf(BackendException.class, e.getCause());
  }

  private static ModelInferRequest inferRequest(String id) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName("policy").setId(id),
            List.of(TritonTensor.ofInt32("input_ids", new long[] {1, 3}, 4, 5, 6)))
        .build();
  }

  @Test
  void everyRpc_answers_andEachCallCarriesTheConfiguredDeadline() throws Exception {
    replaceClient(b -> b.optDeadline(Duration.ofSeconds(7)));
    TritonCallOptions defaults = TritonCallOptions.defaults();

    assertTrue(get(client.serverLive()));
    assertTrue(get(client.serverReady(defaults)));
    assertEquals("triton-0", get(client.serverMetadata(defaults)).getName());
    assertTrue(get(client.modelReady("policy")));
    assertEquals(
        List.of(-1L, -1L),
        get(client.modelMetadata("policy", "", defaults)).getInputs(0).getShapeList());
    assertEquals(8, get(client.modelConfig("policy", "1", defaults)).getMaxBatchSize());
    ModelInferResponse response = get(client.modelInfer(inferRequest("r1"), defaults));
    assertEquals("r1", response.getId());
    assertArrayEquals(new int[] {4, 5, 6}, TritonTensors.output(response, "echo").toInts());
    assertEquals(List.of("triton-0"), TritonTensors.output(response, "served_by").toStrings());
    List<RepositoryIndexResponse.ModelIndex> index =
        get(client.repositoryIndex("", false, defaults));
    assertEquals("UNAVAILABLE", index.get(1).getState());
    get(client.loadModel("policy", Optional.empty(), Map.of(), defaults));
    get(client.unloadModel("policy", false, defaults));

    assertEquals(10, service.deadlines.size());
    for (Deadline deadline : service.deadlines) {
      long left = deadline.timeRemaining(TimeUnit.MILLISECONDS);
      assertTrue(left > 0 && left <= 7_000, "deadline " + deadline);
    }
    get(client.serverLive(defaults.withDeadline(Duration.ofMillis(300))));
    long left = service.deadlines.get(10).timeRemaining(TimeUnit.MILLISECONDS);
    assertTrue(left <= 300, "per-call deadline " + left);
  }

  @Test
  void loadModel_sendsConfigStringAndFileBytesParameters() throws Exception {
    String config = "{\"name\":\"policy\",\"backend\":\"onnxruntime\",\"max_batch_size\":0}";
    ByteString onnx = ByteString.copyFrom(new byte[] {8, 7, 0, (byte) 0xff});

    get(
        client.loadModel(
            "policy",
            Optional.of(config),
            Map.of("1/model.onnx", onnx),
            TritonCallOptions.defaults()));
    get(client.unloadModel("policy", true, TritonCallOptions.defaults()));

    RepositoryModelLoadRequest load = service.loads.get(0);
    assertEquals("", load.getRepositoryName());
    assertEquals("policy", load.getModelName());
    assertEquals(
        Map.of(
            "config", ModelRepositoryParameter.newBuilder().setStringParam(config).build(),
            "file:1/model.onnx", ModelRepositoryParameter.newBuilder().setBytesParam(onnx).build()),
        load.getParametersMap());
    assertTrue(service.unloads.get(0).getParametersOrThrow("unload_dependents").getBoolParam());
  }

  @Test
  void loadModel_filesWithoutConfigOrEscapingPath_rejectedBeforeSending() {
    ByteString data = ByteString.copyFromUtf8("x");
    IllegalArgumentException noConfig =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                client.loadModel(
                    "policy",
                    Optional.empty(),
                    Map.of("1/model.onnx", data),
                    TritonCallOptions.defaults()));
    assertEquals(
        "Expected a config for the file overrides of model 'policy' (Triton requires 'config' with"
            + " any 'file:' parameter), found files [1/model.onnx]",
        noConfig.getMessage());
    IllegalArgumentException escaping =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                client.loadModel(
                    "policy",
                    Optional.of("{}"),
                    Map.of("1/../../etc/passwd", data),
                    TritonCallOptions.defaults()));
    assertEquals(
        "Expected a relative path inside the model directory for a file of model 'policy', such as"
            + " '1/model.onnx', found '1/../../etc/passwd'",
        escaping.getMessage());
    assertEquals(0, triton.started(0, "RepositoryModelLoad"));
  }

  @Test
  void idempotentCall_unavailableThreeTimes_retriesAfterJitteredBackoffsThenSucceeds()
      throws Exception {
    service.failuresLeft.set(3);
    TritonRetryPolicy policy = TritonRetryPolicy.DEFAULT;
    SplittableRandom replica = new SplittableRandom(SEED);

    CompletableFuture<String> name =
        client.serverMetadata(TritonCallOptions.defaults()).thenApply(m -> m.getName());

    for (int retry = 1; retry <= 3; retry++) {
      scheduler.awaitPending(1, WAIT);
      Duration expected = policy.backoff(retry, replica);
      assertEquals(List.of(expected), scheduler.pendingDelays(), "wait before retry " + retry);
      assertTrue(expected.compareTo(policy.backoffCap(retry)) < 0);
      assertFalse(name.isDone());
      scheduler.advance(expected);
    }
    assertEquals("triton-0", get(name));
    assertEquals(4, service.calls("ServerMetadata"));
    assertEquals(List.of(), scheduler.pendingDelays());
  }

  @Test
  void idempotentCall_alwaysUnavailable_failsAfterMaxAttemptsWithMappedException() {
    replaceClient(
        b -> b.optRetry(new TritonRetryPolicy(3, Duration.ofMillis(10), Duration.ofSeconds(1), 2)));
    service.failuresLeft.set(100);

    CompletableFuture<Boolean> live = client.serverLive();
    scheduler.advance(Duration.ofMinutes(1));

    BackendException e = failure(live);
    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertEquals(
        "ServerLive failed on endpoint 'triton-0' after 3 attempts: UNAVAILABLE: scripted failure",
        e.getMessage());
    assertInstanceOf(StatusRuntimeException.class, e.getCause());
    assertEquals(3, service.calls("ServerLive"));
  }

  @Test
  void modelInfer_notIdempotentByDefault_failsWithoutRetry() {
    service.failuresLeft.set(1);

    BackendException e =
        failure(client.modelInfer(inferRequest("r1"), TritonCallOptions.defaults()));

    assertEquals(
        "ModelInfer of model 'policy' failed on endpoint 'triton-0': UNAVAILABLE: scripted failure",
        e.getMessage());
    assertEquals(List.of(), scheduler.pendingDelays());
    assertEquals(1, service.calls("ModelInfer"));
  }

  @Test
  void modelInfer_declaredIdempotent_retried() throws Exception {
    service.failuresLeft.set(1);

    CompletableFuture<ModelInferResponse> response =
        client.modelInfer(
            inferRequest("seeded"), TritonCallOptions.defaults().withIdempotent(true));
    scheduler.awaitPending(1, WAIT);
    scheduler.advance(TritonRetryPolicy.DEFAULT.backoffCap(1));

    assertEquals("seeded", get(response).getId());
    assertEquals(2, service.calls("ModelInfer"));
  }

  @Test
  void repositoryModelLoad_notRetriedByDefault() {
    service.failuresLeft.set(1);

    BackendException e =
        failure(
            client.loadModel("policy", Optional.of("{}"), Map.of(), TritonCallOptions.defaults()));

    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertEquals(1, service.calls("RepositoryModelLoad"));
    assertEquals(List.of(), scheduler.pendingDelays());
  }

  @Test
  void nonRetryableStatuses_mappedToCodes_notRetried() {
    service.failure =
        Status.INVALID_ARGUMENT.withDescription("unexpected shape for input 'input_ids'\nsee log");
    service.failuresLeft.set(1);
    BackendException invalid =
        failure(
            client.modelInfer(
                inferRequest("r1"), TritonCallOptions.defaults().withIdempotent(true)));
    assertEquals(BackendException.Code.INVALID_ARGUMENT, invalid.code());
    assertEquals(
        "ModelInfer of model 'policy' failed on endpoint 'triton-0': INVALID_ARGUMENT: unexpected"
            + " shape for input 'input_ids' see log",
        invalid.getMessage());

    service.failure =
        Status.NOT_FOUND.withDescription(
            "Request for unknown model: 'policy' has no available versions");
    service.failuresLeft.set(1);
    BackendException notFound = failure(client.modelReady("policy"));
    assertEquals(BackendException.Code.NOT_FOUND, notFound.code());
    assertEquals(List.of(), scheduler.pendingDelays());
    assertEquals(1, service.calls("ModelReady"));
  }

  @Test
  void hangingServer_deadlineExceeded_mapped() {
    service.hang = true;

    BackendException e =
        failure(
            client.serverLive(
                TritonCallOptions.defaults()
                    .withDeadline(Duration.ofMillis(100))
                    .withIdempotent(false)));

    assertEquals(BackendException.Code.DEADLINE_EXCEEDED, e.code());
    assertTrue(
        e.getMessage().startsWith("ServerLive failed on endpoint 'triton-0': DEADLINE_EXCEEDED"),
        e.getMessage());
  }

  @Test
  void hangOnce_deadlineExceededIsRetriedForIdempotentCall() throws Exception {
    service.hang = true;

    CompletableFuture<Boolean> live =
        client.serverLive(TritonCallOptions.defaults().withDeadline(Duration.ofMillis(100)));
    scheduler.awaitPending(1, WAIT);
    service.hang = false;
    scheduler.advance(TritonRetryPolicy.DEFAULT.backoffCap(1));

    assertTrue(get(live));
    assertEquals(2, service.calls("ServerLive"));
  }

  @Test
  void cancellingTheFuture_cancelsTheRpcOnTheServer() throws Exception {
    service.hang = true;

    CompletableFuture<ModelInferResponse> response =
        client.modelInfer(inferRequest("r1"), TritonCallOptions.defaults());
    assertTrue(response.cancel(true));

    assertTrue(service.cancelled.await(5, TimeUnit.SECONDS));
  }

  @Test
  void close_idempotent_cancelsPendingRetry_rejectsLaterUse_leavesCallersChannels()
      throws Exception {
    service.failuresLeft.set(1);
    CompletableFuture<Boolean> live = client.serverLive();
    scheduler.awaitPending(1, WAIT);

    client.close();
    client.close();

    assertTrue(live.isCancelled());
    assertEquals(List.of(), scheduler.pendingDelays());
    IllegalStateException e = assertThrows(IllegalStateException.class, client::serverLive);
    assertEquals("TritonClient is closed", e.getMessage());
    assertFalse(triton.channel(0).isShutdown());
    assertFalse(scheduler.isShutdown());
  }

  @Test
  void headers_sentWithEveryCall() throws Exception {
    replaceClient(b -> b.optHeaders(Map.of("triton-grpc-protocol-key", "s3cret")));

    get(client.serverLive());

    Metadata headers = service.headers.get(service.headers.size() - 1);
    assertEquals(
        "s3cret",
        headers.get(Metadata.Key.of("triton-grpc-protocol-key", Metadata.ASCII_STRING_MARSHALLER)));
  }

  @Test
  void callerMistakes_throwImmediately() {
    assertEquals(
        "Unknown endpoint 'triton-9', available: [triton-0]",
        assertThrows(
                IllegalArgumentException.class,
                () -> client.serverLive(TritonCallOptions.defaults().onEndpoint("triton-9")))
            .getMessage());
    assertEquals(
        "Expected a non-empty model name",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    client.modelInfer(
                        ModelInferRequest.getDefaultInstance(), TritonCallOptions.defaults()))
            .getMessage());
    TritonClientConfig both =
        TritonClientConfig.builder().optEndpoints(List.of(TritonEndpoint.plaintext("x:1"))).build();
    assertEquals(
        "Expected either endpoints in the TritonClientConfig or channels, found both",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonClient.builder(both).optChannels(triton.tritonChannels()).build())
            .getMessage());
    assertEquals(
        "Expected either endpoints in the TritonClientConfig or channels, found neither",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonClient.builder(TritonClientConfig.builder().build()).build())
            .getMessage());
  }
}
