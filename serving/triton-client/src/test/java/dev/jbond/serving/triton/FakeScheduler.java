package dev.jbond.serving.triton;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} on virtual time: tasks run only when a test calls {@link
 * #advance}, in due order, on the test's thread. Thread-safe, so gRPC threads may schedule.
 */
final class FakeScheduler extends AbstractExecutorService implements ScheduledExecutorService {
  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(
          Comparator.comparingLong((Task t) -> t.due).thenComparingLong(t -> t.seq));
  private long now;
  private long seq;
  private boolean shutdown;

  /** A scheduled task; periodic ones have {@code period > 0} (fixed delay). */
  private final class Task implements ScheduledFuture<Object> {
    final Runnable body;
    final long period;
    final long seq;
    long due;
    boolean cancelled;
    boolean done;

    Task(Runnable body, long due, long period, long seq) {
      this.body = body;
      this.due = due;
      this.period = period;
      this.seq = seq;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      synchronized (FakeScheduler.this) {
        return unit.convert(due - now, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      synchronized (FakeScheduler.this) {
        if (done) {
          return false;
        }
        cancelled = true;
        done = true;
        queue.remove(this);
        return true;
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (FakeScheduler.this) {
        return cancelled;
      }
    }

    @Override
    public boolean isDone() {
      synchronized (FakeScheduler.this) {
        return done;
      }
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException("not used by the client");
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException("not used by the client");
    }
  }

  /** The delays, from now, of the pending one-shot tasks, in due order. */
  synchronized List<Duration> pendingDelays() {
    List<Task> tasks = new ArrayList<>(queue);
    tasks.sort(queue.comparator());
    List<Duration> delays = new ArrayList<>();
    for (Task task : tasks) {
      if (task.period == 0) {
        delays.add(Duration.ofNanos(task.due - now));
      }
    }
    return delays;
  }

  /** Waits (real time, bounded) until at least {@code count} one-shot tasks are pending. */
  synchronized void awaitPending(int count, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (pendingDelays().size() < count) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("Expected " + count + " pending tasks, found " + pendingDelays());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** Moves virtual time forward by {@code delta}, running every task that falls due. */
  void advance(Duration delta) {
    long target;
    synchronized (this) {
      target = now + delta.toNanos();
    }
    while (true) {
      Task task;
      synchronized (this) {
        task = queue.peek();
        if (task == null || task.due > target) {
          now = target;
          return;
        }
        queue.poll();
        now = task.due;
        if (task.period == 0) {
          task.done = true;
        }
      }
      task.body.run();
      synchronized (this) {
        if (task.period > 0 && !task.cancelled) {
          task.due = now + task.period;
          queue.add(task);
        }
      }
    }
  }

  private synchronized Task add(Runnable body, long delayNanos, long period) {
    if (shutdown) {
      throw new java.util.concurrent.RejectedExecutionException("FakeScheduler is shut down");
    }
    Task task = new Task(body, now + Math.max(0, delayNanos), period, seq++);
    queue.add(task);
    notifyAll();
    return task;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return add(command, unit.toNanos(delay), 0);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("not used by the client");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return add(command, unit.toNanos(initialDelay), unit.toNanos(period));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return add(command, unit.toNanos(initialDelay), unit.toNanos(delay));
  }

  @Override
  public void execute(Runnable command) {
    command.run();
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> pending = new ArrayList<>();
    for (Task task : queue) {
      pending.add(task.body);
    }
    queue.clear();
    return pending;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isShutdown();
  }
}
