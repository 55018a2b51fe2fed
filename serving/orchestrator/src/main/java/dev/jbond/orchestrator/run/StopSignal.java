package dev.jbond.orchestrator.run;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A request to stop a run cleanly: the run finishes its current step, checkpoints and returns. The
 * command line raises it on SIGTERM and SIGINT (Ctrl-C) through {@link #onSignals()}; a second
 * signal gets the JVM's usual handling (exit without a checkpoint; the previous checkpoint stays).
 * Thread-safe.
 */
public final class StopSignal implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StopSignal.class.getName());

  private final AtomicReference<String> reason = new AtomicReference<>();
  private final List<Runnable> restore = new ArrayList<>();
  private volatile Runnable onRequest = () -> {};

  /**
   * Returns a signal raised only by {@link #request}.
   *
   * @return the signal
   */
  public static StopSignal manual() {
    return new StopSignal();
  }

  /**
   * Returns a signal raised by SIGTERM and SIGINT, until {@link #close()} restores their previous
   * handlers. Where the JVM offers no signal handling (no {@code sun.misc.Signal}), the signal is
   * manual and the JVM's default handling stays.
   *
   * @return the signal
   */
  public static StopSignal onSignals() {
    StopSignal stop = new StopSignal();
    for (String name : List.of("TERM", "INT")) {
      stop.install(name);
    }
    return stop;
  }

  /**
   * Sets what to run (once, on the signalling thread) when a stop is first requested, for example
   * printing that the run stops after its step.
   *
   * @param action the action
   */
  public void onRequest(Runnable action) {
    this.onRequest = action;
  }

  /**
   * Requests a stop; only the first request's reason is kept.
   *
   * @param why why, for messages (for example {@code "SIGTERM"})
   */
  public void request(String why) {
    if (reason.compareAndSet(null, why)) {
      onRequest.run();
    }
  }

  /**
   * Returns whether a stop was requested.
   *
   * @return true once {@link #request} was called
   */
  public boolean requested() {
    return reason.get() != null;
  }

  /**
   * Returns why the stop was requested.
   *
   * @return the first request's reason, or null
   */
  public String reason() {
    return reason.get();
  }

  /** Restores the signal handlers this signal replaced. Idempotent. */
  @Override
  public synchronized void close() {
    for (Runnable r : restore) {
      r.run();
    }
    restore.clear();
  }

  /** Installs a handler for one signal through sun.misc.Signal, reflectively (jdk.unsupported). */
  private synchronized void install(String name) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object signal = signalClass.getConstructor(String.class).newInstance(name);
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Object[] previous = new Object[1];
      InvocationHandler invocation =
          (proxy, method, args) -> {
            switch (method.getName()) {
              case "handle" -> {
                request("SIG" + name);
                // the next signal gets the previous handling (usually: the JVM exits)
                handle.invoke(null, signal, previous[0]);
                return null;
              }
              case "hashCode" -> {
                return System.identityHashCode(proxy);
              }
              case "equals" -> {
                return proxy == args[0];
              }
              case "toString" -> {
                return "jbond stop on SIG" + name;
              }
              default -> {
                return null;
              }
            }
          };
      Object handler =
          Proxy.newProxyInstance(
              StopSignal.class.getClassLoader(), new Class<?>[] {handlerClass}, invocation);
      previous[0] = handle.invoke(null, signal, handler);
      restore.add(
          () -> {
            try {
              handle.invoke(null, signal, previous[0]);
            } catch (ReflectiveOperationException e) {
              LOG.log(System.Logger.Level.DEBUG, "Cannot restore the SIG{0} handler", name);
            }
          });
    } catch (ReflectiveOperationException | IllegalArgumentException | LinkageError e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "Cannot handle SIG{0} ({1}); a signal stops the run without a checkpoint",
          name,
          e.toString());
    }
  }
}
