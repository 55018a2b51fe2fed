package dev.jbond.serving.embedded;

import dev.jbond.internal.Checks;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The host cache of LoRA adapters by task id, with the semantics of TensorRT-LLM's PEFT cache
 * ({@code peftCacheManager.cpp}, {@code loraCache.cpp}), so that clients written against the
 * embedded server behave the same against a TensorRT-LLM fleet:
 *
 * <ul>
 *   <li>the first request of a task brings its adapter; later ones may bring only the id;
 *   <li>an id already cached keeps its adapter: new weights sent with it are ignored (every new
 *       version needs a new id), and the id moves to the most recently used end;
 *   <li>an id that is not cached, sent without weights, fails with {@value #NOT_FOUND} (with the id
 *       in place of {@code %d});
 *   <li>room is made by evicting the least recently used tasks that have no request in flight; when
 *       that is not enough the request fails with {@value #FULL}.
 * </ul>
 *
 * <p>Sizes are in bytes, as the backend's {@code lora_cache_host_memory_bytes}. Thread-safe.
 *
 * @param <T> what the server keeps per task (the decoded adapter, or weights merged with it)
 */
final class LoraHostCache<T> {
  /** TensorRT-LLM's text for an id-only request of a task it does not hold. */
  static final String NOT_FOUND =
      "LoRA task %d not found in cache. Please send LoRA weights with request";

  /** TensorRT-LLM's text when no done task can make room. */
  static final String FULL = "PEFT Cache is full. Could not store taskId=%d";

  private static final class Entry<T> {
    final T adapter;
    final long bytes;
    int inFlight;

    Entry(T adapter, long bytes) {
      this.adapter = adapter;
      this.bytes = bytes;
    }
  }

  private final long capacity;

  /** Access order: least recently used first. */
  private final LinkedHashMap<Long, Entry<T>> entries = new LinkedHashMap<>(16, 0.75f, true);

  private long used;

  /**
   * Creates an empty cache.
   *
   * @param capacityBytes the most bytes of adapters held, {@code >= 1}
   */
  LoraHostCache(long capacityBytes) {
    Checks.checkArgument(
        capacityBytes >= 1, "Expected a LoRA cache of >= 1 byte, found %d", capacityBytes);
    this.capacity = capacityBytes;
  }

  /** A request's hold on a cached task: its adapter stays until every lease is closed. */
  final class Lease implements AutoCloseable {
    private final Entry<T> entry;
    private boolean closed;

    private Lease(Entry<T> entry) {
      this.entry = entry;
    }

    /**
     * Returns the task's adapter.
     *
     * @return the adapter cached for the task (the first one sent for it)
     */
    T adapter() {
      return entry.adapter;
    }

    /** Ends the request's hold; idempotent. */
    @Override
    public void close() {
      synchronized (LoraHostCache.this) {
        if (!closed) {
          closed = true;
          entry.inFlight--; // without touching the LRU order
        }
      }
    }
  }

  /**
   * Admits a request of task {@code taskId}.
   *
   * @param taskId the task id
   * @param adapter the adapter the request brings, with its size in bytes; empty for an id-only
   *     request
   * @param bytes the adapter's size, ignored when {@code adapter} is empty
   * @return the request's lease on the task; close it when the request ends
   * @throws StatusRuntimeException NOT_FOUND ({@value #NOT_FOUND}) for an unknown id without an
   *     adapter; RESOURCE_EXHAUSTED ({@value #FULL}) when no room can be made
   */
  synchronized Lease acquire(long taskId, Optional<T> adapter, long bytes) {
    Objects.requireNonNull(adapter, "adapter");
    Entry<T> entry = entries.get(taskId); // an access: moves it to the most recently used end
    if (entry == null) {
      if (adapter.isEmpty()) {
        throw Status.NOT_FOUND
            .withDescription(String.format(NOT_FOUND, taskId))
            .asRuntimeException();
      }
      Checks.checkArgument(bytes >= 0, "Expected an adapter size >= 0, found %d", bytes);
      makeRoom(taskId, bytes);
      entry = new Entry<>(adapter.get(), bytes);
      entries.put(taskId, entry);
      used += bytes;
    }
    entry.inFlight++;
    return new Lease(entry);
  }

  /** Evicts least recently used done tasks until {@code bytes} more fit, or fails. */
  private void makeRoom(long taskId, long bytes) {
    if (bytes > capacity) {
      throw full(taskId);
    }
    Iterator<Map.Entry<Long, Entry<T>>> it = entries.entrySet().iterator();
    while (used + bytes > capacity && it.hasNext()) {
      Entry<T> e = it.next().getValue();
      if (e.inFlight == 0) {
        used -= e.bytes;
        it.remove();
      }
    }
    if (used + bytes > capacity) {
      throw full(taskId);
    }
  }

  private static StatusRuntimeException full(long taskId) {
    return Status.RESOURCE_EXHAUSTED
        .withDescription(String.format(FULL, taskId))
        .asRuntimeException();
  }

  /**
   * Returns whether a task is cached.
   *
   * @param taskId the task id
   * @return true when cached (without touching its place in the LRU order)
   */
  synchronized boolean contains(long taskId) {
    return entries.containsKey(taskId);
  }

  /**
   * Returns the bytes of adapters held.
   *
   * @return the total
   */
  synchronized long usedBytes() {
    return used;
  }
}
