package dev.jbond.onnx.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.jbond.BackendException;
import org.junit.jupiter.api.Test;

class OrtResourceTest {
  /** Counts releases; optionally fails the release like ONNX Runtime would. */
  private static final class CountingResource extends OrtResource {
    private final OrtException failure;
    private int releases;

    CountingResource(OrtException failure) {
      this.failure = failure;
    }

    void use() {
      checkOpen();
    }

    @Override
    protected void release() throws OrtException {
      releases++;
      if (failure != null) {
        throw failure;
      }
    }
  }

  @Test
  void close_calledTwice_releasesOnce() {
    CountingResource resource = new CountingResource(null);
    assertFalse(resource.isClosed());

    resource.close();
    resource.close();

    assertTrue(resource.isClosed());
    assertEquals(1, resource.releases);
  }

  @Test
  void checkOpen_afterClose_namesType() {
    CountingResource resource = new CountingResource(null);
    resource.use();
    resource.close();

    IllegalStateException e = assertThrows(IllegalStateException.class, resource::use);

    assertEquals("CountingResource is closed", e.getMessage());
  }

  @Test
  void close_releaseFails_wrapsInBackendExceptionOnce() {
    OrtException failure = new OrtException(OrtException.OrtErrorCode.ORT_FAIL, "boom");
    CountingResource resource = new CountingResource(failure);

    BackendException e = assertThrows(BackendException.class, resource::close);
    resource.close();

    assertEquals(BackendException.Code.INTERNAL, e.code());
    assertEquals("Failed to close CountingResource on ONNX Runtime: boom", e.getMessage());
    assertSame(failure, e.getCause());
    assertEquals(1, resource.releases);
  }
}
