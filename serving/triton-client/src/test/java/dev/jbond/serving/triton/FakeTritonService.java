package dev.jbond.serving.triton;

import com.google.protobuf.ByteString;
import dev.jbond.serving.triton.proto.GRPCInferenceServiceGrpc;
import dev.jbond.serving.triton.proto.InferParameter;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelConfigRequest;
import dev.jbond.serving.triton.proto.ModelConfigResponse;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataRequest;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.serving.triton.proto.ModelReadyRequest;
import dev.jbond.serving.triton.proto.ModelReadyResponse;
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
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scriptable stand-in for a Triton server (test-only). Unary RPCs answer from its fields; a test
 * can make the next N calls fail with a status, make calls hang until released, mark models not
 * ready, pad inference responses to a size, and choose how ModelStreamInfer answers.
 *
 * <p>ModelInfer echoes the request: output {@code "echo"} is the first input unchanged and {@code
 * "served_by"} a BYTES tensor holding this server's name. ModelStreamInfer answers each request
 * with {@code responses} (int64 request parameter, default 1) responses flagged {@code
 * triton_final_response} on the last, plus an empty flag-only final response when the request sets
 * {@code triton_enable_empty_final_response}; a request with string parameter {@code error} gets
 * that in-band error instead, and one with bool parameter {@code no_final} gets one non-final
 * response and nothing more.
 */
final class FakeTritonService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** How ModelStreamInfer answers. */
  enum StreamMode {
    /** Each request is answered as soon as it arrives. */
    IMMEDIATE,
    /** Requests are answered after the client half-closes, newest first, responses interleaved. */
    INTERLEAVED_AT_HALF_CLOSE,
    /** The stream fails with UNAVAILABLE when the client half-closes. */
    FAIL_AT_HALF_CLOSE,
    /** Nothing is ever answered. */
    SILENT
  }

  final String name;
  final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  final List<Deadline> deadlines = new CopyOnWriteArrayList<>();
  final List<Metadata> headers = new CopyOnWriteArrayList<>();
  final List<RepositoryModelLoadRequest> loads = new CopyOnWriteArrayList<>();
  final List<RepositoryModelUnloadRequest> unloads = new CopyOnWriteArrayList<>();
  final Set<String> notReadyModels = ConcurrentHashMap.newKeySet();
  final CountDownLatch cancelled = new CountDownLatch(1);
  volatile boolean live = true;
  volatile boolean hang;
  volatile Status failure = Status.UNAVAILABLE.withDescription("scripted failure");
  final AtomicInteger failuresLeft = new AtomicInteger();
  volatile int inferPaddingBytes;
  volatile StreamMode streamMode = StreamMode.IMMEDIATE;

  FakeTritonService(String name) {
    this.name = name;
  }

  /** The service with an interceptor that records request headers. */
  ServerServiceDefinition definition() {
    return ServerInterceptors.intercept(
        this,
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata metadata, ServerCallHandler<Q, R> next) {
            headers.add(metadata);
            return next.startCall(call, metadata);
          }
        });
  }

  int calls(String rpc) {
    AtomicInteger count = calls.get(rpc);
    return count == null ? 0 : count.get();
  }

  /** Counts the call and applies hang / scripted failures; true when the call is handled. */
  private boolean scripted(String rpc, StreamObserver<?> observer) {
    calls.computeIfAbsent(rpc, k -> new AtomicInteger()).incrementAndGet();
    deadlines.add(Context.current().getDeadline());
    if (hang) {
      Context.current().addListener(context -> cancelled.countDown(), Runnable::run);
      return true;
    }
    if (failuresLeft.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
      observer.onError(failure.asRuntimeException());
      return true;
    }
    return false;
  }

  private static <T> void reply(StreamObserver<T> observer, T value) {
    observer.onNext(value);
    observer.onCompleted();
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
    if (!scripted("ServerLive", out)) {
      reply(out, ServerLiveResponse.newBuilder().setLive(live).build());
    }
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
    if (!scripted("ServerReady", out)) {
      reply(out, ServerReadyResponse.newBuilder().setReady(live).build());
    }
  }

  @Override
  public void serverMetadata(
      ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
    if (!scripted("ServerMetadata", out)) {
      reply(
          out,
          ServerMetadataResponse.newBuilder()
              .setName(name)
              .setVersion("2.73.0")
              .addExtensions("model_repository")
              .build());
    }
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
    if (!scripted("ModelReady", out)) {
      reply(
          out,
          ModelReadyResponse.newBuilder()
              .setReady(!notReadyModels.contains(request.getName()))
              .build());
    }
  }

  @Override
  public void modelMetadata(
      ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    if (!scripted("ModelMetadata", out)) {
      reply(
          out,
          ModelMetadataResponse.newBuilder()
              .setName(request.getName())
              .addVersions("1")
              .setPlatform("onnxruntime_onnx")
              .addInputs(
                  ModelMetadataResponse.TensorMetadata.newBuilder()
                      .setName("input_ids")
                      .setDatatype("INT32")
                      .addShape(-1)
                      .addShape(-1))
              .build());
    }
  }

  @Override
  public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> out) {
    if (!scripted("ModelConfig", out)) {
      reply(
          out,
          ModelConfigResponse.newBuilder()
              .setConfig(
                  ModelConfig.newBuilder().setName(request.getName()).setMaxBatchSize(8).build())
              .build());
    }
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
    if (!scripted("ModelInfer", out)) {
      reply(out, answer(request, true).build());
    }
  }

  private ModelInferResponse.Builder answer(ModelInferRequest request, boolean withOutputs) {
    ModelInferResponse.Builder response =
        ModelInferResponse.newBuilder()
            .setModelName(request.getModelName())
            .setModelVersion("1")
            .setId(request.getId());
    if (withOutputs) {
      List<TritonTensor> outputs = new ArrayList<>();
      if (request.getInputsCount() > 0) {
        TritonTensor first = TritonTensors.inputs(request).values().iterator().next();
        outputs.add(TritonTensor.ofRaw("echo", first.datatype(), first.shape(), first.raw()));
      }
      outputs.add(TritonTensor.ofStrings("served_by", new long[] {1}, List.of(name)));
      if (inferPaddingBytes > 0) {
        outputs.add(
            TritonTensor.ofRaw(
                "padding",
                TritonDatatype.UINT8,
                new long[] {inferPaddingBytes},
                ByteString.copyFrom(new byte[inferPaddingBytes])));
      }
      TritonTensors.setOutputs(response, outputs);
    }
    return response;
  }

  /** The stream messages answering one request (see the class description). */
  private List<ModelStreamInferResponse> streamAnswer(ModelInferRequest request) {
    Map<String, InferParameter> params = request.getParametersMap();
    if (params.containsKey("error")) {
      return List.of(
          ModelStreamInferResponse.newBuilder()
              .setErrorMessage(params.get("error").getStringParam())
              .setInferResponse(ModelInferResponse.newBuilder().setId(request.getId()))
              .build());
    }
    if (params.containsKey("no_final")) {
      return List.of(
          ModelStreamInferResponse.newBuilder()
              .setInferResponse(
                  answer(request, true)
                      .putParameters(
                          TritonTensors.FINAL_RESPONSE_PARAMETER,
                          TritonTensors.boolParameter(false)))
              .build());
    }
    long count = params.containsKey("responses") ? params.get("responses").getInt64Param() : 1;
    boolean emptyFinal =
        params.containsKey(TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER)
            && params.get(TritonTensors.ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER).getBoolParam();
    List<ModelStreamInferResponse> messages = new ArrayList<>();
    for (long i = 0; i < count; i++) {
      boolean last = i == count - 1 && !emptyFinal;
      messages.add(
          ModelStreamInferResponse.newBuilder()
              .setInferResponse(
                  answer(request, true)
                      .putParameters("index", TritonTensors.int64Parameter(i))
                      .putParameters(
                          TritonTensors.FINAL_RESPONSE_PARAMETER,
                          TritonTensors.boolParameter(last)))
              .build());
    }
    if (emptyFinal) {
      messages.add(
          ModelStreamInferResponse.newBuilder()
              .setInferResponse(
                  answer(request, false)
                      .putParameters(
                          TritonTensors.FINAL_RESPONSE_PARAMETER,
                          TritonTensors.boolParameter(true)))
              .build());
    }
    return messages;
  }

  @Override
  public StreamObserver<ModelInferRequest> modelStreamInfer(
      StreamObserver<ModelStreamInferResponse> out) {
    calls.computeIfAbsent("ModelStreamInfer", k -> new AtomicInteger()).incrementAndGet();
    deadlines.add(Context.current().getDeadline());
    List<ModelInferRequest> received = Collections.synchronizedList(new ArrayList<>());
    return new StreamObserver<>() {
      @Override
      public void onNext(ModelInferRequest request) {
        switch (streamMode) {
          case IMMEDIATE -> {
            synchronized (out) {
              streamAnswer(request).forEach(out::onNext);
            }
          }
          default -> received.add(request);
        }
      }

      @Override
      public void onError(Throwable t) {
        cancelled.countDown();
      }

      @Override
      public void onCompleted() {
        switch (streamMode) {
          case SILENT -> {
            return;
          }
          case FAIL_AT_HALF_CLOSE -> {
            out.onError(Status.UNAVAILABLE.withDescription("server shutting down").asException());
            return;
          }
          case INTERLEAVED_AT_HALF_CLOSE -> {
            List<List<ModelStreamInferResponse>> answers = new ArrayList<>();
            for (int i = received.size() - 1; i >= 0; i--) {
              answers.add(new ArrayList<>(streamAnswer(received.get(i))));
            }
            boolean any = true;
            while (any) {
              any = false;
              for (List<ModelStreamInferResponse> answer : answers) {
                if (!answer.isEmpty()) {
                  out.onNext(answer.remove(0));
                  any = true;
                }
              }
            }
          }
          default -> {}
        }
        out.onCompleted();
      }
    };
  }

  @Override
  public void repositoryIndex(
      RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
    if (!scripted("RepositoryIndex", out)) {
      reply(
          out,
          RepositoryIndexResponse.newBuilder()
              .addModels(
                  RepositoryIndexResponse.ModelIndex.newBuilder()
                      .setName("policy")
                      .setVersion("1")
                      .setState("READY"))
              .addModels(
                  RepositoryIndexResponse.ModelIndex.newBuilder()
                      .setName("anchor")
                      .setVersion("1")
                      .setState("UNAVAILABLE")
                      .setReason("unloaded"))
              .build());
    }
  }

  @Override
  public void repositoryModelLoad(
      RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> out) {
    if (!scripted("RepositoryModelLoad", out)) {
      loads.add(request);
      reply(out, RepositoryModelLoadResponse.getDefaultInstance());
    }
  }

  @Override
  public void repositoryModelUnload(
      RepositoryModelUnloadRequest request, StreamObserver<RepositoryModelUnloadResponse> out) {
    if (!scripted("RepositoryModelUnload", out)) {
      unloads.add(request);
      reply(out, RepositoryModelUnloadResponse.getDefaultInstance());
    }
  }
}
