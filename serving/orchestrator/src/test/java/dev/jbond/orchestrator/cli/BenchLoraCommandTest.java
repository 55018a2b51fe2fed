package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LoRA benchmark's learner measurement, as its child JVM runs it (here in this JVM). */
class BenchLoraCommandTest {
  @Test
  void child_trainsTheVariant_andPrintsItsFigures(@TempDir Path dir) throws Exception {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(17)
            .setContextLength(16)
            .setLayers(2)
            .setWidth(16)
            .setHeads(2)
            .setSeed(3)
            .build();
    ModelDirectory.write(
        dir, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
    long full = ((Number) run(dir, "full").get("trainedParameters")).longValue();
    Map<String, Object> lora = run(dir, "lora");
    long adapters = ((Number) lora.get("trainedParameters")).longValue();

    // rank 2 on attn_qkv (16 -> 48), attn_dense, mlp_h_to_4h (16 -> 64), mlp_4h_to_h, 2 layers
    assertEquals(2 * 2 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16)), adapters);
    assertEquals(
        config.parameterShapes().values().stream().mapToLong(s -> s.elementCount()).sum(), full);
    assertEquals(3, ((List<?>) lora.get("stepMs")).size());
    assertTrue(((Number) lora.get("peakRssMib")).doubleValue() > 0);
  }

  private static Map<String, Object> run(Path dir, String variant) throws Exception {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      BenchLoraCommand.Child.main(new String[] {dir.toString(), variant, "2", "4", "6", "3", "1"});
    } finally {
      System.setOut(saved);
    }
    return Json.parseObject(out.toString(StandardCharsets.UTF_8).strip());
  }
}
