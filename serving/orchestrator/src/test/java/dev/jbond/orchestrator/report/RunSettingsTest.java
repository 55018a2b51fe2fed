package dev.jbond.orchestrator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The settings a report reads from config.yaml, and the run labels made from them. */
class RunSettingsTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "name: jbond\\neta: 0.02                  | J-BOND (eta 0.02)",
        "name: bond\\nn: 4                        | BOND (N 4)",
        "name: iterative-bond\\nn: 2              | Iterative BOND (n 2)",
        "name: reinforce\\nkl-coefficient: 0.1    | REINFORCE (c 0.1)",
        "name: reinforce\\nkl-coefficient: 1.0e-3 | REINFORCE (c 0.001)",
        "name: jbond                              | J-BOND",
        "name: something-new                      | something-new",
        "eta: 0.02                                | run-dir"
      })
  void label_eachObjective_namesItsDistinguishingHyperparameter(String objective, String label) {
    String yaml = "objective:\n  " + objective.strip().replace("\\n", "\n  ") + "\n";

    assertEquals(label, RunSettings.parse(yaml).label("run-dir"));
  }

  @Test
  void parse_resolvedConfig_readsTheReportedKeys() {
    RunSettings s =
        RunSettings.parse(
            """
            objective:
              name: JBOND
              beta: 0.5
              eta: 0.02
              n: 4
              kl-coefficient: 0.1
            run:
              steps: 1000
              seed: 42
              staleness: 1
            """);

    assertEquals(
        new RunSettings(
            Optional.of("jbond"),
            OptionalDouble.of(0.02),
            OptionalDouble.of(0.5),
            OptionalDouble.of(0.1),
            OptionalLong.of(4),
            OptionalLong.of(1000),
            OptionalLong.of(42),
            OptionalLong.of(1)),
        s);
  }

  @Test
  void parse_notAMapping_throwsOneLineMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunSettings.parse("- a\n- b\n"));
    assertEquals("Expected a YAML mapping, found a list", e.getMessage());
  }

  @Test
  void parse_emptyDocument_throwsOneLineMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunSettings.parse(""));
    assertEquals("Expected a YAML mapping, found an empty document", e.getMessage());
  }
}
