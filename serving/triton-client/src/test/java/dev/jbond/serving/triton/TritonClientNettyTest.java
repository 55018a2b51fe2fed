package dev.jbond.serving.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client over real HTTP/2 (grpc-netty-shaded) on loopback, creating and owning its channels
 * from {@link TritonEndpoint}s: plaintext, message-size limit, TLS and mutual TLS with self-signed
 * certificates generated for this run.
 */
class TritonClientNettyTest {
  @TempDir static Path certificateDir;
  private static TestCertificates certificates;

  private final FakeTritonService service = new FakeTritonService("netty-triton");
  private Server server;
  private TritonClient client;

  @BeforeAll
  static void generateCertificates() throws Exception {
    certificates = TestCertificates.generate(certificateDir);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private int startServer(ServerCredentials credentials) throws Exception {
    server =
        Grpc.newServerBuilderForPort(0, credentials)
            .addService(service.definition())
            .build()
            .start();
    return server.getPort();
  }

  private TritonClient client(
      TritonEndpoint endpoint, Consumer<TritonClientConfig.Builder> settings) {
    TritonClientConfig.Builder config =
        TritonClientConfig.builder()
            .optEndpoints(List.of(endpoint))
            .optDeadline(Duration.ofSeconds(10))
            .optRetry(TritonRetryPolicy.none());
    settings.accept(config);
    client = TritonClient.builder(config.build()).optRandom(new SplittableRandom(5)).build();
    return client;
  }

  private static BackendException failure(CompletableFuture<?> future) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
    return assertInstanceOf(BackendException.class, e.getCause());
  }

  private static ModelInferRequest request() {
    return TritonTensors.setInputs(
            ModelInferRequest.newBuilder().setModelName("policy").setId("n1"),
            List.of(TritonTensor.ofFp16("x", new long[] {2}, 0.5f, -4f)))
        .build();
  }

  @Test
  void plaintextLoopback_inferAndStream_ownedChannelShutDownOnClose() throws Exception {
    int port = startServer(InsecureServerCredentials.create());
    TritonClient c =
        client(
            new TritonEndpoint("local", "localhost:" + port, java.util.Optional.empty()),
            b -> b.optKeepAliveTime(Duration.ofMinutes(5)));

    ModelInferResponse response =
        c.modelInfer(request(), TritonCallOptions.defaults()).get(10, TimeUnit.SECONDS);
    assertArrayEquals(new float[] {0.5f, -4f}, TritonTensors.output(response, "echo").toFloats());
    List<ModelInferResponse> streamed =
        c.streamInfer(List.of(request()), TritonCallOptions.defaults())
            .get(0)
            .get(10, TimeUnit.SECONDS);
    assertEquals(1, streamed.size());
    assertEquals(1, c.ownedChannelCount());

    c.close();
    assertTrue(c.ownedChannelsTerminated());
  }

  @Test
  void oversizedResponse_resourceExhausted_clearErrorNamingTheLimit() throws Exception {
    int port = startServer(InsecureServerCredentials.create());
    service.inferPaddingBytes = 8 * 1024;
    TritonClient c =
        client(
            TritonEndpoint.plaintext("localhost:" + port), b -> b.optMaxInboundMessageBytes(4096));

    BackendException e = failure(c.modelInfer(request(), TritonCallOptions.defaults()));

    assertEquals(BackendException.Code.RESOURCE_EXHAUSTED, e.code());
    assertTrue(
        e.getMessage()
            .startsWith(
                "ModelInfer of model 'policy' failed on endpoint 'localhost:"
                    + port
                    + "': RESOURCE_EXHAUSTED: "),
        e.getMessage());
    assertTrue(
        e.getMessage()
            .endsWith(
                "(the response exceeds maxInboundMessageBytes = 4096; raise it in"
                    + " TritonClientConfig)"),
        e.getMessage());
    service.inferPaddingBytes = 0;
    assertTrue(c.serverLive().get(10, TimeUnit.SECONDS), "the channel survives the rejection");
  }

  @Test
  void tls_trustedServerCertificate_handshakeSucceeds() throws Exception {
    int port =
        startServer(
            TlsServerCredentials.create(
                certificates.serverCertificate().toFile(), certificates.serverKey().toFile()));
    TritonClient c =
        client(
            TritonEndpoint.tls(
                "localhost:" + port, TritonTls.trusting(certificates.serverCertificate())),
            b -> {});

    assertTrue(c.serverLive().get(10, TimeUnit.SECONDS));
    assertEquals(
        "netty-triton",
        c.serverMetadata(TritonCallOptions.defaults()).get(10, TimeUnit.SECONDS).getName());
  }

  @Test
  void tls_untrustedServerCertificate_failsUnavailable() throws Exception {
    int port =
        startServer(
            TlsServerCredentials.create(
                certificates.serverCertificate().toFile(), certificates.serverKey().toFile()));
    TritonClient c =
        client(
            TritonEndpoint.tls(
                "localhost:" + port, TritonTls.trusting(certificates.clientCertificate())),
            b -> {});

    BackendException e = failure(c.serverLive());

    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertTrue(
        e.getMessage()
            .startsWith("ServerLive failed on endpoint 'localhost:" + port + "': UNAVAILABLE"),
        e.getMessage());
    assertEquals(0, service.calls("ServerLive"));
  }

  private ServerCredentials mutualTlsServer() throws Exception {
    return TlsServerCredentials.newBuilder()
        .keyManager(certificates.serverCertificate().toFile(), certificates.serverKey().toFile())
        .trustManager(certificates.clientCertificate().toFile())
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  @Test
  void mutualTls_clientCertificate_accepted() throws Exception {
    int port = startServer(mutualTlsServer());
    TritonClient c =
        client(
            TritonEndpoint.tls(
                "localhost:" + port,
                TritonTls.mutual(
                    certificates.serverCertificate(),
                    certificates.clientCertificate(),
                    certificates.clientKey())),
            b -> b.optHeaders(Map.of("triton-grpc-protocol-key", "k")));

    assertTrue(c.modelReady("policy").get(10, TimeUnit.SECONDS));
    assertEquals(1, service.calls("ModelReady"));
  }

  @Test
  void mutualTls_withoutClientCertificate_rejected() throws Exception {
    int port = startServer(mutualTlsServer());
    TritonClient c =
        client(
            TritonEndpoint.tls(
                "localhost:" + port, TritonTls.trusting(certificates.serverCertificate())),
            b -> {});

    BackendException e = failure(c.modelReady("policy"));

    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertTrue(
        e.getMessage().startsWith("ModelReady of model 'policy' failed on endpoint 'localhost:"),
        e.getMessage());
    assertEquals(0, service.calls("ModelReady"));
  }

  @Test
  void tls_unreadablePem_rejectedWhenBuildingTheClient() {
    TritonEndpoint endpoint =
        TritonEndpoint.tls(
            "localhost:1", TritonTls.trusting(certificateDir.resolve("missing.pem")));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> client(endpoint, b -> {}));
    assertTrue(
        e.getMessage()
            .startsWith("Cannot read TLS PEM file " + certificateDir.resolve("missing.pem")),
        e.getMessage());
  }
}
