package dev.jbond.serving.triton;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only: {@code n} fake Triton servers on gRPC's in-process transport (direct executors, so a
 * call and its scripted answer run on the calling thread), one caller-owned channel to each, and a
 * count of the calls the client started on each channel. Endpoint {@code i} is named {@code
 * "triton-i"}.
 */
final class InProcessTriton implements AutoCloseable {
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  final List<FakeTritonService> services = new ArrayList<>();
  private final List<Server> servers = new ArrayList<>();
  private final List<String> serverNames = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<Map<String, AtomicInteger>> started = new ArrayList<>();

  private InProcessTriton() {}

  static InProcessTriton start(int n) throws IOException {
    InProcessTriton triton = new InProcessTriton();
    int instance = INSTANCES.incrementAndGet();
    for (int i = 0; i < n; i++) {
      String name = "jbond-triton-test-" + instance + "-" + i;
      FakeTritonService service = new FakeTritonService("triton-" + i);
      triton.services.add(service);
      triton.serverNames.add(name);
      triton.servers.add(startServer(name, service));
      triton.channels.add(InProcessChannelBuilder.forName(name).directExecutor().build());
      triton.started.add(new ConcurrentHashMap<>());
    }
    return triton;
  }

  private static Server startServer(String name, FakeTritonService service) throws IOException {
    return InProcessServerBuilder.forName(name)
        .directExecutor()
        .addService(service.definition())
        .build()
        .start();
  }

  FakeTritonService service(int i) {
    return services.get(i);
  }

  ManagedChannel channel(int i) {
    return channels.get(i);
  }

  /** Channels for {@link TritonClient.Builder#optChannels}, counting started calls. */
  List<TritonChannel> tritonChannels() {
    List<TritonChannel> list = new ArrayList<>();
    for (int i = 0; i < channels.size(); i++) {
      Map<String, AtomicInteger> counts = started.get(i);
      ClientInterceptor counter =
          new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
              counts
                  .computeIfAbsent(method.getBareMethodName(), k -> new AtomicInteger())
                  .incrementAndGet();
              return next.newCall(method, options);
            }
          };
      list.add(
          new TritonChannel("triton-" + i, ClientInterceptors.intercept(channels.get(i), counter)));
    }
    return list;
  }

  /** Calls of {@code rpc} the client started on endpoint {@code i}, answered or not. */
  int started(int i, String rpc) {
    AtomicInteger count = started.get(i).get(rpc);
    return count == null ? 0 : count.get();
  }

  /** Stops server {@code i} abruptly; its channel's calls then fail with UNAVAILABLE. */
  void kill(int i) throws InterruptedException {
    servers.get(i).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Starts server {@code i} again (same name and service) and lets its channel reconnect now. */
  void restart(int i) throws IOException {
    servers.set(i, startServer(serverNames.get(i), services.get(i)));
    channels.get(i).resetConnectBackoff();
  }

  @Override
  public void close() {
    try {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      for (Server server : servers) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
