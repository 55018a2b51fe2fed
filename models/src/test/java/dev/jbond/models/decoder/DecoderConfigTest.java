package dev.jbond.models.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecoderConfigTest {
  private static DecoderConfig.Builder sizes() {
    return DecoderConfig.builder()
        .setVocabSize(37)
        .setContextLength(16)
        .setLayers(2)
        .setWidth(16)
        .setHeads(4)
        .setSeed(3);
  }

  @Test
  void build_onlyRequiredSettings_usesGpt2Defaults() {
    DecoderConfig config = sizes().build();

    assertEquals(4, config.mlpMultiplier());
    assertTrue(config.tiedEmbeddings());
    assertEquals(Gelu.TANH, config.gelu());
    assertEquals(1e-5, config.layerNormEpsilon());
    assertEquals(17, config.opset());
    assertEquals(0.02, config.initStd());
    assertEquals(3, config.seed());
    assertEquals(4, config.headWidth());
    assertEquals(64, config.mlpWidth());
    assertEquals(0.01, config.residualInitStd(), 1e-15);
  }

  @Test
  void toBuilder_everySetting_roundTrips() {
    DecoderConfig config =
        sizes()
            .optMlpMultiplier(2)
            .optTiedEmbeddings(false)
            .optGelu(Gelu.EXACT)
            .optLayerNormEpsilon(1e-6)
            .optOpset(14)
            .optInitStd(0.1)
            .build();

    assertEquals(config, config.toBuilder().build());
  }

  @Test
  void toString_printsEveryHyperparameter() {
    String text = sizes().build().toString();

    for (String part :
        List.of(
            "vocabSize=37",
            "contextLength=16",
            "layers=2",
            "width=16",
            "heads=4",
            "mlpMultiplier=4",
            "tiedEmbeddings=true",
            "gelu=TANH",
            "layerNormEpsilon=1.0E-5",
            "opset=17",
            "initStd=0.02",
            "seed=3")) {
      assertTrue(text.contains(part), text + " lacks " + part);
    }
  }

  @Test
  void build_widthNotDivisibleByHeads_namesBoth() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> sizes().setWidth(30).build());
    assertEquals("Expected width divisible by heads, found width 30 and heads 4", e.getMessage());
  }

  @Test
  void build_opsetOutsideSupportedRange_namesRange() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> sizes().optOpset(13).build());
    assertEquals("Expected an opset from 14 to 17, found 13", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> sizes().optOpset(18).build());
  }

  @Test
  void build_nonPositiveSizes_namesTheSetting() {
    assertEquals(
        "Expected vocabSize >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> sizes().setVocabSize(0).build())
            .getMessage());
    assertEquals(
        "Expected contextLength >= 1, found -1",
        assertThrows(IllegalArgumentException.class, () -> sizes().setContextLength(-1).build())
            .getMessage());
    assertEquals(
        "Expected layers >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> sizes().setLayers(0).build())
            .getMessage());
    assertEquals(
        "Expected heads >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> sizes().setHeads(0).build())
            .getMessage());
    assertEquals(
        "Expected mlpMultiplier >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> sizes().optMlpMultiplier(0).build())
            .getMessage());
  }

  @Test
  void build_badEpsilonOrStd_rejected() {
    assertEquals(
        "Expected a finite layerNormEpsilon > 0, found 0.0",
        assertThrows(IllegalArgumentException.class, () -> sizes().optLayerNormEpsilon(0).build())
            .getMessage());
    assertEquals(
        "Expected a finite initStd > 0, found NaN",
        assertThrows(IllegalArgumentException.class, () -> sizes().optInitStd(Double.NaN).build())
            .getMessage());
  }

  @Test
  void build_parameterOver2GiB_rejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> sizes().setVocabSize(1 << 24).setWidth(64).setHeads(1).build());
    assertEquals(
        "Expected every parameter under 2 GiB, found one of 1073741824 floats", e.getMessage());
  }

  @Test
  void build_missingRequiredSetting_namesTheSetter() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                DecoderConfig.builder()
                    .setVocabSize(37)
                    .setContextLength(16)
                    .setLayers(2)
                    .setHeads(4)
                    .setSeed(1)
                    .build());
    assertEquals("Expected a value for width (setWidth(...)), found none", e.getMessage());
    assertEquals(
        "Expected a value for seed (setSeed(...)), found none",
        assertThrows(
                IllegalStateException.class,
                () ->
                    DecoderConfig.builder()
                        .setVocabSize(37)
                        .setContextLength(16)
                        .setLayers(2)
                        .setWidth(16)
                        .setHeads(4)
                        .build())
            .getMessage());
  }

  @Test
  void parameterShapes_tied_gpt2NamesInCanonicalOrder() {
    Map<String, Shape> shapes = sizes().setLayers(1).build().parameterShapes();

    assertEquals(
        List.of(
            "wte.weight",
            "wpe.weight",
            "h.0.ln_1.weight",
            "h.0.ln_1.bias",
            "h.0.attn.c_attn.weight",
            "h.0.attn.c_attn.bias",
            "h.0.attn.c_proj.weight",
            "h.0.attn.c_proj.bias",
            "h.0.ln_2.weight",
            "h.0.ln_2.bias",
            "h.0.mlp.c_fc.weight",
            "h.0.mlp.c_fc.bias",
            "h.0.mlp.c_proj.weight",
            "h.0.mlp.c_proj.bias",
            "ln_f.weight",
            "ln_f.bias"),
        List.copyOf(shapes.keySet()));
    assertEquals(Shape.of(37, 16), shapes.get("wte.weight"));
    assertEquals(Shape.of(16, 16), shapes.get("wpe.weight"));
    assertEquals(Shape.of(16, 48), shapes.get("h.0.attn.c_attn.weight"));
    assertEquals(Shape.of(16, 64), shapes.get("h.0.mlp.c_fc.weight"));
    assertEquals(Shape.of(64, 16), shapes.get("h.0.mlp.c_proj.weight"));
    assertFalse(shapes.containsKey("lm_head.weight"));
  }

  @Test
  void parameterShapes_untied_addsLmHeadLast() {
    Map<String, Shape> shapes = sizes().optTiedEmbeddings(false).build().parameterShapes();

    assertEquals("lm_head.weight", List.copyOf(shapes.keySet()).get(shapes.size() - 1));
    assertEquals(Shape.of(37, 16), shapes.get("lm_head.weight"));
  }

  @Test
  void parameterCount_gpt2Small_is124M() {
    DecoderConfig gpt2 =
        DecoderConfig.builder()
            .setVocabSize(50257)
            .setContextLength(1024)
            .setLayers(12)
            .setWidth(768)
            .setHeads(12)
            .setSeed(0)
            .build();

    assertEquals(124_439_808L, gpt2.parameterCount());
  }
}
