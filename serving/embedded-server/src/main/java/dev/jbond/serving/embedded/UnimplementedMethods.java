package dev.jbond.serving.embedded;

import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.io.InputStream;

/**
 * The server's fallback for every method it does not serve: Triton RPCs that the embedded server
 * leaves out (ModelStatistics, the shared-memory, trace and log RPCs) and methods of other
 * services. Each call closes at once with UNIMPLEMENTED and a message naming the RPC.
 */
final class UnimplementedMethods extends HandlerRegistry {
  /** The service whose other RPCs get the Triton-specific message. */
  static final String SERVICE = "inference.GRPCInferenceService";

  private static final MethodDescriptor.Marshaller<InputStream> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
          return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
          return stream;
        }
      };

  @Override
  public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
    MethodDescriptor<InputStream, InputStream> method =
        MethodDescriptor.newBuilder(BYTES, BYTES)
            .setFullMethodName(methodName)
            .setType(MethodDescriptor.MethodType.UNKNOWN)
            .build();
    String message = message(methodName);
    ServerCallHandler<InputStream, InputStream> handler =
        (call, headers) -> {
          call.close(Status.UNIMPLEMENTED.withDescription(message), new Metadata());
          return new ServerCall.Listener<>() {};
        };
    return ServerMethodDefinition.create(method, handler);
  }

  /**
   * Returns the UNIMPLEMENTED message for a method.
   *
   * @param methodName the full method name, {@code service/method}
   * @return the message
   */
  static String message(String methodName) {
    if (methodName.startsWith(SERVICE + "/")) {
      return "The "
          + methodName.substring(SERVICE.length() + 1)
          + " RPC is not implemented by the jbond embedded Triton server";
    }
    return "Unknown method '"
        + methodName
        + "': the jbond embedded Triton server serves only "
        + SERVICE;
  }
}
