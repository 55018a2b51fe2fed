package dev.jbond.serving.embedded;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The scheduler of one plain model version: a bounded FIFO queue and Triton's dynamic batching.
 *
 * <p>At most {@code instances} batches run at once. When an instance is free, the batcher takes the
 * oldest request and every later queued request with the same {@linkplain
 * ValidatedRequest#signature() signature} (input datatypes and non-batch dimensions) while their
 * batch sizes add up to at most {@code maxRows}; it runs them at once if that fills the batch, if
 * the oldest request has waited {@code maxDelay}, or when the delay timer fires, and otherwise
 * waits for more. Requests with other signatures stay queued for a later batch. With {@code maxRows
 * == 0} (no dynamic batching) every request runs alone.
 *
 * <p>A request whose deadline (the client's, or its queue timeout) has passed, or whose client has
 * gone, is dropped when the batcher next looks at the queue: it fails with DEADLINE_EXCEEDED (or
 * CANCELLED) and never runs. A request that finds the queue full fails at once with UNAVAILABLE.
 *
 * <p>A batch concatenates its requests' inputs along the first dimension, runs once, and splits
 * every output back along the first dimension, which must equal the batch's total rows.
 */
final class DynamicBatcher implements AutoCloseable {
  /** Runs one batch: the model session. */
  @FunctionalInterface
  interface Runner {
    /**
     * Runs the model.
     *
     * @param inputs every model input
     * @param outputs the outputs to compute
     * @return the outputs by name
     */
    Map<String, Tensor> run(Map<String, Tensor> inputs, List<String> outputs);
  }

  /**
   * A queued request and the future of its outputs (in {@link ValidatedRequest#outputs()} order).
   */
  static final class Pending {
    final ValidatedRequest request;
    final Instant deadline;
    final BooleanSupplier cancelled;
    final CompletableFuture<List<TritonTensor>> result = new CompletableFuture<>();
    Instant enqueued;

    /**
     * Creates a pending request.
     *
     * @param request the checked request
     * @param deadline when it must have started, or null for never
     * @param cancelled whether its client has gone
     */
    Pending(ValidatedRequest request, Instant deadline, BooleanSupplier cancelled) {
      this.request = request;
      this.deadline = deadline;
      this.cancelled = cancelled;
    }

    String id() {
      return request.request().getId();
    }
  }

  private final String model;
  private final long version;
  private final Runner runner;
  private final int maxRows;
  private final int maxQueueSize;
  private final Duration maxDelay;
  private final int instances;
  private final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final InstantSource clock;
  private final EmbeddedServerListener listener;

  private final Object lock = new Object();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>(); // guarded by lock
  private int running; // guarded by lock
  private ScheduledFuture<?> timer; // guarded by lock
  private boolean timerFired; // guarded by lock
  private boolean closed; // guarded by lock

  DynamicBatcher(
      String model,
      long version,
      Runner runner,
      int maxRows,
      int maxQueueSize,
      Duration maxDelay,
      int instances,
      Executor executor,
      ScheduledExecutorService scheduler,
      InstantSource clock,
      EmbeddedServerListener listener) {
    this.model = model;
    this.version = version;
    this.runner = runner;
    this.maxRows = maxRows;
    this.maxQueueSize = maxQueueSize;
    this.maxDelay = maxDelay;
    this.instances = instances;
    this.executor = executor;
    this.scheduler = scheduler;
    this.clock = clock;
    this.listener = listener;
  }

  /**
   * Queues a request; its {@link Pending#result} completes when it has run or failed.
   *
   * @param pending the request
   */
  void submit(Pending pending) {
    List<Runnable> actions;
    synchronized (lock) {
      if (closed) {
        pending.result.completeExceptionally(
            ServerErrors.unavailable(
                "Model '" + model + "' version " + version + " is unloading, retry the request"));
        return;
      }
      if (queue.size() >= maxQueueSize) {
        pending.result.completeExceptionally(
            ServerErrors.unavailable(
                "Exceeds maximum queue size: model '"
                    + model
                    + "' version "
                    + version
                    + " has "
                    + queue.size()
                    + " requests queued, the limit is "
                    + maxQueueSize));
        return;
      }
      pending.enqueued = clock.instant();
      queue.add(pending);
      actions = dispatch();
    }
    actions.forEach(Runnable::run);
  }

  /** Returns the number of queued requests (not counting running batches). */
  int queued() {
    synchronized (lock) {
      return queue.size();
    }
  }

  /**
   * Starts what can start now and returns what must happen outside the lock (launching batches,
   * failing dropped requests).
   */
  private List<Runnable> dispatch() {
    List<Runnable> actions = new ArrayList<>();
    Instant now = clock.instant();
    for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
      Pending pending = it.next();
      if (pending.cancelled.getAsBoolean()) {
        it.remove();
        actions.add(
            () ->
                pending.result.completeExceptionally(
                    Status.CANCELLED
                        .withDescription(
                            "Request '" + pending.id() + "' for model '" + model + "' cancelled")
                        .asRuntimeException()));
      } else if (pending.deadline != null && !now.isBefore(pending.deadline)) {
        it.remove();
        actions.add(
            () ->
                pending.result.completeExceptionally(
                    ServerErrors.deadlineExceeded(
                        "Request timeout expired: request '"
                            + pending.id()
                            + "' for model '"
                            + model
                            + "' version "
                            + version
                            + " waited in the queue past its deadline "
                            + pending.deadline)));
      }
    }
    while (!closed && running < instances && !queue.isEmpty()) {
      List<Pending> batch = new ArrayList<>();
      if (maxRows == 0) {
        batch.add(queue.poll());
      } else {
        Pending head = queue.peek();
        int rows = 0;
        boolean full = false;
        for (Pending pending : queue) {
          if (!pending.request.signature().equals(head.request.signature())) {
            continue;
          }
          if (rows + pending.request.rows() > maxRows) {
            full = true;
            break;
          }
          batch.add(pending);
          rows += pending.request.rows();
        }
        full |= rows >= maxRows;
        boolean waited =
            timerFired
                || maxDelay.isZero()
                || Duration.between(head.enqueued, now).compareTo(maxDelay) >= 0;
        if (!full && !waited) {
          if (timer == null) {
            Duration remaining = maxDelay.minus(Duration.between(head.enqueued, now));
            timer = scheduler.schedule(this::timerFired, remaining.toNanos(), TimeUnit.NANOSECONDS);
          }
          break;
        }
        timerFired = false;
        queue.removeAll(batch);
      }
      running++;
      List<Pending> launched = batch;
      actions.add(() -> launch(launched));
    }
    if (queue.isEmpty()) {
      timerFired = false;
    }
    if (timer != null && (queue.isEmpty() || closed)) {
      timer.cancel(false);
      timer = null;
    }
    return actions;
  }

  private void timerFired() {
    List<Runnable> actions;
    synchronized (lock) {
      timer = null;
      timerFired = true;
      actions = dispatch();
    }
    actions.forEach(Runnable::run);
  }

  private void launch(List<Pending> batch) {
    try {
      executor.execute(() -> run(batch));
    } catch (RejectedExecutionException e) {
      finished();
      for (Pending pending : batch) {
        pending.result.completeExceptionally(
            ServerErrors.unavailable("Server is shutting down, model '" + model + "' not run"));
      }
    }
  }

  private void run(List<Pending> batch) {
    List<List<TritonTensor>> results = null;
    Throwable failure = null;
    try {
      results = runBatch(batch);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    finished();
    for (int i = 0; i < batch.size(); i++) {
      if (failure != null) {
        batch.get(i).result.completeExceptionally(failure);
      } else {
        batch.get(i).result.complete(results.get(i));
      }
    }
  }

  private void finished() {
    List<Runnable> actions;
    synchronized (lock) {
      running--;
      actions = dispatch();
    }
    actions.forEach(Runnable::run);
  }

  private List<List<TritonTensor>> runBatch(List<Pending> batch) {
    int rows = 0;
    List<String> ids = new ArrayList<>(batch.size());
    Set<String> outputs = new LinkedHashSet<>();
    for (Pending pending : batch) {
      rows += pending.request.rows();
      ids.add(pending.id());
      outputs.addAll(pending.request.outputs());
    }
    listener.beforeBatch(new BatchInfo(model, version, ids, rows));

    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (Map.Entry<String, TritonTensor> entry : batch.get(0).request.inputs().entrySet()) {
      String name = entry.getKey();
      TritonTensor first = entry.getValue();
      ElementType type = ModelConfigs.elementType(first.datatype());
      long[] shape = first.shape();
      ByteString data;
      if (batch.size() == 1) {
        data = first.raw();
      } else {
        shape[0] = rows;
        List<ByteString> parts = new ArrayList<>(batch.size());
        for (Pending pending : batch) {
          parts.add(pending.request.inputs().get(name).raw());
        }
        data = ByteString.copyFrom(parts);
      }
      inputs.put(name, Tensor.of(type, shape, data.asReadOnlyByteBuffer()));
    }

    Map<String, Tensor> computed = runner.run(inputs, List.copyOf(outputs));

    Map<String, TritonTensor> full = new LinkedHashMap<>();
    for (String name : outputs) {
      Tensor tensor = computed.get(name);
      if (tensor == null) {
        throw ServerErrors.internal(
            "Expected output '" + name + "' from model '" + model + "', found none", null);
      }
      TritonDatatype type = ModelConfigs.wireType(tensor.elementType());
      if (type == null) {
        throw ServerErrors.internal(
            "Expected a Triton datatype for output '"
                + name
                + "' of model '"
                + model
                + "', found ONNX type "
                + tensor.elementType(),
            null);
      }
      // the tensor is immutable, so its read-only view can back the response without a copy
      ByteString raw = UnsafeByteOperations.unsafeWrap(tensor.asReadOnlyBuffer());
      full.put(name, TritonTensor.ofRaw(name, type, tensor.shape(), raw));
    }

    List<List<TritonTensor>> results = new ArrayList<>(batch.size());
    if (batch.size() == 1) {
      List<TritonTensor> own = new ArrayList<>();
      for (String name : batch.get(0).request.outputs()) {
        own.add(full.get(name));
      }
      results.add(own);
      return results;
    }
    for (TritonTensor tensor : full.values()) {
      long[] shape = tensor.shape();
      if (shape.length == 0 || shape[0] != rows) {
        throw ServerErrors.internal(
            "Expected output '"
                + tensor.name()
                + "' of model '"
                + model
                + "' to have batch size "
                + rows
                + " as its first dimension, found shape "
                + Arrays.toString(shape),
            null);
      }
    }
    int offset = 0;
    for (Pending pending : batch) {
      int own = pending.request.rows();
      List<TritonTensor> split = new ArrayList<>();
      for (String name : pending.request.outputs()) {
        TritonTensor tensor = full.get(name);
        long[] shape = tensor.shape();
        int rowBytes = tensor.raw().size() / rows;
        shape[0] = own;
        split.add(
            TritonTensor.ofRaw(
                name,
                tensor.datatype(),
                shape,
                tensor.raw().substring(offset * rowBytes, (offset + own) * rowBytes)));
      }
      results.add(split);
      offset += own;
    }
    return results;
  }

  /** Fails every queued request with UNAVAILABLE; running batches finish. Idempotent. */
  @Override
  public void close() {
    List<Pending> dropped;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      dropped = new ArrayList<>(queue);
      queue.clear();
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
    for (Pending pending : dropped) {
      pending.result.completeExceptionally(
          ServerErrors.unavailable(
              "Model '" + model + "' version " + version + " is unloading, retry the request"));
    }
  }
}
