package dev.jbond.onnx.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionConfigTest {
  @Test
  void defaults_areOrtDefaultsOnCpu() {
    SessionConfig config = SessionConfig.defaults();

    assertEquals(0, config.intraOpThreads());
    assertEquals(0, config.interOpThreads());
    assertEquals(OptimizationLevel.ALL, config.optimizationLevel());
    assertEquals(ExecutionProvider.CPU, config.executionProvider());
    assertEquals(Map.of(), config.configEntries());
  }

  @Test
  void builder_allOptions_areKept() {
    SessionConfig config =
        SessionConfig.builder()
            .optIntraOpThreads(4)
            .optInterOpThreads(2)
            .optOptimizationLevel(OptimizationLevel.BASIC)
            .optExecutionProvider(ExecutionProvider.CUDA)
            .optDeviceId(1)
            .optConfigEntry("session.disable_prepacking", "1")
            .build();

    assertEquals(
        new SessionConfig(
            4,
            2,
            OptimizationLevel.BASIC,
            ExecutionProvider.CUDA,
            1,
            Map.of("session.disable_prepacking", "1")),
        config);
  }

  @Test
  void constructor_negativeThreads_fails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SessionConfig.builder().optIntraOpThreads(-1).build());

    assertEquals("Expected intraOpThreads >= 0, found -1", e.getMessage());
  }

  @Test
  void constructor_configEntries_areCopied() {
    Map<String, String> entries = new HashMap<>();
    entries.put("k", "v");
    SessionConfig config =
        new SessionConfig(0, 0, OptimizationLevel.ALL, ExecutionProvider.CPU, 0, entries);

    entries.put("k2", "v2");

    assertEquals(Map.of("k", "v"), config.configEntries());
  }
}
