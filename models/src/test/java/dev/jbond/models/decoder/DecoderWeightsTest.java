package dev.jbond.models.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Tensor;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecoderWeightsTest {
  private static final DecoderConfig CONFIG = DecoderFixtures.tiny(17, false, Gelu.TANH);

  @Test
  void initialize_sameSeed_sameBytes() {
    assertEquals(DecoderWeights.initialize(CONFIG), DecoderWeights.initialize(CONFIG));
  }

  @Test
  void initialize_otherSeed_otherRandomParameters() {
    DecoderWeights a = DecoderWeights.initialize(CONFIG);
    DecoderWeights b = DecoderWeights.initialize(CONFIG.toBuilder().setSeed(6).build());

    assertNotEquals(a.tensor("wte.weight"), b.tensor("wte.weight"));
    assertNotEquals(a.tensor("h.1.mlp.c_proj.weight"), b.tensor("h.1.mlp.c_proj.weight"));
    assertEquals(a.tensor("h.1.ln_2.weight"), b.tensor("h.1.ln_2.weight"));
  }

  /** Pins the initialisation algorithm: a change to it must be deliberate (and change this). */
  @Test
  void initialize_fixedSeed_matchesGoldenDigest() throws NoSuchAlgorithmException {
    DecoderConfig config = CONFIG.toBuilder().setSeed(2024).build();
    MessageDigest digest = MessageDigest.getInstance("SHA-256");

    for (Tensor tensor : DecoderWeights.initialize(config).tensors().values()) {
      digest.update(tensor.toByteArray());
    }

    assertEquals(
        "a784a53b9c6806bbc9a64d6e609c96b7844d5ed56beacf08747c22c85fb84544",
        HexFormat.of().formatHex(digest.digest()));
  }

  @Test
  void initialize_gpt2Scheme_givesExpectedStatistics() {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(512)
            .setContextLength(64)
            .setLayers(4)
            .setWidth(64)
            .setHeads(4)
            .setSeed(9)
            .optTiedEmbeddings(false)
            .build();
    DecoderWeights weights = DecoderWeights.initialize(config);

    for (String name :
        List.of(
            "wte.weight",
            "wpe.weight",
            "lm_head.weight",
            "h.2.attn.c_attn.weight",
            "h.3.mlp.c_fc.weight")) {
      double[] stats = meanAndStd(weights.tensor(name));
      assertEquals(0, stats[0], 0.003, name + " mean");
      assertEquals(0.02, stats[1], 0.002, name + " std");
    }
    double residual = 0.02 / Math.sqrt(8);
    for (String name : List.of("h.0.attn.c_proj.weight", "h.3.mlp.c_proj.weight")) {
      double[] stats = meanAndStd(weights.tensor(name));
      assertEquals(0, stats[0], 0.002, name + " mean");
      assertEquals(residual, stats[1], 0.1 * residual, name + " std");
    }
    assertEquals(List.of(1.0), distinct(weights.tensor("h.1.ln_1.weight")));
    assertEquals(List.of(1.0), distinct(weights.tensor("ln_f.weight")));
    assertEquals(List.of(0.0), distinct(weights.tensor("ln_f.bias")));
    assertEquals(List.of(0.0), distinct(weights.tensor("h.2.mlp.c_fc.bias")));
  }

  @Test
  void of_anyMapOrder_keepsCanonicalOrder() {
    DecoderWeights weights = DecoderWeights.initialize(CONFIG);
    Map<String, Tensor> shuffled = new HashMap<>(weights.tensors());

    DecoderWeights copy = DecoderWeights.of(CONFIG, shuffled);

    assertEquals(
        List.copyOf(CONFIG.parameterShapes().keySet()), List.copyOf(copy.tensors().keySet()));
    assertEquals(weights, copy);
  }

  @Test
  void of_wrongShape_namesParameterAndBothShapes() {
    Map<String, Tensor> tensors = new LinkedHashMap<>(DecoderWeights.initialize(CONFIG).tensors());
    tensors.put("h.1.attn.c_attn.weight", Tensor.zeros(ElementType.FLOAT, 48, 16));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DecoderWeights.of(CONFIG, tensors));
    assertEquals(
        "Expected shape [16, 48] for parameter 'h.1.attn.c_attn.weight', found [48, 16]",
        e.getMessage());
  }

  @Test
  void of_wrongElementType_namesParameter() {
    Map<String, Tensor> tensors = new LinkedHashMap<>(DecoderWeights.initialize(CONFIG).tensors());
    tensors.put("ln_f.bias", Tensor.zeros(ElementType.DOUBLE, 16));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DecoderWeights.of(CONFIG, tensors));
    assertEquals("Expected FLOAT for parameter 'ln_f.bias', found DOUBLE", e.getMessage());
  }

  @Test
  void of_missingParameter_namesIt() {
    Map<String, Tensor> tensors = new LinkedHashMap<>(DecoderWeights.initialize(CONFIG).tensors());
    tensors.remove("lm_head.weight");
    tensors.remove("wpe.weight");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DecoderWeights.of(CONFIG, tensors));
    assertEquals(
        "Expected every decoder parameter, found [wpe.weight, lm_head.weight] missing",
        e.getMessage());
  }

  @Test
  void of_unexpectedName_namesIt() {
    Map<String, Tensor> tensors = new LinkedHashMap<>(DecoderWeights.initialize(CONFIG).tensors());
    tensors.put("h.0.attn.bias", Tensor.zeros(ElementType.FLOAT, 1));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DecoderWeights.of(CONFIG, tensors));
    assertTrue(e.getMessage().endsWith("found unexpected [h.0.attn.bias]"), e.getMessage());
  }

  @Test
  void fromInitializers_extraEntries_ignored() {
    DecoderWeights weights = DecoderWeights.initialize(CONFIG);
    Map<String, Tensor> available = new LinkedHashMap<>(weights.tensors());
    available.put("h.0.attn.bias", Tensor.zeros(ElementType.FLOAT, 1));
    available.put("adam.m.wte.weight", Tensor.zeros(ElementType.FLOAT, 37, 16));

    assertEquals(weights, DecoderWeights.fromInitializers(CONFIG, available));
  }

  @Test
  void tensor_unknownName_listsTheNames() {
    DecoderWeights weights = DecoderWeights.initialize(CONFIG);

    assertSame(weights.tensors().get("wte.weight"), weights.tensor("wte.weight"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> weights.tensor("transformer.wte.weight"));
    assertTrue(
        e.getMessage().startsWith("Expected a decoder parameter name [wte.weight, "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("found 'transformer.wte.weight'"), e.getMessage());
  }

  @Test
  void toString_showsConfigAndCountsNotData() {
    String text = DecoderWeights.initialize(CONFIG).toString();

    assertTrue(text.startsWith("DecoderWeights[DecoderConfig[vocabSize=37"), text);
    assertTrue(text.endsWith(", 29 tensors, " + CONFIG.parameterCount() + " parameters]"), text);
  }

  private static double[] meanAndStd(Tensor tensor) {
    float[] values = tensor.toFloatArray();
    double sum = 0;
    double squares = 0;
    for (float v : values) {
      sum += v;
      squares += (double) v * v;
    }
    double mean = sum / values.length;
    return new double[] {mean, Math.sqrt(squares / values.length - mean * mean)};
  }

  private static List<Double> distinct(Tensor tensor) {
    List<Double> out = new ArrayList<>();
    for (float v : tensor.toFloatArray()) {
      if (!out.contains((double) v)) {
        out.add((double) v);
      }
    }
    return out;
  }
}
