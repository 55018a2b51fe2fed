package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TrtLlmModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run against a fleet of three Triton-protocol servers ({@code bond serve} processes on loopback
 * ports): one killed mid-run is ejected and quarantined, and the run goes on with nothing lost (the
 * same metrics as a run with all three up); all three killed is a one-line error with exit code 1
 * and the last checkpoint intact, and {@code --resume} continues once a server is back, again with
 * exactly the metrics of the uninterrupted run.
 */
class FleetEndpointsTest {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final int STEPS = 8;

  @Test
  void run_endpointsDie_runGoesOnOrStopsResumablyWithNothingLost(@TempDir Path dir)
      throws Exception {
    Path repo = dir.resolve("repo");
    writeRepository(repo);
    Path logs = Path.of("target", "fleet-logs"); // kept for a look after a failure
    List<BondProcess> servers = new ArrayList<>();
    try {
      int[] ports = new int[3];
      for (int i = 0; i < 3; i++) {
        servers.add(serve(logs, "serve-" + i, repo, 0));
        ports[i] = servers.get(i).awaitServing(TIMEOUT);
      }
      Path config = RunFiles.config(dir, "fleet", STEPS, fleet(ports));

      // all three up: the reference lines
      Path whole = dir.resolve("whole");
      try (BondProcess run = run(logs, "whole", config, whole, false)) {
        assertEquals(0, run.waitFor(TIMEOUT), run.err());
      }
      // the servers number versions (new content gets a number above what they served), and these
      // runs share servers: compare everything but timings and those numbers
      List<Map<String, Object>> expected = withoutVersions(whole.resolve("metrics.jsonl"));
      assertEquals(STEPS, expected.size());

      // one server dies mid-run: ejected, quarantined, nothing lost
      Path oneDown = dir.resolve("one-down");
      try (BondProcess run = run(logs, "one-down", config, oneDown, false)) {
        run.await(
            () -> RunFiles.lineCount(oneDown.resolve("metrics.jsonl")) >= 3, TIMEOUT, "step 3");
        servers.get(1).kill();
        assertEquals(0, run.waitFor(TIMEOUT), run.err());
        assertFalse(run.out().contains("failed (attempt"), run.out());
      }
      assertEquals(expected, withoutVersions(oneDown.resolve("metrics.jsonl")));
      servers.set(1, serve(logs, "serve-1b", repo, ports[1]));
      servers.get(1).awaitServing(TIMEOUT);

      // every server dies: one line, exit 1, checkpoint intact; resumed once one is back
      Path allDown = dir.resolve("all-down");
      try (BondProcess run = run(logs, "all-down", config, allDown, false)) {
        run.await(
            () -> RunFiles.lineCount(allDown.resolve("metrics.jsonl")) >= 2, TIMEOUT, "step 2");
        for (BondProcess server : servers) {
          server.kill();
        }
        assertEquals(1, run.waitFor(TIMEOUT), run.err());
        // the failure is one line (log lines about ejected endpoints may come before it)
        String[] lines = run.err().strip().split("\n");
        String error = lines[lines.length - 1];
        assertTrue(error.startsWith("bond: Step "), run.err());
        assertTrue(error.contains("the run is checkpointed at step"), error);
        assertTrue(error.contains("--resume"), error);
        assertEquals(1, run.err().split("bond: ", -1).length - 1, run.err());
        assertFalse(run.err().contains("\tat "), run.err());
      }
      int kept = RunFiles.lineCount(allDown.resolve("metrics.jsonl"));
      assertTrue(
          Files.exists(allDown.resolve(String.format("checkpoints/step-%012d.ckpt", kept))),
          "a checkpoint of step " + kept);
      servers.set(0, serve(logs, "serve-0b", repo, ports[0]));
      servers.get(0).awaitServing(TIMEOUT);
      try (BondProcess run = run(logs, "resumed", config, allDown, true)) {
        assertEquals(0, run.waitFor(TIMEOUT), run.err());
      }
      assertEquals(expected, withoutVersions(allDown.resolve("metrics.jsonl")));
    } finally {
      for (BondProcess server : servers) {
        server.close();
      }
    }
  }

  private static List<Map<String, Object>> withoutVersions(Path metrics) throws IOException {
    List<Map<String, Object>> lines = RunFiles.linesWithoutTimings(metrics);
    for (Map<String, Object> line : lines) {
      line.remove("policyVersion");
      line.remove("anchorVersion");
    }
    return lines;
  }

  private static BondProcess serve(Path logs, String name, Path repo, int port) throws IOException {
    return BondProcess.start(
        logs,
        name,
        "serve",
        "--models",
        repo.toString(),
        "--port",
        Integer.toString(port),
        "--threads",
        "1",
        "--no-spin");
  }

  private static BondProcess run(Path logs, String name, Path config, Path out, boolean resume)
      throws IOException {
    List<String> args =
        new ArrayList<>(List.of("run", "--config", config.toString(), "--out", out.toString()));
    if (resume) {
      args.add("--resume");
    }
    return BondProcess.start(logs, name, args.toArray(new String[0]));
  }

  /** The demo policy as version 1 of the policy and anchor models. */
  private static void writeRepository(Path repo) throws IOException {
    ModelDirectory demo = ModelDirectory.read(RepositoryRoot.demo().resolve("policy/1"));
    DecoderWeights weights = demo.readWeights();
    for (String model : List.of("jbond-policy", "jbond-anchor")) {
      TrtLlmModelConfig.write(
          repo,
          TrtLlmModelConfig.config(model, 64, false, TensorProfile.trtLlm()),
          1,
          weights,
          demo.eosTokenId(),
          demo.padTokenId());
    }
  }

  private static String fleet(int[] ports) {
    StringBuilder endpoints = new StringBuilder();
    for (int i = 0; i < ports.length; i++) {
      endpoints
          .append(i == 0 ? "" : ", ")
          .append("{target: 'localhost:")
          .append(ports[i])
          .append("', name: e")
          .append(i)
          .append("}");
    }
    return "serving:\n"
        + "  mode: triton\n"
        + "  endpoints: ["
        + endpoints
        + "]\n"
        + "  deadline: 20s\n"
        + "  load-deadline: 20s\n"
        + "  retry: {max-attempts: 3, initial-backoff: 50ms, max-backoff: 200ms}\n"
        + "  health: {interval: 250ms, timeout: 5s, eject-after: 1}\n"
        + "run: {steps: "
        + STEPS
        + ", seed: 3, checkpoint-every: 2, eval-every: 0, step-retries: 1}\n";
  }
}
