package dev.jbond.serving.triton;

import java.util.Objects;
import java.util.Optional;

/**
 * One Triton server the client creates (and owns) a channel for.
 *
 * @param name the name used in messages and {@link TritonCallOptions#onEndpoint}, non-empty and
 *     unique within a client
 * @param target a gRPC target: {@code host:port} or a URI such as {@code dns:///host:port}
 * @param tls TLS settings; empty: plaintext
 */
public record TritonEndpoint(String name, String target, Optional<TritonTls> tls) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param target see the record description
   * @param tls see the record description
   * @throws IllegalArgumentException when the name or target is empty
   */
  public TritonEndpoint {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(tls, "tls");
    if (name.isEmpty() || target.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected a non-empty endpoint name and target, found '" + name + "' '" + target + "'");
    }
  }

  /**
   * Returns a plaintext endpoint named after its target.
   *
   * @param target a gRPC target such as {@code triton-0:8001}
   * @return the endpoint
   */
  public static TritonEndpoint plaintext(String target) {
    return new TritonEndpoint(target, target, Optional.empty());
  }

  /**
   * Returns a TLS endpoint named after its target.
   *
   * @param target a gRPC target such as {@code triton-0:8001}
   * @param tls the TLS settings
   * @return the endpoint
   */
  public static TritonEndpoint tls(String target, TritonTls tls) {
    return new TritonEndpoint(target, target, Optional.of(tls));
  }
}
