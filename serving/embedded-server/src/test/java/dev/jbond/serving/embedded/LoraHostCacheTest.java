package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The LoRA host cache against TensorRT-LLM's PEFT cache semantics. */
class LoraHostCacheTest {
  @Test
  void idOnlyRequests_useTheCachedAdapter_unknownIdFailsWithTensorRtLlmsText() {
    LoraHostCache<String> cache = new LoraHostCache<>(100);
    try (LoraHostCache<String>.Lease first = cache.acquire(7, Optional.of("v7"), 40)) {
      assertEquals("v7", first.adapter());
    }
    try (LoraHostCache<String>.Lease again = cache.acquire(7, Optional.empty(), 0)) {
      assertEquals("v7", again.adapter());
    }
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> cache.acquire(8, Optional.empty(), 0));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals(
        "LoRA task 8 not found in cache. Please send LoRA weights with request",
        e.getStatus().getDescription());
  }

  @Test
  void newWeightsForACachedId_areIgnored() {
    LoraHostCache<String> cache = new LoraHostCache<>(100);
    cache.acquire(7, Optional.of("old"), 40).close();
    try (LoraHostCache<String>.Lease lease = cache.acquire(7, Optional.of("new"), 40)) {
      assertEquals("old", lease.adapter());
    }
    assertEquals(40, cache.usedBytes());
  }

  @Test
  void room_isMadeByEvictingTheLeastRecentlyUsedDoneTasks() {
    LoraHostCache<String> cache = new LoraHostCache<>(100);
    cache.acquire(1, Optional.of("a"), 40).close();
    cache.acquire(2, Optional.of("b"), 40).close();
    cache.acquire(1, Optional.empty(), 0).close(); // 1 is now more recent than 2

    cache.acquire(3, Optional.of("c"), 40).close();

    assertTrue(cache.contains(1));
    assertFalse(cache.contains(2), "the least recently used task is evicted");
    assertTrue(cache.contains(3));
    assertEquals(80, cache.usedBytes());
  }

  @Test
  void tasksWithRequestsInFlight_areNeverEvicted_elseTheCacheIsFull() {
    LoraHostCache<String> cache = new LoraHostCache<>(100);
    LoraHostCache<String>.Lease busy = cache.acquire(1, Optional.of("a"), 60);
    cache.acquire(2, Optional.of("b"), 30).close();

    // room for 50: task 2 (done) goes, task 1 (in flight) stays, and 60 + 50 > 100 still
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> cache.acquire(3, Optional.of("c"), 50));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertEquals("PEFT Cache is full. Could not store taskId=3", e.getStatus().getDescription());
    assertTrue(cache.contains(1));

    busy.close();
    busy.close(); // idempotent
    try (LoraHostCache<String>.Lease lease = cache.acquire(3, Optional.of("c"), 50)) {
      assertEquals("c", lease.adapter());
    }
    assertFalse(cache.contains(1));
    assertEquals(50, cache.usedBytes());
    assertThrows(StatusRuntimeException.class, () -> cache.acquire(4, Optional.of("d"), 101));
  }
}
