/**
 * Tests of the Triton protocol layer: golden wire bytes of our protos, tensor encoding, client
 * configuration, and the client against a scriptable fake Triton service over gRPC's in-process
 * transport and over Netty on loopback (plaintext, TLS, mutual TLS). Test-only helpers live here
 * too: {@code Wire} (a hand encoder of protobuf wire format), {@code FakeTritonService}, {@code
 * FakeScheduler} (virtual time) and {@code TestCertificates} (self-signed, generated per run).
 */
package dev.jbond.serving.triton;
