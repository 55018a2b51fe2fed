/**
 * Tests of the embedded Triton-protocol server over real gRPC: the in-process transport for most,
 * Netty on loopback for message limits and throughput. Test-only helpers live here too: {@code
 * TestModels} (reward-model-like ONNX graphs built in Java, repository writers and direct ONNX
 * Runtime references), {@code EmbeddedServerFixture} (a started server with a channel, stub and a
 * counting, gateable listener) and {@code ManualClock}.
 */
package dev.jbond.serving.embedded;
