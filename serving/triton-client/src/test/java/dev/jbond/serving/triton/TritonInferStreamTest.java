package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ModelStreamInfer through the client against the fake Triton on the in-process transport. */
class TritonInferStreamTest {
  private InProcessTriton triton;
  private FakeTritonService service;
  private TritonClient client;

  @BeforeEach
  void setUp() throws Exception {
    triton = InProcessTriton.start(1);
    service = triton.service(0);
    client =
        TritonClient.builder(TritonClientConfig.builder().build())
            .optChannels(triton.tritonChannels())
            .optScheduler(new FakeScheduler())
            .optRandom(new SplittableRandom(1))
            .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    triton.close();
  }

  private static ModelInferRequest request(String id, Map<String, InferParameter> parameters) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder()
                .setModelName("policy")
                .setId(id)
                .putAllParameters(parameters),
            List.of(TritonTensor.ofInt32("input_ids", new long[] {1, 2}, id.length(), 9)))
        .build();
  }

  private static List<ModelInferResponse> get(CompletableFuture<List<ModelInferResponse>> f)
      throws Exception {
    return f.get(5, TimeUnit.SECONDS);
  }

  private static BackendException failure(CompletableFuture<?> future) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(5, TimeUnit.SECONDS));
    return assertInstanceOf(BackendException.class, e.getCause());
  }

  private static List<Long> indexes(List<ModelInferResponse> responses) {
    List<Long> indexes = new ArrayList<>();
    for (ModelInferResponse response : responses) {
      indexes.add(response.getParametersOrThrow("index").getInt64Param());
    }
    return indexes;
  }

  @Test
  void streamInfer_interleavedResponses_collectedPerIdUntilFinal_inBandErrorFailsOnlyItsRequest()
      throws Exception {
    service.streamMode = FakeTritonService.StreamMode.INTERLEAVED_AT_HALF_CLOSE;

    List<CompletableFuture<List<ModelInferResponse>>> futures =
        client.streamInfer(
            List.of(
                request("a", Map.of("responses", TritonTensors.int64Parameter(2))),
                request("bb", Map.of("error", TritonTensors.stringParameter("model exploded\n"))),
                request(
                    "ccc",
                    Map.of(
                        "responses",
                        TritonTensors.int64Parameter(3),
                        TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER,
                        TritonTensors.boolParameter(true)))),
            TritonCallOptions.defaults());

    List<ModelInferResponse> a = get(futures.get(0));
    assertEquals(List.of(0L, 1L), indexes(a));
    assertTrue(a.stream().allMatch(r -> r.getId().equals("a")));
    BackendException b = failure(futures.get(1));
    assertEquals(BackendException.Code.INTERNAL, b.code());
    assertEquals(
        "ModelStreamInfer request 'bb' of model 'policy' failed on endpoint 'triton-0': model"
            + " exploded",
        b.getMessage());
    List<ModelInferResponse> c = get(futures.get(2));
    assertEquals(List.of(0L, 1L, 2L), indexes(c)); // the flag-only empty final is not included
    assertArrayEquals(new int[] {3, 9}, TritonTensors.output(c.get(2), "echo").toInts());
    assertEquals(1, service.calls("ModelStreamInfer"));
  }

  @Test
  void openStream_immediateAnswers_sendManyOnOneStream() throws Exception {
    try (TritonInferStream stream = client.openInferStream(TritonCallOptions.defaults())) {
      assertEquals("triton-0", stream.endpoint());
      for (int i = 0; i < 5; i++) {
        List<ModelInferResponse> responses =
            get(
                stream.send(
                    request("r" + i, Map.of("responses", TritonTensors.int64Parameter(2)))));
        assertEquals(2, responses.size());
      }
      assertEquals(0, stream.inFlight());
    }
    assertEquals(1, service.calls("ModelStreamInfer"));
  }

  @Test
  void stream_endsWithoutFinalResponse_failsThePendingRequest() {
    TritonInferStream stream = client.openInferStream(TritonCallOptions.defaults());
    CompletableFuture<List<ModelInferResponse>> pending =
        stream.send(request("r1", Map.of("no_final", TritonTensors.boolParameter(true))));
    stream.close();

    BackendException e = failure(pending);
    assertEquals(
        "ModelStreamInfer request 'r1' of model 'policy' got no final response before the stream"
            + " on endpoint 'triton-0' ended",
        e.getMessage());
  }

  @Test
  void stream_serverFailure_failsEveryPendingRequestWithMappedStatus() {
    service.streamMode = FakeTritonService.StreamMode.FAIL_AT_HALF_CLOSE;

    List<CompletableFuture<List<ModelInferResponse>>> futures =
        client.streamInfer(
            List.of(request("r1", Map.of()), request("r2", Map.of())),
            TritonCallOptions.defaults());

    for (int i = 0; i < 2; i++) {
      BackendException e = failure(futures.get(i));
      assertEquals(BackendException.Code.UNAVAILABLE, e.code());
      assertEquals(
          "ModelStreamInfer request 'r"
              + (i + 1)
              + "' of model 'policy' failed on endpoint 'triton-0': UNAVAILABLE: server shutting down",
          e.getMessage());
    }
  }

  @Test
  void stream_deadline_failsPendingWithDeadlineExceeded() {
    service.streamMode = FakeTritonService.StreamMode.SILENT;

    TritonInferStream stream =
        client.openInferStream(TritonCallOptions.defaults().withDeadline(Duration.ofMillis(150)));
    CompletableFuture<List<ModelInferResponse>> pending = stream.send(request("r1", Map.of()));

    assertEquals(BackendException.Code.DEADLINE_EXCEEDED, failure(pending).code());
    assertTrue(service.deadlines.get(0) != null);
  }

  @Test
  void stream_callerMistakes_rejected() {
    TritonInferStream stream = client.openInferStream(TritonCallOptions.defaults());
    service.streamMode = FakeTritonService.StreamMode.SILENT;
    stream.send(request("dup", Map.of("no_final", TritonTensors.boolParameter(true))));

    assertEquals(
        "Expected a request id not already in flight on this stream, found 'dup'",
        assertThrows(IllegalArgumentException.class, () -> stream.send(request("dup", Map.of())))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> stream.send(request("", Map.of())));
    stream.close();
    stream.close();
    assertEquals(
        "TritonInferStream is closed",
        assertThrows(IllegalStateException.class, () -> stream.send(request("late", Map.of())))
            .getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            client.streamInfer(
                List.of(request("x", Map.of()), request("x", Map.of())),
                TritonCallOptions.defaults()));
  }

  @Test
  void cancel_failsPendingWithCancellation_andCancelsServerSide() throws Exception {
    service.streamMode = FakeTritonService.StreamMode.SILENT;
    TritonInferStream stream = client.openInferStream(TritonCallOptions.defaults());
    CompletableFuture<List<ModelInferResponse>> pending = stream.send(request("r1", Map.of()));

    stream.cancel();
    stream.cancel();

    assertTrue(pending.isCancelled());
    assertThrows(CancellationException.class, pending::join);
    assertTrue(service.cancelled.await(5, TimeUnit.SECONDS));
  }

  @Test
  void clientClose_cancelsOpenStreams() {
    service.streamMode = FakeTritonService.StreamMode.SILENT;
    TritonInferStream stream = client.openInferStream(TritonCallOptions.defaults());
    CompletableFuture<List<ModelInferResponse>> pending = stream.send(request("r1", Map.of()));

    client.close();

    assertTrue(pending.isCancelled());
  }
}
