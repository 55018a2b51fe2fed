package dev.jbond.serving.triton;

import com.google.protobuf.ByteString;
import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelConfigRequest;
import dev.jbond.serving.triton.proto.ModelConfigResponse;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataRequest;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.ModelReadyResponse;
import dev.jbond.serving.triton.proto.ModelRepositoryParameter;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import dev.jbond.serving.triton.proto.RepositoryIndexRequest;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import dev.jbond.serving.triton.proto.RepositoryModelUnloadRequest;
import dev.jbond.serving.triton.proto.ServerLiveRequest;
import dev.jbond.serving.triton.proto.ServerLiveResponse;
import dev.jbond.serving.triton.proto.ServerMetadataRequest;
import dev.jbond.serving.triton.proto.ServerMetadataResponse;
import dev.jbond.serving.triton.proto.ServerReadyRequest;
import dev.jbond.serving.triton.proto.ServerReadyResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * An asynchronous client for Triton's gRPC inference protocol over one or more endpoints.
 *
 * <h2>Calls</h2>
 *
 * Every method returns a {@link CompletableFuture} that completes on a gRPC thread (use the {@code
 * *Async} stages to move work elsewhere). Failures complete it with a {@link BackendException}
 * whose {@link BackendException#code()} is mapped from the gRPC status and whose cause is the
 * original gRPC exception; its one-line message names the RPC, the model, the endpoint, the number
 * of attempts and the status. Cancelling a future cancels the RPC and any pending retry.
 *
 * <p>Every attempt carries a deadline: {@link TritonClientConfig#deadline()} unless {@link
 * TritonCallOptions#deadline()} overrides it. Idempotent calls are retried on UNAVAILABLE and
 * DEADLINE_EXCEEDED per {@link TritonRetryPolicy}, each retry on the next healthy endpoint, so a
 * call may take up to {@code maxAttempts} deadlines plus the backoffs.
 *
 * <h2>Endpoints</h2>
 *
 * Calls go round robin over the endpoints that are not ejected; {@link TritonHealthCheck} says when
 * an endpoint is ejected and re-admitted. When every endpoint is ejected, calls fail at once with
 * code UNAVAILABLE and a message naming the endpoints. {@link TritonCallOptions#onEndpoint} sends a
 * call to one named endpoint regardless of its health (for example a model load on every server). A
 * stream stays on the endpoint it opened on.
 *
 * <h2>Ownership</h2>
 *
 * A client built from {@link TritonClientConfig#endpoints()} creates and owns one {@link
 * ManagedChannel} per endpoint and shuts them down on {@link #close()}, waiting at most {@link
 * TritonClientConfig#shutdownTimeout()}. A client given {@link TritonChannel}s never shuts them
 * down. The same holds for the scheduler: an injected one is the caller's, the default one is the
 * client's. {@link #close()} cancels calls and streams still in flight and is idempotent; any other
 * method throws {@code IllegalStateException("TritonClient is closed")} afterwards.
 */
public final class TritonClient implements AutoCloseable {
  private static final Set<Status.Code> RETRYABLE =
      EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);

  private final TritonClientConfig config;
  private final EndpointPool pool;
  private final List<ManagedChannel> ownedChannels;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final RandomGenerator random; // guarded by itself
  private final Set<UnaryCall<?, ?, ?>> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<TritonInferStream> openStreams = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ScheduledFuture<?> healthTask;

  private TritonClient(
      TritonClientConfig config,
      List<TritonChannel> channels,
      List<ManagedChannel> ownedChannels,
      ScheduledExecutorService scheduler,
      boolean ownsScheduler,
      RandomGenerator random,
      List<ClientInterceptor> interceptors) {
    this.config = config;
    this.ownedChannels = List.copyOf(ownedChannels);
    this.scheduler = scheduler;
    this.ownsScheduler = ownsScheduler;
    this.random = random;
    List<TritonChannel> intercepted = new ArrayList<>(channels.size());
    for (TritonChannel channel : channels) {
      Channel c = withHeaders(channel.channel());
      if (!interceptors.isEmpty()) {
        c = ClientInterceptors.intercept(c, interceptors);
      }
      intercepted.add(new TritonChannel(channel.name(), c));
    }
    this.pool = new EndpointPool(intercepted, config.healthCheck().ejectAfterFailures());
    long interval = config.healthCheck().interval().toNanos();
    this.healthTask =
        scheduler.scheduleWithFixedDelay(
            this::periodicHealthCheck, interval, interval, TimeUnit.NANOSECONDS);
  }

  /**
   * Returns a builder for a client with these settings.
   *
   * @param config the settings
   * @return the builder
   */
  public static Builder builder(TritonClientConfig config) {
    return new Builder(config);
  }

  /**
   * Returns the endpoint names, in configuration order.
   *
   * @return the names
   */
  public List<String> endpointNames() {
    return pool.names();
  }

  /**
   * Returns a snapshot of each endpoint's health, in configuration order.
   *
   * @return the statuses
   */
  public List<TritonEndpointStatus> endpointStatuses() {
    return pool.statuses();
  }

  /**
   * Takes an endpoint out of round-robin traffic, whatever its health, until {@link #release}: for
   * example because it does not hold the weights in use. Calls that name the endpoint ({@link
   * TritonCallOptions#onEndpoint}) still reach it. Idempotent.
   *
   * @param endpoint the endpoint's name
   * @param reason why, one line (logged and shown in {@link #endpointStatuses()})
   * @throws IllegalArgumentException when no endpoint has that name
   */
  public void quarantine(String endpoint, String reason) {
    Objects.requireNonNull(reason, "reason");
    pool.quarantine(pool.named(endpoint), reason);
  }

  /**
   * Returns a quarantined endpoint to round-robin traffic (subject to its health). Idempotent.
   *
   * @param endpoint the endpoint's name
   * @throws IllegalArgumentException when no endpoint has that name
   */
  public void release(String endpoint) {
    pool.release(pool.named(endpoint));
  }

  /**
   * Probes every endpoint now (see {@link TritonHealthCheck}) and updates ejections; the periodic
   * probe does the same. Useful right after a model load.
   *
   * @return completes when every probe has finished; never fails
   * @throws IllegalStateException when the client is closed
   */
  public CompletableFuture<Void> checkHealth() {
    checkOpen();
    List<CompletableFuture<Void>> probes = new ArrayList<>();
    for (EndpointPool.Endpoint endpoint : pool.all()) {
      probes.add(probe(endpoint));
    }
    return CompletableFuture.allOf(probes.toArray(new CompletableFuture<?>[0]));
  }

  // ---- health and metadata ----

  /**
   * Asks whether the server is live (ServerLive). Idempotent.
   *
   * @param options per-call settings
   * @return the server's answer
   */
  public CompletableFuture<Boolean> serverLive(TritonCallOptions options) {
    return unary(
        "ServerLive",
        GRPCInferenceServiceGrpc.getServerLiveMethod(),
        ServerLiveRequest.getDefaultInstance(),
        options,
        true,
        ServerLiveResponse::getLive);
  }

  /**
   * Asks whether the server is live, with default options.
   *
   * @return the server's answer
   */
  public CompletableFuture<Boolean> serverLive() {
    return serverLive(TritonCallOptions.defaults());
  }

  /**
   * Asks whether the server is ready (ServerReady; with Triton's strict readiness, false while any
   * model loads). Idempotent.
   *
   * @param options per-call settings
   * @return the server's answer
   */
  public CompletableFuture<Boolean> serverReady(TritonCallOptions options) {
    return unary(
        "ServerReady",
        GRPCInferenceServiceGrpc.getServerReadyMethod(),
        ServerReadyRequest.getDefaultInstance(),
        options,
        true,
        ServerReadyResponse::getReady);
  }

  /**
   * Returns the server's name, version and protocol extensions (ServerMetadata). Idempotent.
   *
   * @param options per-call settings
   * @return the metadata
   */
  public CompletableFuture<ServerMetadataResponse> serverMetadata(TritonCallOptions options) {
    return unary(
        "ServerMetadata",
        GRPCInferenceServiceGrpc.getServerMetadataMethod(),
        ServerMetadataRequest.getDefaultInstance(),
        options,
        true,
        Function.identity());
  }

  /**
   * Asks whether a model can take requests (ModelReady). Idempotent.
   *
   * @param model the model name, non-empty
   * @param version the version; empty: the server's choice by version policy
   * @param options per-call settings
   * @return the server's answer
   */
  public CompletableFuture<Boolean> modelReady(
      String model, String version, TritonCallOptions options) {
    checkModel(model);
    return unary(
        "ModelReady of model '" + model + "'",
        GRPCInferenceServiceGrpc.getModelReadyMethod(),
        ModelReadyRequest.newBuilder().setName(model).setVersion(version).build(),
        options,
        true,
        ModelReadyResponse::getReady);
  }

  /**
   * Asks whether a model's version chosen by the server can take requests, with default options.
   *
   * @param model the model name, non-empty
   * @return the server's answer
   */
  public CompletableFuture<Boolean> modelReady(String model) {
    return modelReady(model, "", TritonCallOptions.defaults());
  }

  /**
   * Returns a model's versions, platform and tensor metadata (ModelMetadata). Idempotent.
   *
   * @param model the model name, non-empty
   * @param version the version; empty: the server's choice
   * @param options per-call settings
   * @return the metadata
   */
  public CompletableFuture<ModelMetadataResponse> modelMetadata(
      String model, String version, TritonCallOptions options) {
    checkModel(model);
    return unary(
        "ModelMetadata of model '" + model + "'",
        GRPCInferenceServiceGrpc.getModelMetadataMethod(),
        ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build(),
        options,
        true,
        Function.identity());
  }

  /**
   * Returns a model's configuration (ModelConfig). Idempotent.
   *
   * @param model the model name, non-empty
   * @param version the version; empty: the server's choice
   * @param options per-call settings
   * @return the configuration
   */
  public CompletableFuture<ModelConfig> modelConfig(
      String model, String version, TritonCallOptions options) {
    checkModel(model);
    return unary(
        "ModelConfig of model '" + model + "'",
        GRPCInferenceServiceGrpc.getModelConfigMethod(),
        ModelConfigRequest.newBuilder().setName(model).setVersion(version).build(),
        options,
        true,
        ModelConfigResponse::getConfig);
  }

  // ---- inference ----

  /**
   * Runs one inference (ModelInfer). Not retried unless {@code options} declares the request
   * idempotent (for example sampling with explicit seeds). Build inputs with {@link
   * TritonTensors#setInputs} and read outputs with {@link TritonTensors#outputs}.
   *
   * @param request the request, with a model name
   * @param options per-call settings
   * @return the response
   * @throws IllegalArgumentException when the request has no model name
   */
  public CompletableFuture<ModelInferResponse> modelInfer(
      ModelInferRequest request, TritonCallOptions options) {
    checkModel(request.getModelName());
    return unary(
        "ModelInfer of model '" + request.getModelName() + "'",
        GRPCInferenceServiceGrpc.getModelInferMethod(),
        request,
        options,
        false,
        Function.identity());
  }

  /**
   * Opens a ModelStreamInfer stream on the next healthy endpoint (or {@link
   * TritonCallOptions#endpoint()}). Streams are not retried; the deadline covers the whole stream.
   *
   * @param options per-call settings
   * @return the open stream; the caller closes it
   * @throws BackendException with code UNAVAILABLE when every endpoint is ejected
   */
  public TritonInferStream openInferStream(TritonCallOptions options) {
    checkOpen();
    EndpointPool.Endpoint endpoint = endpointFor("ModelStreamInfer", options);
    ClientCall<ModelInferRequest, ModelStreamInferResponse> call =
        endpoint
            .channel()
            .newCall(GRPCInferenceServiceGrpc.getModelStreamInferMethod(), callOptions(options));
    TritonInferStream[] holder = new TritonInferStream[1];
    TritonInferStream stream =
        new TritonInferStream(
            endpoint.name(),
            call,
            config.maxInboundMessageBytes(),
            status -> pool.callFailed(endpoint, status, "ModelStreamInfer"),
            () -> {
              if (holder[0] != null) {
                openStreams.remove(holder[0]);
              }
            });
    holder[0] = stream;
    openStreams.add(stream);
    if (closed.get()) {
      stream.cancel();
      throw new IllegalStateException("TritonClient is closed");
    }
    return stream;
  }

  /**
   * Sends {@code requests} on one new stream and half-closes it.
   *
   * @param requests the requests, each with a distinct non-empty id
   * @param options per-call settings
   * @return one future per request, in request order (see {@link TritonInferStream#send})
   * @throws IllegalArgumentException when ids are empty or repeated
   * @throws BackendException with code UNAVAILABLE when every endpoint is ejected
   */
  public List<CompletableFuture<List<ModelInferResponse>>> streamInfer(
      List<ModelInferRequest> requests, TritonCallOptions options) {
    Set<String> ids = new HashSet<>();
    for (ModelInferRequest request : requests) {
      if (request.getId().isEmpty() || !ids.add(request.getId())) {
        throw new IllegalArgumentException(
            "Expected distinct non-empty request ids on a stream, found '"
                + request.getId()
                + "' for model '"
                + request.getModelName()
                + "'");
      }
    }
    TritonInferStream stream = openInferStream(options);
    List<CompletableFuture<List<ModelInferResponse>>> futures = new ArrayList<>(requests.size());
    for (ModelInferRequest request : requests) {
      futures.add(stream.send(request));
    }
    stream.close();
    return futures;
  }

  // ---- model repository ----

  /**
   * Lists the models in the repository (RepositoryIndex). Idempotent.
   *
   * @param repositoryName the repository; empty: all
   * @param readyOnly whether to list only READY models
   * @param options per-call settings
   * @return the models with their version, state and reason
   */
  public CompletableFuture<List<RepositoryIndexResponse.ModelIndex>> repositoryIndex(
      String repositoryName, boolean readyOnly, TritonCallOptions options) {
    return unary(
        "RepositoryIndex",
        GRPCInferenceServiceGrpc.getRepositoryIndexMethod(),
        RepositoryIndexRequest.newBuilder()
            .setRepositoryName(repositoryName)
            .setReady(readyOnly)
            .build(),
        options,
        true,
        RepositoryIndexResponse::getModelsList);
  }

  /**
   * Loads or reloads a model (RepositoryModelLoad), which returns once the model is loaded or has
   * failed to load. With {@code files}, Triton builds the model directory from those files and the
   * configuration alone, so {@code config} is then required; everything rides in one message, so
   * files suit small artifacts. Not retried unless {@code options} says so.
   *
   * @param model the model name, non-empty
   * @param config the model configuration as protobuf JSON (proto field names such as {@code
   *     max_batch_size}); sent as the {@code "config"} string parameter; supplying it forces a
   *     reload
   * @param files file contents by path relative to the model directory, for example {@code
   *     "1/model.onnx"}; each is sent as the {@code "file:<path>"} bytes parameter
   * @param options per-call settings
   * @return completes when the server reports the load done
   * @throws IllegalArgumentException when files are given without a config, or a path is empty,
   *     absolute or leaves the model directory
   */
  public CompletableFuture<Void> loadModel(
      String model,
      Optional<String> config,
      Map<String, ByteString> files,
      TritonCallOptions options) {
    checkModel(model);
    if (!files.isEmpty() && config.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected a config for the file overrides of model '"
              + model
              + "' (Triton requires 'config' with any 'file:' parameter), found files "
              + new TreeMap<>(files).keySet());
    }
    RepositoryModelLoadRequest.Builder request =
        RepositoryModelLoadRequest.newBuilder().setModelName(model);
    config.ifPresent(
        json ->
            request.putParameters(
                "config", ModelRepositoryParameter.newBuilder().setStringParam(json).build()));
    for (Map.Entry<String, ByteString> file : new TreeMap<>(files).entrySet()) {
      checkModelFilePath(model, file.getKey());
      request.putParameters(
          "file:" + file.getKey(),
          ModelRepositoryParameter.newBuilder().setBytesParam(file.getValue()).build());
    }
    return unary(
        "RepositoryModelLoad of model '" + model + "'",
        GRPCInferenceServiceGrpc.getRepositoryModelLoadMethod(),
        request.build(),
        options,
        false,
        response -> null);
  }

  /**
   * Starts unloading a model (RepositoryModelUnload); Triton answers once the unload has started,
   * so poll {@link #repositoryIndex} until the model leaves state UNLOADING before relying on the
   * freed memory. Not retried unless {@code options} says so.
   *
   * @param model the model name, non-empty
   * @param unloadDependents whether to unload models loaded with it as well (for example ensemble
   *     members)
   * @param options per-call settings
   * @return completes when the server has accepted the unload
   */
  public CompletableFuture<Void> unloadModel(
      String model, boolean unloadDependents, TritonCallOptions options) {
    checkModel(model);
    RepositoryModelUnloadRequest.Builder request =
        RepositoryModelUnloadRequest.newBuilder().setModelName(model);
    if (unloadDependents) {
      request.putParameters(
          "unload_dependents", ModelRepositoryParameter.newBuilder().setBoolParam(true).build());
    }
    return unary(
        "RepositoryModelUnload of model '" + model + "'",
        GRPCInferenceServiceGrpc.getRepositoryModelUnloadMethod(),
        request.build(),
        options,
        false,
        response -> null);
  }

  // ---- lifecycle ----

  /**
   * Stops probing, cancels calls and streams in flight, and shuts down what the client owns:
   * created channels (waiting at most {@link TritonClientConfig#shutdownTimeout()} before forcing
   * them) and the default scheduler. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    healthTask.cancel(false);
    for (UnaryCall<?, ?, ?> call : List.copyOf(inFlight)) {
      call.result.cancel(false);
    }
    for (TritonInferStream stream : List.copyOf(openStreams)) {
      stream.cancel();
    }
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
    for (ManagedChannel channel : ownedChannels) {
      channel.shutdown();
    }
    long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
    try {
      for (ManagedChannel channel : ownedChannels) {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!channel.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          channel.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      for (ManagedChannel channel : ownedChannels) {
        channel.shutdownNow();
      }
    }
  }

  // ---- internals ----

  /** Whether every channel this client created has terminated (for tests of {@link #close()}). */
  boolean ownedChannelsTerminated() {
    for (ManagedChannel channel : ownedChannels) {
      if (!channel.isTerminated()) {
        return false;
      }
    }
    return true;
  }

  /** How many channels this client created and owns. */
  int ownedChannelCount() {
    return ownedChannels.size();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("TritonClient is closed");
    }
  }

  private static void checkModel(String model) {
    if (model == null || model.isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty model name");
    }
  }

  private static void checkModelFilePath(String model, String path) {
    boolean escapes = false;
    for (String segment : path.split("/", -1)) {
      escapes |= segment.equals("..");
    }
    if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || escapes) {
      throw new IllegalArgumentException(
          "Expected a relative path inside the model directory for a file of model '"
              + model
              + "', such as '1/model.onnx', found '"
              + path
              + "'");
    }
  }

  private Channel withHeaders(Channel channel) {
    if (config.headers().isEmpty()) {
      return channel;
    }
    Metadata metadata = new Metadata();
    for (Map.Entry<String, String> header : config.headers().entrySet()) {
      metadata.put(
          Metadata.Key.of(header.getKey(), Metadata.ASCII_STRING_MARSHALLER), header.getValue());
    }
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(metadata));
  }

  private CallOptions callOptions(TritonCallOptions options) {
    return callOptions(options.deadline().orElse(config.deadline()));
  }

  private CallOptions callOptions(Duration deadline) {
    return CallOptions.DEFAULT
        .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS)
        .withMaxInboundMessageSize(config.maxInboundMessageBytes());
  }

  private EndpointPool.Endpoint endpointFor(String attempted, TritonCallOptions options) {
    return options.endpoint().isPresent()
        ? pool.named(options.endpoint().get())
        : pool.pick(attempted);
  }

  /**
   * Returns the retry policy that unary calls follow (and that callers retrying whole streams, such
   * as {@code TritonSampler}, follow too).
   *
   * @return the policy of this client's configuration
   */
  public TritonRetryPolicy retryPolicy() {
    return config.retry();
  }

  private Duration nextBackoff(int retry) {
    synchronized (random) {
      return config.retry().backoff(retry, random);
    }
  }

  private <Q, R, T> CompletableFuture<T> unary(
      String attempted,
      MethodDescriptor<Q, R> method,
      Q request,
      TritonCallOptions options,
      boolean idempotentByDefault,
      Function<R, T> mapper) {
    checkOpen();
    if (options.endpoint().isPresent()) {
      pool.named(options.endpoint().get()); // unknown names are the caller's mistake: fail now
    }
    UnaryCall<Q, R, T> call =
        new UnaryCall<>(
            attempted,
            method,
            request,
            options,
            options.idempotent().orElse(idempotentByDefault),
            mapper);
    inFlight.add(call);
    call.result.whenComplete((value, failure) -> inFlight.remove(call));
    if (closed.get()) {
      call.result.cancel(false);
    } else {
      call.attempt();
    }
    return call.result;
  }

  /** One logical unary call: its attempts, its pending retry and its result. */
  private final class UnaryCall<Q, R, T> {
    final CompletableFuture<T> result = new CompletableFuture<>();
    private final String attempted;
    private final MethodDescriptor<Q, R> method;
    private final Q request;
    private final TritonCallOptions options;
    private final boolean idempotent;
    private final Function<R, T> mapper;
    private int attempts; // written by one attempt at a time
    private volatile ClientCall<Q, R> current;
    private volatile ScheduledFuture<?> retryTask;

    UnaryCall(
        String attempted,
        MethodDescriptor<Q, R> method,
        Q request,
        TritonCallOptions options,
        boolean idempotent,
        Function<R, T> mapper) {
      this.attempted = attempted;
      this.method = method;
      this.request = request;
      this.options = options;
      this.idempotent = idempotent;
      this.mapper = mapper;
      result.whenComplete(
          (value, failure) -> {
            if (result.isCancelled()) {
              cancelAttempt();
            }
          });
    }

    void attempt() {
      if (result.isDone()) {
        return;
      }
      if (closed.get()) {
        result.cancel(false);
        return;
      }
      EndpointPool.Endpoint endpoint;
      try {
        endpoint = endpointFor(attempted, options);
      } catch (BackendException e) {
        result.completeExceptionally(e);
        return;
      }
      attempts++;
      try {
        ClientCall<Q, R> call = endpoint.channel().newCall(method, callOptions(options));
        current = call;
        ClientCalls.asyncUnaryCall(call, request, new Observer(endpoint));
      } catch (RuntimeException e) {
        // The transport refused to start the call (e.g. grpc-java's in-process transport racing a
        // server shutdown); the request never reached the server, so it fails like an
        // unreachable endpoint and is retried where the call allows it.
        failed(
            endpoint,
            Status.UNAVAILABLE
                .withDescription("the call could not start: " + e)
                .withCause(e)
                .asRuntimeException());
      }
      if (result.isCancelled()) {
        cancelAttempt();
      }
    }

    private void cancelAttempt() {
      ClientCall<Q, R> call = current;
      if (call != null) {
        call.cancel("Cancelled by the caller", null);
      }
      ScheduledFuture<?> retry = retryTask;
      if (retry != null) {
        retry.cancel(false);
      }
    }

    private void failed(EndpointPool.Endpoint endpoint, Throwable failure) {
      Status status = Status.fromThrowable(failure);
      pool.callFailed(endpoint, status, attempted);
      if (result.isDone()) {
        return;
      }
      if (idempotent
          && RETRYABLE.contains(status.getCode())
          && attempts < config.retry().maxAttempts()
          && !closed.get()) {
        Duration wait = nextBackoff(attempts);
        try {
          retryTask = scheduler.schedule(this::attempt, wait.toNanos(), TimeUnit.NANOSECONDS);
          return;
        } catch (RejectedExecutionException e) {
          // the scheduler is shut down: report the failure we have
        }
      }
      result.completeExceptionally(
          TritonErrors.fromFailure(
              attempted, endpoint.name(), failure, attempts, config.maxInboundMessageBytes()));
    }

    /** Receives one attempt's outcome. */
    private final class Observer implements StreamObserver<R> {
      private final EndpointPool.Endpoint endpoint;
      private R value;

      Observer(EndpointPool.Endpoint endpoint) {
        this.endpoint = endpoint;
      }

      @Override
      public void onNext(R response) {
        value = response;
      }

      @Override
      public void onError(Throwable t) {
        failed(endpoint, t);
      }

      @Override
      public void onCompleted() {
        pool.callSucceeded(endpoint);
        try {
          result.complete(mapper.apply(value));
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
      }
    }
  }

  // ---- health probes ----

  private void periodicHealthCheck() {
    try {
      if (!closed.get()) {
        checkHealth();
      }
    } catch (RuntimeException e) {
      // never let an exception end the periodic schedule; the next round tries again
      System.getLogger(TritonClient.class.getName())
          .log(System.Logger.Level.WARNING, "Triton health check round failed to start", e);
    }
  }

  private CompletableFuture<Void> probe(EndpointPool.Endpoint endpoint) {
    Duration timeout = config.healthCheck().timeout();
    CompletableFuture<Void> done = new CompletableFuture<>();
    once(
            endpoint,
            GRPCInferenceServiceGrpc.getServerLiveMethod(),
            ServerLiveRequest.getDefaultInstance(),
            timeout,
            "ServerLive")
        .thenCompose(
            live ->
                live.getLive()
                    ? modelsReady(endpoint, config.healthCheck().models(), 0, timeout)
                    : CompletableFuture.failedFuture(
                        new IllegalStateException("ServerLive answered false")))
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                pool.probeSucceeded(endpoint);
              } else {
                Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                pool.probeFailed(endpoint, cause.getMessage());
              }
              done.complete(null);
            });
    return done;
  }

  private CompletableFuture<Void> modelsReady(
      EndpointPool.Endpoint endpoint, List<String> models, int index, Duration timeout) {
    if (index == models.size()) {
      return CompletableFuture.completedFuture(null);
    }
    String model = models.get(index);
    return once(
            endpoint,
            GRPCInferenceServiceGrpc.getModelReadyMethod(),
            ModelReadyRequest.newBuilder().setName(model).build(),
            timeout,
            "ModelReady of model '" + model + "'")
        .thenCompose(
            ready ->
                ready.getReady()
                    ? modelsReady(endpoint, models, index + 1, timeout)
                    : CompletableFuture.failedFuture(
                        new IllegalStateException(
                            "ModelReady of model '" + model + "' answered false")));
  }

  /** One attempt on one endpoint, without retries or health bookkeeping. */
  private <Q, R> CompletableFuture<R> once(
      EndpointPool.Endpoint endpoint,
      MethodDescriptor<Q, R> method,
      Q request,
      Duration deadline,
      String attempted) {
    CompletableFuture<R> result = new CompletableFuture<>();
    ClientCall<Q, R> call = endpoint.channel().newCall(method, callOptions(deadline));
    ClientCalls.asyncUnaryCall(
        call,
        request,
        new StreamObserver<R>() {
          private R value;

          @Override
          public void onNext(R response) {
            value = response;
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(
                TritonErrors.fromFailure(
                    attempted, endpoint.name(), t, 1, config.maxInboundMessageBytes()));
          }

          @Override
          public void onCompleted() {
            result.complete(value);
          }
        });
    return result;
  }

  // ---- construction ----

  /**
   * Builds a {@link TritonClient}: from the configuration's endpoints (the client creates and owns
   * the channels) or from {@link #optChannels} (the caller owns them).
   */
  public static final class Builder {
    private final TritonClientConfig config;
    private List<TritonChannel> channels = List.of();
    private ScheduledExecutorService scheduler;
    private RandomGenerator random;
    private final List<ClientInterceptor> interceptors = new ArrayList<>();

    private Builder(TritonClientConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * Uses these channels instead of creating them from the configuration's endpoints. The caller
     * keeps ownership and shuts them down after closing the client. Default: none.
     *
     * @param channels the channels with distinct names
     * @return this builder
     */
    public Builder optChannels(List<TritonChannel> channels) {
      this.channels = List.copyOf(channels);
      return this;
    }

    /**
     * Uses this scheduler for retries and health probes; the caller keeps ownership. Default: a
     * single daemon thread owned by the client.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder optScheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Uses this generator for backoff jitter (pass a seeded one for reproducible tests). Default: a
     * {@link SplittableRandom} seeded from {@link SecureRandom}, so that clients in a fleet do not
     * retry in lockstep.
     *
     * @param random the generator; the client synchronizes on it
     * @return this builder
     */
    public Builder optRandom(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Adds an interceptor to every call on every endpoint (outermost last), for example one that
     * counts calls by outcome for metrics. Default: none.
     *
     * @param interceptor the interceptor
     * @return this builder
     */
    public Builder optInterceptor(ClientInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /**
     * Creates the client (and, from endpoints, its channels; nothing connects until the first
     * call).
     *
     * @return the client
     * @throws IllegalArgumentException when both or neither of endpoints and channels are given,
     *     channel names repeat, or a TLS PEM file cannot be read
     */
    public TritonClient build() {
      boolean fromEndpoints = !config.endpoints().isEmpty();
      if (fromEndpoints == !channels.isEmpty()) {
        throw new IllegalArgumentException(
            "Expected either endpoints in the TritonClientConfig or channels, found "
                + (fromEndpoints ? "both" : "neither"));
      }
      Set<String> names = new HashSet<>();
      for (TritonChannel channel : channels) {
        if (!names.add(channel.name())) {
          throw new IllegalArgumentException(
              "Expected distinct endpoint names, found '" + channel.name() + "' twice");
        }
      }
      List<ManagedChannel> owned = new ArrayList<>();
      List<TritonChannel> all = new ArrayList<>(channels);
      if (fromEndpoints) {
        try {
          for (TritonEndpoint endpoint : config.endpoints()) {
            ManagedChannel channel = createChannel(endpoint);
            owned.add(channel);
            all.add(new TritonChannel(endpoint.name(), channel));
          }
        } catch (RuntimeException e) {
          owned.forEach(ManagedChannel::shutdownNow);
          throw e;
        }
      }
      boolean ownsScheduler = scheduler == null;
      ScheduledExecutorService sched =
          ownsScheduler
              ? Executors.newSingleThreadScheduledExecutor(
                  task -> {
                    Thread thread = new Thread(task, "jbond-triton-client");
                    thread.setDaemon(true);
                    return thread;
                  })
              : scheduler;
      RandomGenerator rng =
          random != null ? random : new SplittableRandom(new SecureRandom().nextLong());
      return new TritonClient(
          config, all, owned, sched, ownsScheduler, rng, List.copyOf(interceptors));
    }

    private ManagedChannel createChannel(TritonEndpoint endpoint) {
      ChannelCredentials credentials =
          endpoint.tls().isPresent()
              ? endpoint.tls().get().credentials()
              : InsecureChannelCredentials.create();
      ManagedChannelBuilder<?> builder =
          Grpc.newChannelBuilder(endpoint.target(), credentials)
              .maxInboundMessageSize(config.maxInboundMessageBytes());
      endpoint.tls().flatMap(TritonTls::authorityOverride).ifPresent(builder::overrideAuthority);
      config
          .keepAliveTime()
          .ifPresent(
              time ->
                  builder
                      .keepAliveTime(time.toNanos(), TimeUnit.NANOSECONDS)
                      .keepAliveTimeout(config.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
                      .keepAliveWithoutCalls(false));
      return builder.build();
    }
  }
}
