package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.jbond.internal.Json;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.run.RunEngine;
import dev.jbond.orchestrator.run.RunOutcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micronaut.context.ApplicationContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery of the runs folder on start, with the engine mocked. */
class RunManagerTest {
  private static ApplicationContext CONTEXT;

  @TempDir Path dir;

  @org.junit.jupiter.api.BeforeAll
  static void context() {
    CONTEXT = ApplicationContext.run();
  }

  @org.junit.jupiter.api.AfterAll
  static void close() {
    CONTEXT.close();
  }

  private Path runFolder(String id, String status, long... checkpoints) throws Exception {
    Path run = Files.createDirectories(dir.resolve(id));
    Files.writeString(
        run.resolve("config.yaml"),
        ConfigYaml.write(DemoCommand.config(ServerFixtures.demoAssets(), 4, 0)));
    if (status != null) {
      Files.writeString(
          run.resolve("status.json"),
          Json.write(Map.of("status", status, "created", "2026-12-06T10:00:00Z")));
    }
    Files.createDirectories(run.resolve("checkpoints"));
    for (long step : checkpoints) {
      Files.writeString(
          run.resolve("checkpoints").resolve(String.format("step-%012d.ckpt", step)), "x");
    }
    return run;
  }

  private RunManager manager(RunEngine engine) throws Exception {
    ServerSettings settings =
        new ServerSettings(
            dir,
            List.of(dir, ServerFixtures.demoAssets()),
            Optional.empty(),
            1,
            Duration.ofSeconds(5));
    return new RunManager(
        settings,
        engine,
        CONTEXT.getBean(RunConfigLoader.class),
        new RunMetrics(new SimpleMeterRegistry()));
  }

  @Test
  void start_marksRunsLeftRunningStopped_andReadsFoldersOfBondRun() throws Exception {
    runFolder("crashed", "running", 2);
    runFolder("stopping", "stopping", 1);
    runFolder("done", "finished", 4);
    runFolder("broke", "failed", 2);
    runFolder("cli-finished", null, 2, 4);
    runFolder("cli-stopped", null, 2);
    Files.createDirectories(dir.resolve("not-a-run"));
    RunEngine engine = mock(RunEngine.class);
    try (RunManager manager = manager(engine)) {
      assertEquals("stopped", manager.get("crashed").status().json());
      assertEquals("stopped", manager.get("stopping").status().json());
      assertEquals("finished", manager.get("done").status().json());
      assertEquals("failed", manager.get("broke").status().json());
      assertEquals("finished", manager.get("cli-finished").status().json());
      assertEquals("stopped", manager.get("cli-stopped").status().json());
      assertThrows(RunRequestException.class, () -> manager.get("not-a-run"));
      assertThrows(RunRequestException.class, () -> manager.get("../crashed"));
      Map<String, Object> summary = manager.get("crashed").summary();
      assertEquals(true, summary.get("resumable"));
      assertEquals(2L, summary.get("checkpointStep"));
      assertEquals(4, summary.get("totalSteps"));
      assertEquals("2026-12-06T10:00:00Z", summary.get("created"));
      // the recovered status is written back
      assertEquals(
          "stopped",
          Json.parseObject(Files.readString(dir.resolve("crashed/status.json"))).get("status"));
    }
  }

  @Test
  void queuedRuns_goBackInTheQueue_andResumeFromTheirCheckpoint() throws Exception {
    runFolder("waiting", "queued", 2);
    RunEngine engine = mock(RunEngine.class);
    when(engine.run(any(), any(), any()))
        .thenReturn(
            new RunOutcome(
                RunOutcome.Status.FINISHED,
                4,
                4,
                4,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                0.1));
    try (RunManager manager = manager(engine)) {
      verify(engine, timeout(5000))
          .run(
              org.mockito.ArgumentMatchers.argThat(
                  r -> r.resume() && r.directory().root().endsWith("waiting")),
              any(),
              any());
      long end = System.nanoTime() + 5_000_000_000L;
      while (manager.get("waiting").status() != RunStatus.FINISHED && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      assertEquals(RunStatus.FINISHED, manager.get("waiting").status());
    }
  }

  @Test
  void aFailingEngine_failsTheRunWithItsMessage() throws Exception {
    RunEngine engine = mock(RunEngine.class);
    when(engine.run(any(), any(), any()))
        .thenThrow(new IllegalStateException("Step 3 failed after 3 attempts\n(no endpoint)"));
    try (RunManager manager = manager(engine)) {
      RunManager.Run run =
          manager.submit(ConfigYaml.write(DemoCommand.config(ServerFixtures.demoAssets(), 4, 0)));
      long end = System.nanoTime() + 5_000_000_000L;
      while (run.status() != RunStatus.FAILED && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      Map<String, Object> summary = run.summary();
      assertEquals("failed", summary.get("status"));
      assertEquals("Step 3 failed after 3 attempts (no endpoint)", summary.get("error"));
      assertEquals(true, summary.get("resumable"));
    }
  }
}
