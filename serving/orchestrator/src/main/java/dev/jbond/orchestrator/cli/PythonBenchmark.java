package dev.jbond.orchestrator.cli;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the PyTorch side of a benchmark: a Python script that prints one JSON object last. */
final class PythonBenchmark {
  private PythonBenchmark() {}

  static Map<String, Object> run(List<String> command, String what)
      throws IOException, InterruptedException {
    System.err.println("bond bench: " + what + ": " + String.join(" ", command));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "Expected "
              + what
              + " to succeed, found exit code "
              + (p.isAlive() ? "none (timed out)" : p.exitValue())
              + " (needs Debian's python3-torch: apt-get install python3-torch; or use --no-torch)");
    }
    return Json.parseObject(stdout.substring(stdout.lastIndexOf('\n') + 1));
  }
}
