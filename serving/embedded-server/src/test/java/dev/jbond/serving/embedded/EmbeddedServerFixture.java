package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonHealthCheck;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Test-only: an {@link EmbeddedTritonServer} on the in-process transport with a {@link Recorder}
 * listener, a caller-side channel, blocking and async stubs, and {@link TritonClient}s on that
 * channel.
 */
final class EmbeddedServerFixture implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicInteger NAMES = new AtomicInteger();

  final EmbeddedTritonServer server;
  final Recorder recorder = new Recorder();
  final ManagedChannel channel;
  private final List<TritonClient> clients = new CopyOnWriteArrayList<>();

  private EmbeddedServerFixture(Path repository, Consumer<EmbeddedTritonServer.Builder> settings)
      throws Exception {
    String name = "jbond-embedded-test-" + NAMES.incrementAndGet();
    EmbeddedTritonServer.Builder builder =
        EmbeddedTritonServer.builder(repository)
            .optInProcessName(name)
            .optSessionConfig(TestModels.SESSION)
            .optWorkerThreads(4)
            .optListener(recorder);
    settings.accept(builder);
    server = builder.build();
    try {
      server.start();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    channel = InProcessChannelBuilder.forName(name).build();
  }

  static EmbeddedServerFixture start(Path repository) throws Exception {
    return start(repository, b -> {});
  }

  static EmbeddedServerFixture start(
      Path repository, Consumer<EmbeddedTritonServer.Builder> settings) throws Exception {
    return new EmbeddedServerFixture(repository, settings);
  }

  /** A blocking stub whose calls carry a 10 s deadline. */
  GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blocking() {
    return GRPCInferenceServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** An async stub whose calls carry a 10 s deadline. */
  GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async() {
    return GRPCInferenceServiceGrpc.newStub(channel)
        .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A new client on the fixture's channel (closed with the fixture), probing once an hour. */
  TritonClient client(long seed) {
    TritonClient client =
        TritonClient.builder(
                TritonClientConfig.builder()
                    .optDeadline(WAIT)
                    .optHealthCheck(
                        new TritonHealthCheck(
                            Duration.ofHours(1), Duration.ofSeconds(1), 3, List.of()))
                    .build())
            .optChannels(List.of(new TritonChannel("embedded", channel)))
            .optRandom(new SplittableRandom(seed))
            .build();
    clients.add(client);
    return client;
  }

  /** Waits until {@code model} has {@code count} queued requests. */
  void awaitQueued(String model, int count) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (server.queuedRequests(model) != count) {
      if (System.nanoTime() > end) {
        throw new AssertionError(
            "Expected "
                + count
                + " queued requests for '"
                + model
                + "', found "
                + server.queuedRequests(model));
      }
      Thread.sleep(1);
    }
  }

  @Override
  public void close() {
    recorder.open();
    clients.forEach(TritonClient::close);
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
  }

  /** Records batches and versions; can hold batches (of versions a predicate picks) at a gate. */
  static final class Recorder implements EmbeddedServerListener {
    final List<BatchInfo> batches = new CopyOnWriteArrayList<>();
    final List<String> loaded = new CopyOnWriteArrayList<>();
    final List<String> closed = new CopyOnWriteArrayList<>();
    private final Semaphore started = new Semaphore(0);
    private volatile CountDownLatch gate;
    private volatile Predicate<BatchInfo> held = b -> true;

    /** Makes batches wait at the gate until {@link #open()}. */
    void hold() {
      hold(b -> true);
    }

    /** Makes batches that {@code which} picks wait at the gate until {@link #open()}. */
    void hold(Predicate<BatchInfo> which) {
      held = which;
      gate = new CountDownLatch(1);
    }

    void open() {
      CountDownLatch current = gate;
      gate = null;
      if (current != null) {
        current.countDown();
      }
    }

    /** Waits until a batch has reached the listener. */
    void awaitBatchStarted() throws InterruptedException {
      if (!started.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("Expected a batch to start, none did");
      }
    }

    /** Whether any batch carried a request with this id. */
    boolean ran(String id) {
      return batches.stream().anyMatch(b -> b.requestIds().contains(id));
    }

    @Override
    public void beforeBatch(BatchInfo batch) {
      batches.add(batch);
      started.release();
      CountDownLatch current = gate;
      if (current != null && held.test(batch)) {
        try {
          if (!current.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("Expected the test to open the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void versionLoaded(String model, long version) {
      loaded.add(model + ":" + version);
    }

    @Override
    public void versionClosed(String model, long version) {
      closed.add(model + ":" + version);
    }
  }
}
