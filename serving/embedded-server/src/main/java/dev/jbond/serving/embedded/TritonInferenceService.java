package dev.jbond.serving.embedded;

import com.google.protobuf.ByteString;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelConfigRequest;
import dev.jbond.serving.triton.proto.ModelConfigResponse;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelMetadataRequest;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.serving.triton.proto.ModelOutput;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.ModelReadyResponse;
import dev.jbond.serving.triton.proto.ModelRepositoryParameter;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import dev.jbond.serving.triton.proto.RepositoryIndexRequest;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import dev.jbond.serving.triton.proto.RepositoryModelLoadRequest;
import dev.jbond.serving.triton.proto.RepositoryModelLoadResponse;
import dev.jbond.serving.triton.proto.RepositoryModelUnloadRequest;
import dev.jbond.serving.triton.proto.RepositoryModelUnloadResponse;
import dev.jbond.serving.triton.proto.ServerLiveRequest;
import dev.jbond.serving.triton.proto.ServerLiveResponse;
import dev.jbond.serving.triton.proto.ServerMetadataRequest;
import dev.jbond.serving.triton.proto.ServerMetadataResponse;
import dev.jbond.serving.triton.proto.ServerReadyRequest;
import dev.jbond.serving.triton.proto.ServerReadyResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The RPCs of {@code inference.GRPCInferenceService} that the embedded server implements; the
 * others are answered by {@link UnimplementedMethods}. Requests are checked and routed here; plain
 * models run through their {@link DynamicBatcher}, generation models through their {@link
 * GenerationModel} on the worker executor.
 */
final class TritonInferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private static final System.Logger LOG = System.getLogger(TritonInferenceService.class.getName());

  /** What ServerMetadata lists: the Triton protocol extensions the server supports. */
  static final List<String> EXTENSIONS =
      List.of("model_repository", "model_configuration", "schedule_policy", "parameters");

  private final ModelManager models;
  private final String version;
  private final Executor executor;
  private final InstantSource clock;
  private final BooleanSupplier live;

  TritonInferenceService(
      ModelManager models,
      String version,
      Executor executor,
      InstantSource clock,
      BooleanSupplier live) {
    this.models = models;
    this.version = version;
    this.executor = executor;
    this.clock = clock;
    this.live = live;
  }

  // ---- health and metadata ----

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
    response.onNext(ServerLiveResponse.newBuilder().setLive(live.getAsBoolean()).build());
    response.onCompleted();
  }

  @Override
  public void serverReady(
      ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
    boolean ready = live.getAsBoolean() && models.allReady();
    response.onNext(ServerReadyResponse.newBuilder().setReady(ready).build());
    response.onCompleted();
  }

  @Override
  public void serverMetadata(
      ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> response) {
    response.onNext(
        ServerMetadataResponse.newBuilder()
            .setName(EmbeddedTritonServer.NAME)
            .setVersion(version)
            .addAllExtensions(EXTENSIONS)
            .build());
    response.onCompleted();
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
    boolean ready;
    try {
      models.find(request.getName(), request.getVersion());
      ready = true;
    } catch (StatusRuntimeException e) {
      ready = false;
    }
    response.onNext(ModelReadyResponse.newBuilder().setReady(ready).build());
    response.onCompleted();
  }

  @Override
  public void modelMetadata(
      ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
    LoadedVersion found;
    try {
      found = models.find(request.getName(), request.getVersion());
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    ModelConfig config = found.config;
    ModelMetadataResponse.Builder metadata =
        ModelMetadataResponse.newBuilder()
            .setName(found.model)
            .setPlatform(
                config.getPlatform().isEmpty() ? config.getBackend() : config.getPlatform());
    for (long number : models.versions(found.model)) {
      metadata.addVersions(Long.toString(number));
    }
    for (ModelInput input : config.getInputList()) {
      metadata.addInputs(
          ModelMetadataResponse.TensorMetadata.newBuilder()
              .setName(input.getName())
              .setDatatype(ModelConfigs.wireType(input.getDataType()).wireName())
              .addAllShape(ModelConfigs.fullShape(config, input.getDimsList())));
    }
    for (ModelOutput output : config.getOutputList()) {
      metadata.addOutputs(
          ModelMetadataResponse.TensorMetadata.newBuilder()
              .setName(output.getName())
              .setDatatype(ModelConfigs.wireType(output.getDataType()).wireName())
              .addAllShape(ModelConfigs.fullShape(config, output.getDimsList())));
    }
    response.onNext(metadata.build());
    response.onCompleted();
  }

  @Override
  public void modelConfig(
      ModelConfigRequest request, StreamObserver<ModelConfigResponse> response) {
    try {
      LoadedVersion found = models.find(request.getName(), request.getVersion());
      response.onNext(ModelConfigResponse.newBuilder().setConfig(found.config).build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  // ---- inference ----

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
    ignoreCancelledWrites(response);
    infer(request, Context.current(), ResponseSink.unary(response), false);
  }

  @Override
  public StreamObserver<ModelInferRequest> modelStreamInfer(
      StreamObserver<ModelStreamInferResponse> response) {
    ignoreCancelledWrites(response);
    Context context = Context.current();
    StreamState stream = new StreamState(response);
    return new StreamObserver<>() {
      @Override
      public void onNext(ModelInferRequest request) {
        stream.begin();
        infer(request, context, ResponseSink.stream(stream), true);
      }

      @Override
      public void onError(Throwable t) {
        stream.cancelled();
      }

      @Override
      public void onCompleted() {
        stream.halfClosed();
      }
    };
  }

  private static void ignoreCancelledWrites(StreamObserver<?> response) {
    if (response instanceof ServerCallStreamObserver<?> call) {
      // without a handler, writing to a call the client cancelled throws
      call.setOnCancelHandler(() -> {});
    }
  }

  /** Routes one request; {@code sink} receives its responses or its error, exactly once ended. */
  private void infer(
      ModelInferRequest request, Context context, ResponseSink sink, boolean stream) {
    String id = request.getId();
    LoadedVersion version;
    try {
      version = models.acquire(request.getModelName(), request.getModelVersion());
    } catch (RuntimeException e) {
      sink.fail(ServerErrors.toStatus(e), id);
      return;
    }
    ValidatedRequest checked;
    Optional<Instant> deadline;
    try {
      if (!stream && version.decoupled()) {
        throw ServerErrors.unimplemented(
            "ModelInfer RPC doesn't support models with decoupled transaction policy (model '"
                + version.model
                + "'), use ModelStreamInfer");
      }
      checked = ValidatedRequest.of(request, version.config);
      deadline = deadline(context, checked, version.config);
    } catch (RuntimeException e) {
      version.release();
      sink.fail(ServerErrors.toStatus(e), id);
      return;
    }
    if (version.kind == ModelConfigs.Kind.GENERATION) {
      generate(version, checked, deadline, context, sink);
      return;
    }
    DynamicBatcher.Pending pending =
        new DynamicBatcher.Pending(checked, deadline.orElse(null), context::isCancelled);
    pending.result.whenComplete(
        (outputs, failure) -> {
          try {
            if (failure != null) {
              Status status = ServerErrors.toStatus(failure);
              logInternal(version, id, status);
              sink.fail(status, id);
            } else {
              sink.response(response(version, request, outputs), true);
            }
          } finally {
            version.release();
          }
        });
    version.batcher().submit(pending);
  }

  /**
   * The earliest of the client's gRPC deadline, the request's {@code timeout} parameter and the
   * model's default queue timeout, on the server's clock.
   */
  private Optional<Instant> deadline(
      Context context, ValidatedRequest request, ModelConfig config) {
    Instant now = clock.instant();
    Instant deadline = null;
    Deadline grpc = context.getDeadline();
    if (grpc != null) {
      deadline = now.plusNanos(grpc.timeRemaining(TimeUnit.NANOSECONDS));
    }
    Optional<Duration> timeout = request.queueTimeout();
    long defaultMicros =
        config.getDynamicBatching().getDefaultQueuePolicy().getDefaultTimeoutMicroseconds();
    if (timeout.isEmpty() && defaultMicros > 0) {
      timeout = Optional.of(Duration.ofNanos(defaultMicros * 1000));
    }
    if (timeout.isPresent()) {
      Instant queue = now.plus(timeout.get());
      deadline = deadline == null || queue.isBefore(deadline) ? queue : deadline;
    }
    return Optional.ofNullable(deadline);
  }

  private static ModelInferResponse response(
      LoadedVersion version, ModelInferRequest request, List<TritonTensor> outputs) {
    ModelInferResponse.Builder response =
        ModelInferResponse.newBuilder()
            .setModelName(version.model)
            .setModelVersion(Long.toString(version.number))
            .setId(request.getId());
    TritonTensors.setOutputs(response, outputs);
    return response.build();
  }

  private void generate(
      LoadedVersion version,
      ValidatedRequest checked,
      Optional<Instant> deadline,
      Context context,
      ResponseSink sink) {
    ModelInferRequest request = checked.request();
    Map<String, InferParameter> parameters = new LinkedHashMap<>();
    request
        .getParametersMap()
        .forEach(
            (key, value) -> {
              if (!key.startsWith("triton_")) {
                parameters.put(key, value);
              }
            });
    GenerationRequest generation =
        new GenerationRequest(
            version.model,
            version.number,
            request.getId(),
            checked.inputs(),
            parameters,
            checked.outputs(),
            deadline,
            version.decoupled());
    GenerationCall call =
        new GenerationCall(version, request, sink, checked.emptyFinalResponse(), context);
    try {
      executor.execute(
          () -> {
            try {
              version.generation().generate(generation, call);
            } catch (RuntimeException | Error e) {
              call.fail(e);
            }
          });
    } catch (RejectedExecutionException e) {
      call.fail(ServerErrors.unavailable("Server is shutting down, model '" + version.model + "'"));
    }
  }

  private static void logInternal(LoadedVersion version, String id, Status status) {
    if (status.getCode() == Status.Code.INTERNAL || status.getCode() == Status.Code.UNKNOWN) {
      LOG.log(
          System.Logger.Level.WARNING,
          "Request ''{0}'' for model ''{1}'' version {2} failed: {3}",
          id,
          version.model,
          version.number,
          ServerErrors.message(status));
    }
  }

  /** The responder of one generation request; releases the version when the request ends. */
  private static final class GenerationCall implements GenerationResponder {
    private final LoadedVersion version;
    private final ModelInferRequest request;
    private final ResponseSink sink;
    private final boolean emptyFinal;
    private final Context context;
    private final List<ModelInferResponse> buffered = new ArrayList<>(); // guarded by this
    private boolean ended; // guarded by this

    GenerationCall(
        LoadedVersion version,
        ModelInferRequest request,
        ResponseSink sink,
        boolean emptyFinal,
        Context context) {
      this.version = version;
      this.request = request;
      this.sink = sink;
      this.emptyFinal = emptyFinal;
      this.context = context;
    }

    @Override
    public synchronized void send(List<TritonTensor> outputs, boolean last) {
      if (ended) {
        return;
      }
      ModelInferResponse response;
      try {
        response = response(version, request, outputs);
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      if (!version.decoupled()) {
        buffered.add(response);
        if (last) {
          finishSingle();
        }
        return;
      }
      sink.response(response, last);
      if (last) {
        end();
      }
    }

    @Override
    public synchronized void complete() {
      if (ended) {
        return;
      }
      if (!version.decoupled()) {
        finishSingle();
        return;
      }
      if (emptyFinal) {
        sink.response(response(version, request, List.of()), true);
      } else {
        sink.end();
      }
      end();
    }

    @Override
    public synchronized void fail(Throwable error) {
      if (ended) {
        return;
      }
      Status status = ServerErrors.toStatus(error);
      logInternal(version, request.getId(), status);
      sink.fail(status, request.getId());
      end();
    }

    @Override
    public synchronized boolean isCancelled() {
      return ended || context.isCancelled();
    }

    private void finishSingle() {
      if (buffered.size() == 1) {
        sink.response(buffered.get(0), true);
      } else {
        sink.fail(
            Status.INTERNAL.withDescription(
                "Expected a single response from model '"
                    + version.model
                    + "' (not decoupled), got "
                    + buffered.size()),
            request.getId());
      }
      end();
    }

    private void end() {
      ended = true;
      version.release();
    }
  }

  /** The response side of one stream: serialised writes, completed after the last request. */
  private static final class StreamState implements ResponseSink.InferStream {
    private final StreamObserver<ModelStreamInferResponse> out;
    private int outstanding; // guarded by this
    private boolean halfClosed; // guarded by this
    private boolean done; // guarded by this

    StreamState(StreamObserver<ModelStreamInferResponse> out) {
      this.out = out;
    }

    synchronized void begin() {
      outstanding++;
    }

    @Override
    public synchronized void write(ModelStreamInferResponse message, boolean endsRequest) {
      if (!done && message != null) {
        out.onNext(message);
      }
      if (endsRequest) {
        outstanding--;
        finishIfDone();
      }
    }

    synchronized void halfClosed() {
      halfClosed = true;
      finishIfDone();
    }

    synchronized void cancelled() {
      done = true;
    }

    private void finishIfDone() {
      if (halfClosed && outstanding == 0 && !done) {
        done = true;
        out.onCompleted();
      }
    }
  }

  // ---- model repository ----

  @Override
  public void repositoryIndex(
      RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> response) {
    if (!request.getRepositoryName().isEmpty()) {
      response.onError(repositoryNameUnsupported());
      return;
    }
    RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
    try {
      for (ModelStatus status : models.index(request.getReady())) {
        index.addModels(
            RepositoryIndexResponse.ModelIndex.newBuilder()
                .setName(status.name())
                .setVersion(
                    status.version().isPresent() ? Long.toString(status.version().getAsLong()) : "")
                .setState(status.state().name())
                .setReason(status.reason()));
      }
    } catch (RuntimeException e) {
      response.onError(ServerErrors.toStatus(e).asRuntimeException());
      return;
    }
    response.onNext(index.build());
    response.onCompleted();
  }

  @Override
  public void repositoryModelLoad(
      RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> response) {
    if (!request.getRepositoryName().isEmpty()) {
      response.onError(repositoryNameUnsupported());
      return;
    }
    String name = request.getModelName();
    try {
      if (name.isEmpty()) {
        throw ServerErrors.invalidArgument(
            "Expected a model name in RepositoryModelLoad, found ''");
      }
      Optional<ModelConfig> config = Optional.empty();
      Map<String, ByteString> files = new LinkedHashMap<>();
      for (Map.Entry<String, ModelRepositoryParameter> parameter :
          request.getParametersMap().entrySet()) {
        String key = parameter.getKey();
        ModelRepositoryParameter value = parameter.getValue();
        if (key.equals("config")) {
          if (value.getParameterChoiceCase()
              != ModelRepositoryParameter.ParameterChoiceCase.STRING_PARAM) {
            throw ServerErrors.invalidArgument(
                "Expected a string_param for load parameter 'config' of model '"
                    + name
                    + "', found "
                    + value.getParameterChoiceCase());
          }
          try {
            config = Optional.of(ModelConfigJson.parse(value.getStringParam()));
          } catch (IllegalArgumentException e) {
            throw ServerErrors.invalidArgument(
                "Failed to load model '" + name + "': " + e.getMessage());
          }
        } else if (key.startsWith("file:")) {
          if (value.getParameterChoiceCase()
              != ModelRepositoryParameter.ParameterChoiceCase.BYTES_PARAM) {
            throw ServerErrors.invalidArgument(
                "Expected a bytes_param for load parameter '"
                    + key
                    + "' of model '"
                    + name
                    + "', found "
                    + value.getParameterChoiceCase());
          }
          files.put(key.substring("file:".length()), value.getBytesParam());
        } else {
          throw ServerErrors.invalidArgument(
              "Unrecognized load parameter '"
                  + key
                  + "' for model '"
                  + name
                  + "', expected 'config' or 'file:<version>/<path>'");
        }
      }
      if (!files.isEmpty() && config.isEmpty()) {
        throw ServerErrors.invalidArgument(
            "Load parameter 'config' must be specified for model file override (model '"
                + name
                + "', files "
                + List.copyOf(files.keySet())
                + ")");
      }
      models.load(name, config, files);
    } catch (ModelLoadException | RuntimeException e) {
      Status status = ServerErrors.toStatus(e);
      if (!(e instanceof StatusRuntimeException)) {
        status = status.withDescription("Failed to load model '" + name + "': " + e.getMessage());
      }
      response.onError(status.asRuntimeException());
      return;
    }
    response.onNext(RepositoryModelLoadResponse.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void repositoryModelUnload(
      RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> response) {
    if (!request.getRepositoryName().isEmpty()) {
      response.onError(repositoryNameUnsupported());
      return;
    }
    try {
      for (Map.Entry<String, ModelRepositoryParameter> parameter :
          request.getParametersMap().entrySet()) {
        if (!parameter.getKey().equals("unload_dependents")) {
          throw ServerErrors.invalidArgument(
              "Unrecognized unload parameter '"
                  + parameter.getKey()
                  + "' for model '"
                  + request.getModelName()
                  + "', expected 'unload_dependents'");
        }
      }
      models.unload(request.getModelName());
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    response.onNext(RepositoryModelUnloadResponse.getDefaultInstance());
    response.onCompleted();
  }

  private static StatusRuntimeException repositoryNameUnsupported() {
    return ServerErrors.unimplemented("'repository_name' specification is not supported");
  }
}
