package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded server over Netty on loopback: the server's inbound message limit, and the
 * throughput of one client against sixteen concurrent clients on the reward model (printed, so that
 * the numbers can be reported; only batching is asserted, not speed).
 */
class EmbeddedTritonServerNettyTest {
  private static final long SEED = 20260304L;
  private static final int LIMIT = 64 * 1024;
  private static final Graph REWARD = TestModels.reward(1);
  private static final long MEASURE_NANOS = TimeUnit.MILLISECONDS.toNanos(1500);

  @TempDir Path repo;
  private final List<BatchInfo> batches = new CopyOnWriteArrayList<>();
  private EmbeddedTritonServer server;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() throws Exception {
    TestModels.writeModel(
        repo,
        "rm",
        1,
        REWARD,
        TestModels.REWARD_CONFIG.replace("max_queue_delay_microseconds: 1000", ""));
    server =
        EmbeddedTritonServer.builder(repo)
            .optPort(0)
            .optMaxInboundMessageBytes(LIMIT)
            .optSessionConfig(TestModels.SESSION)
            .optListener(
                new EmbeddedServerListener() {
                  @Override
                  public void beforeBatch(BatchInfo batch) {
                    batches.add(batch);
                  }
                })
            .build()
            .start();
    channel =
        Grpc.newChannelBuilder("localhost:" + server.port(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
    return GRPCInferenceServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static ModelInferRequest request(String id, int rows, int length, long[] ids) {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName("rm").setId(id),
            List.of(TestModels.ids(rows, length, ids)))
        .build();
  }

  @Test
  void modelInfer_requestOverTheServerLimit_failsResourceExhausted_andSmallerOnesPass() {
    int length = 1100; // 8 x 1100 int64 = 70,400 bytes > 64 KiB
    long[] big = TestModels.tokens(new SplittableRandom(SEED), 8, length);
    long[] small = TestModels.tokens(new SplittableRandom(SEED), 8, 900);

    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> stub().modelInfer(request("big", 8, length, big)));
    ModelInferResponse ok = stub().modelInfer(request("small", 8, 900, small));

    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(
        e.getStatus().getDescription().contains("exceeds maximum size " + LIMIT),
        e.getStatus().getDescription());
    assertArrayEquals(
        TestModels.directScores(REWARD, 8, 900, small),
        TritonTensors.output(ok, "score").toFloats(),
        1e-6f);
  }

  @Test
  void tritonClient_requestOverTheServerLimit_failsResourceExhaustedNamingTheServerLimit()
      throws Exception {
    long[] big = TestModels.tokens(new SplittableRandom(SEED), 8, 1100);
    try (TritonClient client =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optEndpoints(List.of(TritonEndpoint.plaintext("localhost:" + server.port())))
                    .build())
            .build()) {
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () ->
                  client
                      .modelInfer(request("big", 8, 1100, big), TritonCallOptions.defaults())
                      .get(10, TimeUnit.SECONDS));
      BackendException failure = (BackendException) e.getCause();

      assertEquals(BackendException.Code.RESOURCE_EXHAUSTED, failure.code());
      assertTrue(
          failure
              .getMessage()
              .endsWith("(the request exceeds the server's maximum message size " + LIMIT + ")"),
          failure.getMessage());
    }
  }

  @Test
  void modelInfer_sixteenClientsVersusOne_batchesAndReportsThroughput() throws Exception {
    long[] ids = TestModels.tokens(new SplittableRandom(SEED), 1, 32);
    float[] expected = TestModels.directScores(REWARD, 1, 32, ids);
    ModelInferRequest request = request("t", 1, 32, ids);
    for (int i = 0; i < 200; i++) {
      stub().modelInfer(request); // warm up the JIT, the channel and the session
    }

    double single = measure(1, request, expected);
    batches.clear();
    double sixteen = measure(16, request, expected);
    int requests = batches.stream().mapToInt(b -> b.requestIds().size()).sum();
    double meanBatch = (double) requests / batches.size();

    System.out.printf(
        "embedded server, reward model [1, 32] over Netty loopback: 1 client %.0f req/s,"
            + " 16 clients %.0f req/s (%.2fx), mean batch %.2f requests%n",
        single, sixteen, sixteen / single, meanBatch);
    assertTrue(batches.size() < requests, "Expected batching, found " + batches.size() + " runs");
  }

  /** Requests per second that {@code clients} threads achieve, each checking its answers. */
  private double measure(int clients, ModelInferRequest request, float[] expected)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      long start = System.nanoTime();
      List<Future<Integer>> counts = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        counts.add(
            pool.submit(
                () -> {
                  int n = 0;
                  GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = stub();
                  while (System.nanoTime() - start < MEASURE_NANOS) {
                    ModelInferResponse response =
                        stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request);
                    assertArrayEquals(
                        expected, TritonTensors.output(response, "score").toFloats(), 1e-6f);
                    n++;
                  }
                  return n;
                }));
      }
      int total = 0;
      for (Future<Integer> count : counts) {
        total += count.get(30, TimeUnit.SECONDS);
      }
      return total / ((System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }
}
