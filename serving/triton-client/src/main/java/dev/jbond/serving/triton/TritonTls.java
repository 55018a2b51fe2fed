package dev.jbond.serving.triton;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings for one Triton endpoint, from PEM files.
 *
 * <p>Server authentication uses {@code trustCertificates} (the CA or self-signed certificates to
 * trust), or the JVM's default trust store when empty. Mutual TLS adds a client certificate chain
 * and its PKCS#8 private key; both or neither must be given. The files are read when the client
 * creates its channels.
 *
 * @param trustCertificates PEM file of trusted certificates; empty: the JVM's trust store
 * @param clientCertificateChain PEM file of the client certificate chain, for mutual TLS
 * @param clientPrivateKey PEM file of the client's unencrypted PKCS#8 private key, for mutual TLS
 * @param authorityOverride the host name to verify the server certificate against instead of the
 *     target's host; empty: the target's host
 */
public record TritonTls(
    Optional<Path> trustCertificates,
    Optional<Path> clientCertificateChain,
    Optional<Path> clientPrivateKey,
    Optional<String> authorityOverride) {

  /**
   * Validates the components.
   *
   * @param trustCertificates see the record description
   * @param clientCertificateChain see the record description
   * @param clientPrivateKey see the record description
   * @param authorityOverride see the record description
   * @throws IllegalArgumentException when only one of the client certificate chain and private key
   *     is given, or the authority override is empty
   */
  public TritonTls {
    Objects.requireNonNull(trustCertificates, "trustCertificates");
    Objects.requireNonNull(clientCertificateChain, "clientCertificateChain");
    Objects.requireNonNull(clientPrivateKey, "clientPrivateKey");
    Objects.requireNonNull(authorityOverride, "authorityOverride");
    if (clientCertificateChain.isPresent() != clientPrivateKey.isPresent()) {
      throw new IllegalArgumentException(
          "Expected both a client certificate chain and a client private key for mutual TLS, found "
              + (clientCertificateChain.isPresent() ? "only the chain" : "only the key"));
    }
    if (authorityOverride.isPresent() && authorityOverride.get().isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty TLS authority override");
    }
  }

  /**
   * Returns TLS that trusts the JVM's default trust store.
   *
   * @return the settings
   */
  public static TritonTls systemTrust() {
    return new TritonTls(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * Returns TLS that trusts the certificates in {@code trustCertificates}.
   *
   * @param trustCertificates PEM file of trusted certificates
   * @return the settings
   */
  public static TritonTls trusting(Path trustCertificates) {
    return new TritonTls(
        Optional.of(trustCertificates), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * Returns mutual TLS: trusts {@code trustCertificates} and presents the client certificate.
   *
   * @param trustCertificates PEM file of trusted certificates
   * @param clientCertificateChain PEM file of the client certificate chain
   * @param clientPrivateKey PEM file of the client's PKCS#8 private key
   * @return the settings
   */
  public static TritonTls mutual(
      Path trustCertificates, Path clientCertificateChain, Path clientPrivateKey) {
    return new TritonTls(
        Optional.of(trustCertificates),
        Optional.of(clientCertificateChain),
        Optional.of(clientPrivateKey),
        Optional.empty());
  }

  /**
   * Returns these settings verifying the server certificate against {@code authority}.
   *
   * @param authority the host name the server certificate must name
   * @return new settings
   */
  public TritonTls withAuthorityOverride(String authority) {
    return new TritonTls(
        trustCertificates, clientCertificateChain, clientPrivateKey, Optional.of(authority));
  }

  /**
   * Builds gRPC channel credentials from the PEM files.
   *
   * @return the credentials
   * @throws IllegalArgumentException when a PEM file cannot be read or parsed
   */
  ChannelCredentials credentials() {
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    Path current = null;
    try {
      if (trustCertificates.isPresent()) {
        current = trustCertificates.get();
        builder.trustManager(current.toFile());
      }
      if (clientCertificateChain.isPresent()) {
        current = clientCertificateChain.get();
        builder.keyManager(current.toFile(), clientPrivateKey.orElseThrow().toFile());
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "Cannot read TLS PEM file " + current + ": " + e.getMessage(), e);
    }
    return builder.build();
  }
}
