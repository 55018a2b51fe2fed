package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.run.StopSignal;
import dev.jbond.orchestrator.server.ServerSettings;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond server}: the run service. Starts Micronaut's HTTP server (Netty) with the runs API,
 * the dashboard, {@code /health} and {@code /prometheus}, and serves until SIGTERM or Ctrl-C; then
 * every running run finishes its step, checkpoints and stops (a restarted server lists it as
 * resumable), and the command exits 0.
 */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description = "Run the run service: an HTTP API for runs, metrics and a live dashboard.")
public final class ServerCommand implements Callable<Integer> {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--host",
      description =
          "Address to bind (default: ${DEFAULT-VALUE}); any other than loopback needs a token.")
  String host = "127.0.0.1";

  @Option(
      names = "--port",
      description = "HTTP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port = 8080;

  @Option(names = "--runs", description = "The runs folder (default: ${DEFAULT-VALUE}).")
  Path runs = Path.of("runs");

  @Option(
      names = "--token-file",
      description =
          "File holding the bearer token every request but /health must carry (default: the"
              + " JBOND_TOKEN environment variable; none: no token, loopback only).")
  Path tokenFile;

  @Option(
      names = "--allow-path",
      paramLabel = "DIR",
      description =
          "A folder submitted configurations may name models and prompts under (repeatable;"
              + " default: the runs folder and the demo assets).")
  List<Path> allowPaths = new ArrayList<>();

  @Option(
      names = "--max-concurrent-runs",
      description = "Runs that execute at once; others queue (default: ${DEFAULT-VALUE}).")
  int maxConcurrentRuns = 1;

  @Option(
      names = "--max-body",
      description = "Largest request body accepted, in bytes (default: ${DEFAULT-VALUE}).")
  long maxBody = 1 << 20;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("Expected --port in 0..65535, found " + port);
    }
    if (maxConcurrentRuns < 1) {
      throw new IllegalArgumentException(
          "Expected --max-concurrent-runs >= 1, found " + maxConcurrentRuns);
    }
    if (maxBody < 1024) {
      throw new IllegalArgumentException("Expected --max-body >= 1024, found " + maxBody);
    }
    Optional<String> token =
        ServerSettings.readToken(tokenFile, System.getenv(ServerSettings.TOKEN_VARIABLE));
    if (token.isEmpty() && !loopback(host)) {
      throw new IllegalArgumentException(
          "Expected a token (--token-file FILE or the "
              + ServerSettings.TOKEN_VARIABLE
              + " environment variable) to bind "
              + host
              + ", found none (without one the server binds loopback only)");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (StopSignal stop = StopSignal.onSignals();
        ApplicationContext context = start()) {
      EmbeddedServer server = context.getBean(EmbeddedServer.class);
      out.println(
          "bond server on http://"
              + (host.contains(":") ? "[" + host + "]" : host)
              + ":"
              + server.getPort()
              + "/ (runs in "
              + runs.toAbsolutePath().normalize()
              + (token.isPresent() ? "; bearer token required" : "")
              + "); SIGTERM or Ctrl-C stops it, checkpointing running runs");
      out.flush();
      while (!stop.requested() && context.isRunning()) {
        Thread.sleep(200);
      }
      if (stop.requested()) {
        out.println("Stopping: running runs finish their step and checkpoint.");
        out.flush();
      }
    }
    return 0;
  }

  private ApplicationContext start() {
    try {
      return Micronaut.build(new String[0])
          .mainClass(BondCommand.class)
          .banner(false)
          .properties(properties())
          .start();
    } catch (RuntimeException e) {
      Throwable bind = e;
      while (bind != null && !(bind instanceof java.net.BindException)) {
        bind = bind.getCause();
      }
      if (bind == null) {
        throw e;
      }
      throw new IllegalStateException(
          "Expected to listen on "
              + host
              + ":"
              + port
              + ", found the port in use or the address not on this machine ("
              + bind.getMessage()
              + ")",
          e);
    }
  }

  private Map<String, Object> properties() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("jbond.server.enabled", "true");
    p.put("micronaut.server.host", host);
    p.put("micronaut.server.port", port == 0 ? -1 : port); // Micronaut's "a free port" is -1
    p.put("micronaut.server.max-request-size", maxBody);
    p.put("jbond.server.runs", runs.toString());
    if (tokenFile != null) {
      p.put("jbond.server.token-file", tokenFile.toString());
    }
    if (!allowPaths.isEmpty()) {
      p.put("jbond.server.allow-paths", allowPaths.stream().map(Path::toString).toList());
    }
    p.put("jbond.server.max-concurrent-runs", maxConcurrentRuns);
    return p;
  }

  /** Whether a host name or address is a loopback address (every address it resolves to). */
  static boolean loopback(String host) {
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return all.length > 0;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "Expected a host name or address for --host, found " + host);
    }
  }
}
