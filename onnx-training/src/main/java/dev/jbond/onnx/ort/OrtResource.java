package dev.jbond.onnx.ort;

import ai.onnxruntime.OrtException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The base of every jbond class that owns ONNX Runtime (native) state. {@link #close()} releases it
 * once; later calls do nothing. Methods that need the state call {@link #checkOpen()}, which throws
 * {@code IllegalStateException("<Type> is closed")} after close.
 *
 * <p>Whoever creates a resource closes it; methods that receive one never do. Do not close a
 * resource while another thread is using it.
 */
public abstract class OrtResource implements AutoCloseable {
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Creates an open resource. */
  protected OrtResource() {}

  /**
   * Whether {@link #close()} has been called.
   *
   * @return true once closed
   */
  public final boolean isClosed() {
    return closed.get();
  }

  /**
   * Throws when this resource is closed.
   *
   * @throws IllegalStateException with the message {@code "<Type> is closed"}
   */
  protected final void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }
  }

  /**
   * Releases the native state the first time it is called; later calls do nothing.
   *
   * @throws dev.jbond.BackendException when ONNX Runtime fails to release it
   */
  @Override
  public final void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        release();
      } catch (OrtException e) {
        throw OrtFailures.wrap(e, "close " + getClass().getSimpleName());
      }
    }
  }

  /**
   * Releases the native state. Called at most once, by {@link #close()}.
   *
   * @throws OrtException when ONNX Runtime fails
   */
  protected abstract void release() throws OrtException;
}
