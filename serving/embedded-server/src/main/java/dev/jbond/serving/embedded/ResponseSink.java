package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Where the responses of one inference request go: a unary call, or one request on a stream. Each
 * request ends with exactly one call that has {@code last = true} or one {@link #fail}.
 */
interface ResponseSink {
  /**
   * Delivers a response.
   *
   * @param response the response
   * @param last whether it is the request's last (Triton's {@code triton_final_response})
   */
  void response(ModelInferResponse response, boolean last);

  /**
   * Ends the request with an error.
   *
   * @param status the error
   * @param id the request id
   */
  void fail(Status status, String id);

  /**
   * Ends the request without another message (a decoupled request whose client did not ask for an
   * empty final response).
   */
  void end();

  /** The sink of a unary ModelInfer call: one response, or the error as the call's status. */
  static ResponseSink unary(StreamObserver<ModelInferResponse> observer) {
    return new ResponseSink() {
      @Override
      public void response(ModelInferResponse response, boolean last) {
        observer.onNext(response);
        observer.onCompleted();
      }

      @Override
      public void fail(Status status, String id) {
        observer.onError(status.asRuntimeException());
      }

      @Override
      public void end() {
        observer.onError(
            ServerErrors.internal("Expected a response for the ModelInfer call, found none", null));
      }
    };
  }

  /**
   * The sink of one request on a ModelStreamInfer stream: every response carries {@code
   * triton_final_response}, errors travel in-band as {@code error_message} with the request id.
   */
  static ResponseSink stream(InferStream stream) {
    return new ResponseSink() {
      @Override
      public void response(ModelInferResponse response, boolean last) {
        stream.write(
            ModelStreamInferResponse.newBuilder()
                .setInferResponse(
                    response.toBuilder()
                        .putParameters(
                            TritonTensors.FINAL_RESPONSE_PARAMETER,
                            TritonTensors.boolParameter(last)))
                .build(),
            last);
      }

      @Override
      public void fail(Status status, String id) {
        stream.write(
            ModelStreamInferResponse.newBuilder()
                .setErrorMessage(ServerErrors.message(status))
                .setInferResponse(ModelInferResponse.newBuilder().setId(id))
                .build(),
            true);
      }

      @Override
      public void end() {
        stream.write(null, true);
      }
    };
  }

  /** The response side of one ModelStreamInfer stream, shared by its requests. */
  interface InferStream {
    /**
     * Writes a message.
     *
     * @param message the message, or null to write nothing
     * @param endsRequest whether it is the last for its request
     */
    void write(ModelStreamInferResponse message, boolean endsRequest);
  }
}
