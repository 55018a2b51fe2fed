package dev.jbond.orchestrator.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The run state a checkpoint carries: read back as written, refused for another run. */
class RunStateTest {
  private static final Map<PolicyRole, ModelVersion> SERVED =
      Map.of(PolicyRole.POLICY, new ModelVersion("jbond-policy", 8));

  private static byte[] written(RunState state, long step) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      state.write(step, out);
    }
    return bytes.toByteArray();
  }

  private static DataInputStream in(byte[] bytes) {
    return new DataInputStream(new ByteArrayInputStream(bytes));
  }

  @Test
  void readBack_restoresTheLinesAndServedVersions() throws Exception {
    RunState state = new RunState(7, 16, "sha256:ab", () -> SERVED);
    state.pending("{\"step\":7}", "{\"step\":7,\"q\":0.8}");
    byte[] bytes = written(state, 7);

    RunState resumed = new RunState(7, 16, "sha256:ab", Map::of);
    resumed.read(7, in(bytes));

    assertEquals("{\"step\":7}", resumed.restoredMetricsLine());
    assertEquals("{\"step\":7,\"q\":0.8}", resumed.restoredEvalLine());
    assertEquals(SERVED, resumed.restoredServedVersions());
  }

  @Test
  void read_otherSeedBatchOrReference_isRefusedNamingWhat() throws Exception {
    byte[] bytes = written(new RunState(7, 16, "sha256:ab", () -> SERVED), 7);

    assertEquals(
        "Expected a checkpoint of a run with seed 8 (run.seed), found 7",
        assertThrows(
                IOException.class,
                () -> new RunState(8, 16, "sha256:ab", Map::of).read(7, in(bytes)))
            .getMessage());
    assertEquals(
        "Expected a checkpoint of a run with 32 prompts per step (prompts.batch-size), found 16",
        assertThrows(
                IOException.class,
                () -> new RunState(7, 32, "sha256:ab", Map::of).read(7, in(bytes)))
            .getMessage());
    assertEquals(
        "Expected a checkpoint against reference sha256:cd, found one against sha256:ab (the"
            + " reference model changed)",
        assertThrows(
                IOException.class,
                () -> new RunState(7, 16, "sha256:cd", Map::of).read(7, in(bytes)))
            .getMessage());
  }
}
