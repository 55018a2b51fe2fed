package dev.jbond.serving.triton;

import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One open ModelStreamInfer stream to one endpoint: many requests, each answered by zero or more
 * responses that are matched to it by request id. Created by {@link
 * TritonClient#openInferStream(TritonCallOptions)}.
 *
 * <p>Call order: {@link #send} any number of times, then {@link #close()} (half-close: no more
 * requests; responses to the ones in flight still arrive), or {@link #cancel()} to abandon the
 * stream and everything in flight (Triton then stops the backend work). The stream's deadline
 * covers its whole life.
 *
 * <p>Each request's future completes with its responses once a response flagged {@link
 * TritonTensors#FINAL_RESPONSE_PARAMETER} arrives (or the first response, when the server sends no
 * such flag). A flag-only empty final response (sent for {@link
 * TritonTensors#ENABLE_EMPTY_FINAL_RESPONSE_PARAMETER}) ends the list without being part of it. An
 * in-band {@code error_message} fails only that request, with a {@link BackendException} of code
 * INTERNAL; the stream stays open. A stream-level failure fails every request in flight, with the
 * mapped gRPC status. Futures complete on gRPC threads. Thread-safe.
 *
 * <p>Requests are handed to gRPC without waiting for flow control, so a caller should bound how
 * many it keeps in flight ({@link #inFlight()}).
 */
public final class TritonInferStream implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TritonInferStream.class.getName());

  private final String endpoint;
  private final ClientCall<ModelInferRequest, ModelStreamInferResponse> call;
  private final int maxInboundMessageBytes;
  private final Consumer<Status> onStreamFailure;
  private final Runnable onTerminated;
  private final StreamObserver<ModelInferRequest> requests;

  // guarded by this
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private boolean halfClosed;
  private boolean terminated;
  private RuntimeException terminalFailure;

  private static final class Pending {
    final String model;
    final List<ModelInferResponse> responses = new ArrayList<>();
    final CompletableFuture<List<ModelInferResponse>> future = new CompletableFuture<>();

    Pending(String model) {
      this.model = model;
    }
  }

  TritonInferStream(
      String endpoint,
      ClientCall<ModelInferRequest, ModelStreamInferResponse> call,
      int maxInboundMessageBytes,
      Consumer<Status> onStreamFailure,
      Runnable onTerminated) {
    this.endpoint = endpoint;
    this.call = call;
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    this.onStreamFailure = onStreamFailure;
    this.onTerminated = onTerminated;
    this.requests = ClientCalls.asyncBidiStreamingCall(call, new Responses());
  }

  /**
   * Returns the endpoint this stream is bound to.
   *
   * @return the endpoint name
   */
  public String endpoint() {
    return endpoint;
  }

  /**
   * Sends one request.
   *
   * @param request the request, with a non-empty {@code id} that no request in flight on this
   *     stream has
   * @return its responses, in arrival order; fails with {@link BackendException} on an in-band
   *     error or a stream failure
   * @throws IllegalArgumentException when the id is empty or already in flight
   * @throws IllegalStateException when the stream was closed or cancelled
   */
  public CompletableFuture<List<ModelInferResponse>> send(ModelInferRequest request) {
    String id = request.getId();
    if (id.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected a non-empty request id on a stream (responses are matched by id), found none"
              + " for model '"
              + request.getModelName()
              + "'");
    }
    Pending entry = new Pending(request.getModelName());
    synchronized (this) {
      if (halfClosed) {
        throw new IllegalStateException("TritonInferStream is closed");
      }
      if (terminated) {
        entry.future.completeExceptionally(
            terminalFailure != null ? terminalFailure : ended(id, entry.model));
        return entry.future;
      }
      if (pending.containsKey(id)) {
        throw new IllegalArgumentException(
            "Expected a request id not already in flight on this stream, found '" + id + "'");
      }
      pending.put(id, entry);
      requests.onNext(request);
    }
    return entry.future;
  }

  /**
   * Returns how many requests await their final response.
   *
   * @return the number in flight
   */
  public synchronized int inFlight() {
    return pending.size();
  }

  /**
   * Half-closes the stream: no more requests; responses to those in flight still arrive.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (halfClosed || terminated) {
        halfClosed = true;
        return;
      }
      halfClosed = true;
      requests.onCompleted();
    }
  }

  /**
   * Cancels the stream: requests in flight fail with {@link CancellationException}, and the server
   * is told to stop their work. Idempotent.
   */
  public void cancel() {
    List<Pending> abandoned;
    synchronized (this) {
      halfClosed = true;
      if (terminated) {
        return;
      }
      terminated = true;
      terminalFailure = new CancellationException("TritonInferStream was cancelled");
      abandoned = drain();
    }
    for (Pending entry : abandoned) {
      entry.future.cancel(false);
    }
    call.cancel("Cancelled by the caller", null);
    onTerminated.run();
  }

  private List<Pending> drain() {
    List<Pending> all = new ArrayList<>(pending.values());
    pending.clear();
    return all;
  }

  private BackendException ended(String id, String model) {
    return new BackendException(
        BackendException.Code.INTERNAL,
        "ModelStreamInfer request '"
            + id
            + "' of model '"
            + model
            + "' got no final response before the stream on endpoint '"
            + endpoint
            + "' ended",
        null);
  }

  /** Receives the server's side of the stream. */
  private final class Responses implements StreamObserver<ModelStreamInferResponse> {
    @Override
    public void onNext(ModelStreamInferResponse message) {
      ModelInferResponse response = message.getInferResponse();
      String error = message.getErrorMessage();
      Map<String, Pending> done = new LinkedHashMap<>();
      Map<String, Pending> failed = new LinkedHashMap<>();
      synchronized (TritonInferStream.this) {
        String id = response.getId();
        Pending entry = pending.get(id);
        if (entry == null && id.isEmpty() && !error.isEmpty()) {
          // an error the server could not attribute: it may belong to any request in flight
          failed.putAll(pending);
          pending.clear();
        } else if (entry == null) {
          LOG.log(
              System.Logger.Level.WARNING,
              "Dropped a ModelStreamInfer response for request id ''{0}'', which is not in flight"
                  + " on endpoint ''{1}''",
              id,
              endpoint);
          return;
        } else if (!error.isEmpty()) {
          pending.remove(id);
          failed.put(id, entry);
        } else {
          boolean last = TritonTensors.isFinalResponse(response);
          boolean flagOnly =
              response.getParametersMap().containsKey(TritonTensors.FINAL_RESPONSE_PARAMETER)
                  && response.getOutputsCount() == 0;
          if (!(last && flagOnly)) {
            entry.responses.add(response);
          }
          if (last) {
            pending.remove(id);
            done.put(id, entry);
          }
        }
      }
      for (Map.Entry<String, Pending> e : failed.entrySet()) {
        e.getValue()
            .future
            .completeExceptionally(
                new BackendException(
                    BackendException.Code.INTERNAL,
                    "ModelStreamInfer request '"
                        + e.getKey()
                        + "' of model '"
                        + e.getValue().model
                        + "' failed on endpoint '"
                        + endpoint
                        + "': "
                        + TritonErrors.oneLine(error),
                    null));
      }
      for (Pending entry : done.values()) {
        entry.future.complete(List.copyOf(entry.responses));
      }
    }

    @Override
    public void onError(Throwable t) {
      Map<String, Pending> abandoned;
      synchronized (TritonInferStream.this) {
        if (terminated) {
          return; // cancelled by us
        }
        terminated = true;
        terminalFailure =
            TritonErrors.fromFailure("ModelStreamInfer", endpoint, t, 1, maxInboundMessageBytes);
        abandoned = new LinkedHashMap<>(pending);
        pending.clear();
      }
      onStreamFailure.accept(Status.fromThrowable(t));
      for (Map.Entry<String, Pending> e : abandoned.entrySet()) {
        e.getValue()
            .future
            .completeExceptionally(
                TritonErrors.fromFailure(
                    "ModelStreamInfer request '"
                        + e.getKey()
                        + "' of model '"
                        + e.getValue().model
                        + "'",
                    endpoint,
                    t,
                    1,
                    maxInboundMessageBytes));
      }
      onTerminated.run();
    }

    @Override
    public void onCompleted() {
      Map<String, Pending> abandoned;
      synchronized (TritonInferStream.this) {
        if (terminated) {
          return;
        }
        terminated = true;
        abandoned = new LinkedHashMap<>(pending);
        pending.clear();
      }
      for (Map.Entry<String, Pending> e : abandoned.entrySet()) {
        e.getValue().future.completeExceptionally(ended(e.getKey(), e.getValue().model));
      }
      onTerminated.run();
    }
  }
}
