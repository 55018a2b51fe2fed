package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.PolicyRole;
import dev.jbond.checkpoint.FileCheckpointStore;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.objective.Jbond;
import dev.jbond.reference.TabularBackend;
import dev.jbond.reference.TabularProblem;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A J-BOND run stopped after a checkpoint and resumed in a fresh process-like setting (new backend,
 * new loop, same store) continues exactly like an uninterrupted run.
 */
class ResumeTest {
  private static final TabularProblem PROBLEM = TabularProblem.random(6, 10, 1.5, 0, 31);

  private static JbondLoop loop(
      TabularBackend b, FileCheckpointStore store, List<StepMetrics> out) {
    return JbondLoop.builder(
            Jbond.builder().optEta(0.05).build(),
            b,
            b,
            b,
            b,
            PromptSource.shuffled(PROBLEM.prompts(), 4, 9))
        .optSeed(123)
        .optCheckpoints(store, 10)
        .optMetricsSink(out::add)
        .build();
  }

  private static void assertSameState(TabularBackend a, TabularBackend b) {
    for (PolicyRole role : PolicyRole.values()) {
      for (int i = 0; i < PROBLEM.size(); i++) {
        assertArrayEquals(a.logProbabilities(role, i), b.logProbabilities(role, i), 0);
      }
    }
  }

  @Test
  void resume_afterStop_matchesUninterruptedRunBitForBit(@TempDir Path dir) throws IOException {
    TabularBackend straight = TabularBackend.adam(PROBLEM, 0.05);
    List<StepMetrics> straightMetrics = new ArrayList<>();
    try (JbondLoop l =
        loop(straight, FileCheckpointStore.open(dir.resolve("a")), straightMetrics)) {
      l.run(30);
    }

    FileCheckpointStore store = FileCheckpointStore.open(dir.resolve("b"));
    List<StepMetrics> first = new ArrayList<>();
    try (JbondLoop l = loop(TabularBackend.adam(PROBLEM, 0.05), store, first)) {
      l.run(25); // "killed" after step 25; the newest checkpoint is step 20
    }
    TabularBackend resumed = TabularBackend.adam(PROBLEM, 0.05);
    List<StepMetrics> second = new ArrayList<>();
    try (JbondLoop l = loop(resumed, FileCheckpointStore.open(dir.resolve("b")), second)) {
      assertEquals(Optional.of(20L), l.resume());
      l.run(10);
    }
    assertSameState(straight, resumed);
    for (int i = 0; i < 10; i++) {
      StepMetrics a = straightMetrics.get(20 + i);
      StepMetrics b = second.get(i);
      assertEquals(a.step(), b.step());
      assertEquals(a.rewardMean(), b.rewardMean());
      assertEquals(a.klAnchor(), b.klAnchor());
      assertEquals(a.loss(), b.loss());
    }
  }

  @Test
  void resume_corruptNewestCheckpoint_fallsBackToThePreviousOne(@TempDir Path dir)
      throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    try (JbondLoop l = loop(TabularBackend.adam(PROBLEM, 0.05), store, new ArrayList<>())) {
      l.run(20);
    }
    Path newest = dir.resolve(FileCheckpointStore.fileName(20));
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.seek(100);
      int b = f.read();
      f.seek(100);
      f.write(b ^ 0xFF);
    }
    TabularBackend resumed = TabularBackend.adam(PROBLEM, 0.05);
    try (JbondLoop l = loop(resumed, FileCheckpointStore.open(dir), new ArrayList<>())) {
      assertEquals(Optional.of(10L), l.resume());
      assertEquals(11, l.step().step());
    }
    assertTrue(resumed.stepCount() == 11);
  }

  @Test
  void resume_emptyStore_startsFresh(@TempDir Path dir) throws IOException {
    try (JbondLoop l =
        loop(
            TabularBackend.adam(PROBLEM, 0.05), FileCheckpointStore.open(dir), new ArrayList<>())) {
      assertEquals(Optional.empty(), l.resume());
      assertEquals(1, l.step().step());
    }
  }
}
