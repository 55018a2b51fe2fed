package dev.jbond.serving.triton;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Test-only TLS material, generated per test run with the JDK's {@code keytool} (no private key is
 * committed): a self-signed server certificate for {@code localhost} / {@code 127.0.0.1} and a
 * self-signed client certificate, each as PEM files with a PKCS#8 private key. Each certificate is
 * its own trust anchor: the client trusts {@link #serverCertificate}, a mutual-TLS server trusts
 * {@link #clientCertificate}. Tests are skipped (not passed) when {@code keytool} is missing.
 *
 * @param serverCertificate PEM certificate of the server
 * @param serverKey PEM PKCS#8 key of the server
 * @param clientCertificate PEM certificate of the client
 * @param clientKey PEM PKCS#8 key of the client
 */
record TestCertificates(
    Path serverCertificate, Path serverKey, Path clientCertificate, Path clientKey) {
  private static final String PASSWORD = "test-only";

  static TestCertificates generate(Path dir) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Assumptions.assumeTrue(
        Files.isExecutable(keytool), "keytool not found at " + keytool + "; TLS tests skipped");
    // the two keytool JVMs run side by side; each takes about a second
    Process server =
        keytool(keytool, dir, "server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1");
    Process client = keytool(keytool, dir, "client", "CN=jbond-test-client", null);
    Path[] serverPem = exportPem(server, dir, "server");
    Path[] clientPem = exportPem(client, dir, "client");
    return new TestCertificates(serverPem[0], serverPem[1], clientPem[0], clientPem[1]);
  }

  /** Starts keytool generating an EC P-256 key pair with a self-signed certificate. */
  private static Process keytool(Path keytool, Path dir, String alias, String dname, String san)
      throws IOException {
    Path store = dir.resolve(alias + ".p12");
    List<String> command =
        new ArrayList<>(
            List.of(
                keytool.toString(),
                "-J-XX:TieredStopAtLevel=1",
                "-J-XX:+UseSerialGC",
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-sigalg",
                "SHA256withECDSA",
                "-dname",
                dname,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                PASSWORD));
    if (san != null) {
      command.add("-ext");
      command.add(san);
    }
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /** Waits for keytool, then writes the certificate and PKCS#8 key as PEM; returns {cert, key}. */
  private static Path[] exportPem(Process process, Path dir, String alias) throws Exception {
    Path store = dir.resolve(alias + ".p12");
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool failed for " + alias + ": " + output.strip());
    }
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, PASSWORD.toCharArray());
    }
    Certificate certificate = keyStore.getCertificate(alias);
    PrivateKey key = (PrivateKey) keyStore.getKey(alias, PASSWORD.toCharArray());
    Path certPem = dir.resolve(alias + ".crt.pem");
    Path keyPem = dir.resolve(alias + ".key.pem");
    Files.writeString(certPem, pem("CERTIFICATE", certificate.getEncoded()));
    Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded())); // PKCS#8
    return new Path[] {certPem, keyPem};
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
