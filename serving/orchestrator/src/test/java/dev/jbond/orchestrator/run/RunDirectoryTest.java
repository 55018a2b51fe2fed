package dev.jbond.orchestrator.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run folder's files: lines dropped on resume, atomic writes, fresh folder names. */
class RunDirectoryTest {
  @TempDir Path dir;

  @Test
  void keepLinesBefore_dropsLaterStepsAndATornLastLine() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(
        file,
        "{\"step\":1,\"x\":1}\n{\"step\":2,\"x\":2}\n{\"step\":3,\"x\":3}\n{\"step\":4,\"x\"");

    assertEquals(2, RunDirectory.keepLinesBefore(file, 3));

    assertEquals("{\"step\":1,\"x\":1}\n{\"step\":2,\"x\":2}\n", Files.readString(file));
  }

  @Test
  void keepLinesBefore_missingFile_staysMissing() throws Exception {
    assertEquals(0, RunDirectory.keepLinesBefore(dir.resolve("none.jsonl"), 5));
    assertFalse(Files.exists(dir.resolve("none.jsonl")));
  }

  @Test
  void writeAtomically_replacesAndLeavesNoTemporaryFile() throws Exception {
    Path file = dir.resolve("sub").resolve("config.yaml");
    RunDirectory.writeAtomically(file, "a: 1\n");
    RunDirectory.writeAtomically(file, "a: 2\n");

    assertEquals("a: 2\n", Files.readString(file));
    try (var files = Files.list(file.getParent())) {
      assertEquals(1, files.count());
    }
  }

  @Test
  void fresh_takenName_getsASuffix() throws Exception {
    LocalDateTime now = LocalDateTime.of(2026, 12, 6, 15, 30, 12);
    RunDirectory first = RunDirectory.fresh(dir, "demo", now);
    Files.createDirectories(first.root());

    RunDirectory second = RunDirectory.fresh(dir, "demo", now);

    assertEquals("demo-20261206-153012", first.root().getFileName().toString());
    assertNotEquals(first.root(), second.root());
    assertEquals("demo-20261206-153012-2", second.root().getFileName().toString());
  }

  @Test
  void checkpointSteps_listsStepFilesInOrder() throws Exception {
    RunDirectory run = new RunDirectory(dir);
    Files.createDirectories(run.checkpoints());
    for (String name : new String[] {"step-000000000012.ckpt", "step-000000000003.ckpt", "x.tmp"}) {
      Files.writeString(run.checkpoints().resolve(name), "");
    }

    assertEquals(java.util.List.of(3L, 12L), run.checkpointSteps());
  }
}
