package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: the {@code bond} command line in a child JVM (this JVM's class path), as a user runs
 * it, with its output in files; {@link #kill()} is SIGKILL, {@link #terminate()} SIGTERM.
 */
final class BondProcess implements AutoCloseable {
  private static final Pattern SERVING = Pattern.compile("Serving Triton gRPC on [^:]+:([0-9]+)");

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private BondProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Starts {@code bond args...} with its output in {@code logs/<name>.out|.err}. */
  static BondProcess start(Path logs, String name, String... args) throws IOException {
    Files.createDirectories(logs);
    Path out = logs.resolve(name + ".out");
    Path err = logs.resolve(name + ".err");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-Djbond.home=" + RepositoryRoot.get());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.jbond.orchestrator.cli.BondCommand");
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    return new BondProcess(p, out, err);
  }

  /** Waits for the process to end; returns its exit code. */
  int waitFor(Duration timeout) throws InterruptedException, IOException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(
          "Expected bond to finish within "
              + timeout
              + ", it did not; stdout: "
              + out()
              + " stderr: "
              + err());
    }
    return process.exitValue();
  }

  /** SIGKILL: the process dies at once, whatever it was doing. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM. */
  void terminate() {
    process.destroy();
  }

  boolean alive() {
    return process.isAlive();
  }

  String out() throws IOException {
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  String err() throws IOException {
    return Files.readString(stderr, StandardCharsets.UTF_8);
  }

  /** Waits until {@code condition} holds, failing when the process dies first or time runs out. */
  void await(BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException, IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(
          process.isAlive(),
          "Expected " + what + " before bond exited; stdout: " + out() + " stderr: " + err());
      assertTrue(System.nanoTime() < end, "Expected " + what + " within " + timeout);
      Thread.sleep(5);
    }
  }

  /** For {@code bond serve}: waits until it serves and returns its port. */
  int awaitServing(Duration timeout) throws InterruptedException, IOException {
    return awaitPort(SERVING, timeout, "the server to start");
  }

  /**
   * Waits until stdout matches {@code listening}, whose first group is a port, and returns it (for
   * {@code bond serve} and {@code bond server}).
   */
  int awaitPort(Pattern listening, Duration timeout, String what)
      throws InterruptedException, IOException {
    int[] port = {-1};
    await(
        () -> {
          try {
            Matcher m = listening.matcher(out());
            if (m.find()) {
              port[0] = Integer.parseInt(m.group(1));
              return true;
            }
            return false;
          } catch (IOException e) {
            return false;
          }
        },
        timeout,
        what);
    return port[0];
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
