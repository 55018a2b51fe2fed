package dev.jbond.orchestrator.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.ort.SessionConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrtSpinningTest {
  @Test
  void spin_unrequested_onlyWithFourCoresToSpare() {
    assertFalse(OrtSpinning.spin(null, 2, 2));
    assertFalse(OrtSpinning.spin(null, 2, 5));
    assertTrue(OrtSpinning.spin(null, 2, 6));
    assertTrue(OrtSpinning.spin(null, 2, 16));
    // ONNX Runtime's own choice takes a thread per core
    assertFalse(OrtSpinning.spin(null, 0, 16));
  }

  @Test
  void spin_requested_wins() {
    assertTrue(OrtSpinning.spin(Boolean.TRUE, 2, 2));
    assertFalse(OrtSpinning.spin(Boolean.FALSE, 2, 16));
  }

  @Test
  void apply_setsOrtsOptionOnlyWhenNotSpinning() {
    SessionConfig off = OrtSpinning.apply(SessionConfig.builder(), false).build();
    SessionConfig on = OrtSpinning.apply(SessionConfig.builder(), true).build();

    assertEquals(Map.of("session.intra_op.allow_spinning", "0"), off.configEntries());
    assertEquals(Map.of(), on.configEntries());
  }
}
