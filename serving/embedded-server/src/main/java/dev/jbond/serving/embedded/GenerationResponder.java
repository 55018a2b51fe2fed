package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.TritonTensor;
import java.util.List;

/**
 * Where a {@link GenerationModel} sends the responses of one request. Thread-safe; calls after the
 * request has ended (completed, failed or cancelled) are ignored.
 */
public interface GenerationResponder {
  /**
   * Sends one response.
   *
   * @param outputs the response's output tensors, with distinct names
   * @param last whether this is the request's last response (Triton's final flag); the request ends
   *     with it
   */
  void send(List<TritonTensor> outputs, boolean last);

  /**
   * Ends the request without another response carrying data. On a stream whose request set {@code
   * triton_enable_empty_final_response}, the client receives an empty response flagged {@code
   * triton_final_response}; otherwise nothing more, as in Triton.
   */
  void complete();

  /**
   * Ends the request with an error. {@link IllegalArgumentException} becomes INVALID_ARGUMENT, a
   * {@link dev.jbond.BackendException} keeps its code, anything else is INTERNAL; the message is
   * sent to the client.
   *
   * @param error the failure
   */
  void fail(Throwable error);

  /**
   * Returns whether the client has gone: cancelled the call or stream, or let its deadline pass. A
   * model should stop work on the request when this turns true.
   *
   * @return true when nothing sent will reach the client
   */
  boolean isCancelled();
}
