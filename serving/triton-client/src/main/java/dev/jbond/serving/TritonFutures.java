package dev.jbond.serving;

import dev.jbond.BackendException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Waits for the client's calls the way the sampler and the reward model report their failures. */
final class TritonFutures {
  private TritonFutures() {}

  /**
   * Waits for a call's result.
   *
   * @param future the call
   * @param doing what the caller does, for messages: {@code sampling from model 'policy'}
   * @param toDo the same as an infinitive: {@code sample from model 'policy'}
   * @return the result
   * @throws BackendException the call's own failure (its code and message); UNAVAILABLE when the
   *     thread is interrupted (its interrupt flag set again) or the call cancelled; INTERNAL for
   *     any other failure
   */
  static <T> T await(CompletableFuture<T> future, String doing, String toDo) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      throw interrupted(doing, e);
    } catch (CancellationException e) {
      throw new BackendException(
          BackendException.Code.UNAVAILABLE,
          Character.toUpperCase(doing.charAt(0)) + doing.substring(1) + " was cancelled",
          e);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof BackendException backend) {
        throw new BackendException(backend.code(), backend.getMessage(), backend);
      }
      throw new BackendException(
          BackendException.Code.INTERNAL, "Failed to " + toDo + ": " + cause, cause);
    }
  }

  /**
   * Sleeps for a retry's backoff.
   *
   * @param pause how long
   * @param doing what the caller does, for the message when interrupted
   * @throws BackendException UNAVAILABLE when the thread is interrupted (its flag set again)
   */
  static void sleep(Duration pause, String doing) {
    try {
      Thread.sleep(pause.toMillis(), (int) (pause.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      throw interrupted(doing, e);
    }
  }

  /**
   * Returns the failure of a wait that was interrupted, with the thread's interrupt flag set again.
   *
   * @param doing what the caller did, for the message
   * @param e the interruption
   * @return the UNAVAILABLE failure
   */
  static BackendException interrupted(String doing, InterruptedException e) {
    Thread.currentThread().interrupt();
    return new BackendException(BackendException.Code.UNAVAILABLE, "Interrupted while " + doing, e);
  }
}
