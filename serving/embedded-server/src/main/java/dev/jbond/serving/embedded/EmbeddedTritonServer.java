package dev.jbond.serving.embedded;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.serving.triton.proto.ModelConfig;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC server that speaks Triton's inference protocol ({@code inference.GRPCInferenceService})
 * over a Triton-layout {@link ModelRepository}, in process.
 *
 * <h2>What it serves</h2>
 *
 * <ul>
 *   <li>ServerLive, ServerReady (strict: false while a model loads or failed to load),
 *       ServerMetadata (name {@value #NAME}), ModelReady, ModelMetadata ({@code -1} for variable
 *       dimensions, the batch dimension included when {@code max_batch_size > 0}), ModelConfig (the
 *       completed configuration);
 *   <li>ModelInfer and ModelStreamInfer for plain ONNX models, like Triton's ONNX Runtime backend:
 *       named inputs in raw or typed form, {@code max_batch_size}, requested outputs (all when none
 *       are requested), dynamic batching when the config has {@code dynamic_batching} (the
 *       auto-config of a batchable model adds it; see {@code DynamicBatcher}), as many concurrent
 *       batches per version as its {@code instance_group} counts add up to (default 1), a bounded
 *       queue (UNAVAILABLE when full) and deadlines (the client's gRPC deadline, the {@code
 *       timeout} request parameter in microseconds, and the model's {@code
 *       default_timeout_microseconds}); requests whose deadline passes while queued fail with
 *       DEADLINE_EXCEEDED and never run;
 *   <li>generation models ({@code backend: "jbond-generate"}) through the {@link
 *       GenerationModelFactory} given to the builder, decoupled ones on ModelStreamInfer only;
 *   <li>RepositoryIndex, RepositoryModelLoad ({@code config} as protobuf JSON, {@code
 *       file:<version>/<path>} overrides written to a temporary model directory; hot swap with
 *       in-flight requests finishing on the old version) and RepositoryModelUnload;
 *   <li>every other RPC answers UNIMPLEMENTED naming the RPC.
 * </ul>
 *
 * Errors use Triton's status codes and name the model and tensor: unknown model NOT_FOUND ("Request
 * for unknown model: 'x' is not found"), malformed requests INVALID_ARGUMENT, a full queue
 * UNAVAILABLE. On a stream they travel in-band as {@code error_message} and the stream goes on. See
 * {@link ModelManager} for how loads number versions.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link Builder#build()} creates a stopped server; {@link #start()} loads every model of the
 * repository (failures are reported by {@link #models()}, not thrown) and binds. {@link #close()}
 * stops accepting calls, waits at most {@link Builder#optShutdownTimeout} for calls in flight,
 * fails what is still queued with UNAVAILABLE, closes the models and shuts down the executors the
 * server created (never injected ones). It is idempotent; {@link #start()} after it throws {@code
 * IllegalStateException("EmbeddedTritonServer is closed")}.
 */
public final class EmbeddedTritonServer implements AutoCloseable {
  /** The name ServerMetadata reports. */
  public static final String NAME = "jbond";

  /** Triton's default gRPC port, the default here. */
  public static final int DEFAULT_PORT = 8001;

  private static final System.Logger LOG = System.getLogger(EmbeddedTritonServer.class.getName());

  /** The builder's settings, copied so that later changes to the builder do not leak in. */
  private record Settings(
      Path repository,
      int port,
      String host,
      String inProcessName,
      InstantSource clock,
      int queueCapacity,
      Duration maxQueueDelay,
      int defaultMaxBatchSize,
      int maxInboundMessageBytes,
      Duration shutdownTimeout,
      boolean loadModels) {}

  private final Settings settings;
  private final ModelManager models;
  private final ExecutorService workers;
  private final boolean ownsWorkers;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile Server server;

  private EmbeddedTritonServer(Builder builder) throws IOException {
    this.settings =
        new Settings(
            builder.repository,
            builder.port,
            builder.host,
            builder.inProcessName,
            builder.clock,
            builder.queueCapacity,
            builder.maxQueueDelay,
            builder.defaultMaxBatchSize,
            builder.maxInboundMessageBytes,
            builder.shutdownTimeout,
            builder.loadModels);
    this.ownsWorkers = builder.workers == null;
    this.workers =
        ownsWorkers
            ? Executors.newFixedThreadPool(builder.workerThreads, threads("jbond-serve-worker"))
            : builder.workers;
    this.ownsScheduler = builder.scheduler == null;
    this.scheduler =
        ownsScheduler
            ? Executors.newSingleThreadScheduledExecutor(threads("jbond-serve-batcher"))
            : builder.scheduler;
    try {
      this.models =
          new ModelManager(
              new ModelRepository(builder.repository),
              new ModelManager.Settings(
                  builder.sessionConfig,
                  builder.queueCapacity,
                  builder.maxQueueDelay,
                  builder.defaultMaxBatchSize,
                  workers,
                  scheduler,
                  builder.clock,
                  builder.listener,
                  Optional.ofNullable(builder.generationFactory)));
    } catch (IOException | RuntimeException e) {
      shutdownExecutors();
      throw e;
    }
  }

  /**
   * Starts a builder for a server over a repository.
   *
   * @param repository the model repository directory
   * @return the builder
   */
  public static Builder builder(Path repository) {
    return new Builder(Objects.requireNonNull(repository, "repository"));
  }

  /**
   * Loads the repository's models (unless {@link Builder#optLoadModels} said not to) and starts
   * serving. A model that fails to load is logged and listed by {@link #models()} as UNAVAILABLE
   * with its error as the reason; the server starts anyway.
   *
   * @return this server
   * @throws IOException when the port cannot be bound or the repository cannot be listed
   * @throws IllegalStateException when the server was started before or is closed
   */
  public EmbeddedTritonServer start() throws IOException {
    checkOpen();
    Checks.checkState(started.compareAndSet(false, true), "EmbeddedTritonServer already started");
    if (settings.loadModels()) {
      models.loadAll();
    }
    ServerBuilder<?> builder =
        settings.inProcessName() != null
            ? InProcessServerBuilder.forName(settings.inProcessName())
            : settings.host() == null
                ? Grpc.newServerBuilderForPort(settings.port(), InsecureServerCredentials.create())
                : NettyServerBuilder.forAddress(
                    new InetSocketAddress(settings.host(), settings.port()),
                    InsecureServerCredentials.create());
    builder
        .addService(
            new TritonInferenceService(
                models, version(), workers, settings.clock(), () -> !closed.get()))
        .fallbackHandlerRegistry(new UnimplementedMethods())
        .maxInboundMessageSize(settings.maxInboundMessageBytes());
    Server built = builder.build();
    built.start();
    server = built;
    LOG.log(System.Logger.Level.INFO, "Triton-protocol server listening on {0}", target());
    return this;
  }

  /**
   * Returns the bound TCP port.
   *
   * @return the port (the chosen one when the builder asked for port 0), or -1 on the in-process
   *     transport
   * @throws IllegalStateException when the server has not started
   */
  public int port() {
    Checks.checkState(server != null, "EmbeddedTritonServer has not started");
    return settings.inProcessName() != null ? -1 : server.getPort();
  }

  /**
   * Returns where clients connect: {@code localhost:<port>} (or the bound host's), or {@code
   * in-process:<name>}.
   *
   * @return the address
   * @throws IllegalStateException when the server has not started
   */
  public String target() {
    return settings.inProcessName() != null
        ? "in-process:" + settings.inProcessName()
        : (settings.host() == null ? "localhost" : settings.host()) + ":" + port();
  }

  /**
   * Returns the model index: one row per served version, one row with the state and reason for a
   * model that serves none.
   *
   * @return the rows, by model name then version
   */
  public List<ModelStatus> models() {
    return models.index(false);
  }

  /**
   * Returns how many requests wait in the queue of a plain model's latest version (not counting
   * running batches), for monitoring.
   *
   * @param model the model name
   * @return the queue length; 0 for a generation model
   * @throws IllegalArgumentException when the model serves no version
   */
  public int queuedRequests(String model) {
    LoadedVersion version;
    try {
      version = models.find(model, "");
    } catch (StatusRuntimeException e) {
      throw new IllegalArgumentException(
          "Expected a serving model '" + model + "', found " + models.index(false), e);
    }
    return version.batcher() == null ? 0 : version.batcher().queued();
  }

  /**
   * Loads or reloads a model from the repository, as RepositoryModelLoad without parameters.
   *
   * @param model the model name
   * @throws ModelLoadException when the model cannot be read or its configuration does not fit it
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   * @throws IllegalStateException when the server is closed
   */
  public void load(String model) throws ModelLoadException {
    checkOpen();
    models.load(model, Optional.empty(), Map.of());
  }

  /**
   * Loads or reloads a model with a configuration that replaces its {@code config.pbtxt}.
   *
   * @param model the model name
   * @param config the configuration
   * @throws ModelLoadException when the model cannot be read or the configuration does not fit it
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   * @throws IllegalStateException when the server is closed
   */
  public void load(String model, ModelConfig config) throws ModelLoadException {
    checkOpen();
    models.load(model, Optional.of(config), Map.of());
  }

  /**
   * Blocks until the server has terminated (after {@link #close()} from another thread).
   *
   * @throws InterruptedException when interrupted
   * @throws IllegalStateException when the server has not started
   */
  public void awaitTermination() throws InterruptedException {
    Server current = server;
    Checks.checkState(current != null, "EmbeddedTritonServer has not started");
    current.awaitTermination();
  }

  /**
   * Stops the server (see the class description). Idempotent.
   *
   * @throws IllegalStateException never; a second call does nothing
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Server current = server;
    if (current != null) {
      current.shutdown();
      try {
        if (!current.awaitTermination(settings.shutdownTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
          current.shutdownNow();
          current.awaitTermination(settings.shutdownTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
      } catch (InterruptedException e) {
        current.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    try {
      models.close();
    } finally {
      shutdownExecutors();
    }
  }

  private void shutdownExecutors() {
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
    if (ownsWorkers) {
      workers.shutdown();
      try {
        if (!workers.awaitTermination(settings.shutdownTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
          workers.shutdownNow();
        }
      } catch (InterruptedException e) {
        workers.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("EmbeddedTritonServer is closed");
    }
  }

  /** Returns the repository, port or in-process name, and the queue and batching settings. */
  @Override
  public String toString() {
    return "EmbeddedTritonServer[repository="
        + settings.repository()
        + ", "
        + (settings.inProcessName() != null
            ? "inProcessName=" + settings.inProcessName()
            : "port=" + settings.port())
        + ", queueCapacity="
        + settings.queueCapacity()
        + ", maxQueueDelay="
        + settings.maxQueueDelay()
        + ", defaultMaxBatchSize="
        + settings.defaultMaxBatchSize()
        + "]";
  }

  /**
   * Returns the jbond version ServerMetadata reports: the jar's implementation version, or {@code
   * "development"} when running from classes.
   *
   * @return the version
   */
  static String version() {
    String version = EmbeddedTritonServer.class.getPackage().getImplementationVersion();
    return version == null ? "development" : version;
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Builds an {@link EmbeddedTritonServer}; every setting but the repository is optional. */
  public static final class Builder {
    private final Path repository;
    private int port = DEFAULT_PORT;
    private String host;
    private String inProcessName;
    private SessionConfig sessionConfig = SessionConfig.defaults();
    private int workerThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
    private ExecutorService workers;
    private ScheduledExecutorService scheduler;
    private InstantSource clock = InstantSource.system();
    private int queueCapacity = 1024;
    private Duration maxQueueDelay = Duration.ZERO;
    private int defaultMaxBatchSize = 4;
    private int maxInboundMessageBytes = Integer.MAX_VALUE;
    private EmbeddedServerListener listener = new EmbeddedServerListener() {};
    private GenerationModelFactory generationFactory;
    private Duration shutdownTimeout = Duration.ofSeconds(5);
    private boolean loadModels = true;

    private Builder(Path repository) {
      this.repository = repository;
    }

    /**
     * Sets the TCP port. Default {@value EmbeddedTritonServer#DEFAULT_PORT} (Triton's gRPC port); 0
     * picks a free port (see {@link EmbeddedTritonServer#port()}).
     *
     * @param port the port, 0 to 65535
     * @return this builder
     */
    public Builder optPort(int port) {
      Checks.checkArgument(
          port >= 0 && port <= 65535, "Expected a port in [0, 65535], found %d", port);
      this.port = port;
      return this;
    }

    /**
     * Sets the address to bind, for example {@code 127.0.0.1} to accept connections from this
     * machine only. Default: every interface (as Triton).
     *
     * @param host a host name or IP address literal, non-empty
     * @return this builder
     */
    public Builder optHost(String host) {
      Checks.checkArgument(
          host != null && !host.isEmpty(), "Expected a host to bind, found '%s'", host);
      this.host = host;
      return this;
    }

    /**
     * Serves on gRPC's in-process transport under a name instead of TCP. Default: TCP. Message size
     * limits are not enforced in process (messages are not serialised).
     *
     * @param name the in-process server name, non-empty
     * @return this builder
     */
    public Builder optInProcessName(String name) {
      Checks.checkArgument(
          name != null && !name.isEmpty(),
          "Expected a non-empty in-process name, found '%s'",
          name);
      this.inProcessName = name;
      return this;
    }

    /**
     * Sets how ONNX Runtime sessions are opened. Default {@link SessionConfig#defaults()}.
     *
     * @param config the session settings
     * @return this builder
     */
    public Builder optSessionConfig(SessionConfig config) {
      this.sessionConfig = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Sets the number of worker threads the server creates to run batches and generation calls.
     * Default: the number of processors, at least 2. Ignored with {@link #optWorkerExecutor}.
     *
     * @param threads the thread count, {@code >= 1}
     * @return this builder
     */
    public Builder optWorkerThreads(int threads) {
      Checks.checkArgument(threads >= 1, "Expected workerThreads >= 1, found %d", threads);
      this.workerThreads = threads;
      return this;
    }

    /**
     * Runs batches and generation calls on the caller's executor, which the server never shuts
     * down. Default: a fixed pool the server owns.
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder optWorkerExecutor(ExecutorService executor) {
      this.workers = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Schedules the dynamic batchers' delay timers on the caller's scheduler, which the server
     * never shuts down. Default: one daemon thread the server owns.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder optScheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets the clock that request deadlines and queue timeouts are measured on. Default {@link
     * InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder optClock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the queue capacity of each model version, used unless its configuration sets {@code
     * dynamic_batching.default_queue_policy.max_queue_size}. Default 1024 (Triton's default is
     * unbounded; a bound keeps memory in check).
     *
     * @param capacity the capacity, {@code >= 1}
     * @return this builder
     */
    public Builder optQueueCapacity(int capacity) {
      Checks.checkArgument(capacity >= 1, "Expected queueCapacity >= 1, found %d", capacity);
      this.queueCapacity = capacity;
      return this;
    }

    /**
     * Sets how long the dynamic batcher waits for more requests before it runs a batch that is not
     * full, used unless a model's configuration sets {@code
     * dynamic_batching.max_queue_delay_microseconds}. Default 0, Triton's default: a batch runs as
     * soon as an instance is free, with whatever queued while the previous one ran.
     *
     * @param delay the delay, {@code >= 0}
     * @return this builder
     */
    public Builder optMaxQueueDelay(Duration delay) {
      Checks.checkArgument(
          delay != null && !delay.isNegative(), "Expected maxQueueDelay >= 0, found %s", delay);
      this.maxQueueDelay = delay;
      return this;
    }

    /**
     * Sets the {@code max_batch_size} given to ONNX models without a configuration whose inputs and
     * outputs all have a variable first dimension. Default 4, Triton's {@code
     * default-max-batch-size}; 0 turns auto-configured batching off.
     *
     * @param size the batch size, {@code >= 0}
     * @return this builder
     */
    public Builder optDefaultMaxBatchSize(int size) {
      Checks.checkArgument(size >= 0, "Expected defaultMaxBatchSize >= 0, found %d", size);
      this.defaultMaxBatchSize = size;
      return this;
    }

    /**
     * Sets the largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. Default
     * {@link Integer#MAX_VALUE}, Triton's limit.
     *
     * @param bytes the limit, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxInboundMessageBytes(int bytes) {
      Checks.checkArgument(bytes >= 1, "Expected maxInboundMessageBytes >= 1, found %d", bytes);
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * Sets a listener for batches and model versions. Default: none.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder optListener(EmbeddedServerListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets what makes generation models ({@code backend: "jbond-generate"}). Default: none, and
     * such models fail to load with a message saying so.
     *
     * @param factory the factory
     * @return this builder
     */
    public Builder optGenerationModelFactory(GenerationModelFactory factory) {
      this.generationFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Sets how long {@link EmbeddedTritonServer#close()} waits for calls in flight, and then for
     * the worker threads. Default 5 seconds.
     *
     * @param timeout the timeout, positive
     * @return this builder
     */
    public Builder optShutdownTimeout(Duration timeout) {
      Checks.checkArgument(
          timeout != null && !timeout.isNegative() && !timeout.isZero(),
          "Expected a positive shutdownTimeout, found %s",
          timeout);
      this.shutdownTimeout = timeout;
      return this;
    }

    /**
     * Sets whether {@link EmbeddedTritonServer#start()} loads every model of the repository.
     * Default true; false starts with no model loaded, as Triton's explicit model control mode
     * without {@code --load-model}, and models are loaded by RepositoryModelLoad.
     *
     * @param load whether to load at start
     * @return this builder
     */
    public Builder optLoadModels(boolean load) {
      this.loadModels = load;
      return this;
    }

    /**
     * Creates the server, stopped.
     *
     * @return the server; the caller closes it
     * @throws IllegalArgumentException when the repository is not a directory
     * @throws IOException when the server's temporary directory cannot be created
     */
    public EmbeddedTritonServer build() throws IOException {
      return new EmbeddedTritonServer(this);
    }
  }
}
