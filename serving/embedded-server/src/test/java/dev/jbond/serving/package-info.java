/**
 * Tests of the Triton sampler and weight publisher against the embedded server over real gRPC
 * (in-process transport, and Netty loopback where sockets matter), with {@link
 * dev.jbond.serving.GenerationServers} as the shared fixture.
 */
package dev.jbond.serving;
