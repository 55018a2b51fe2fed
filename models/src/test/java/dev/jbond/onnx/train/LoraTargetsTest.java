package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraSpec;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.onnx.lora.LoraTargets;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Where the TensorRT-LLM target modules sit in jbond's decoder and in the exported fixtures. */
class LoraTargetsTest {
  private static Map<String, LoraTarget> byKey(List<LoraTarget> targets) {
    return targets.stream().collect(Collectors.toMap(LoraTarget::key, t -> t));
  }

  @Test
  void llama_projectionsMapAsTensorRtLlmsConverter_gateAndUpCross() throws IOException {
    Map<String, LoraTarget> t = byKey(LoraTargets.all(LoraLearnerTest.base("llama").graph()));
    assertEquals(14, t.size(), t.keySet().toString());
    assertEquals("model.layers.1.self_attn.q_proj", t.get("attn_q.1").path());
    assertEquals(32, t.get("attn_q.0").out());
    assertEquals(16, t.get("attn_k.0").out(), "grouped-query attention: 2 heads of 8");
    assertEquals(16, t.get("attn_v.0").out());
    assertEquals("model.layers.0.self_attn.o_proj", t.get("attn_dense.0").path());
    assertEquals("model.layers.0.mlp.gate_proj", t.get("mlp_h_to_4h.0").path());
    assertEquals("model.layers.0.mlp.up_proj", t.get("mlp_gate.0").path());
    assertEquals("model.layers.0.mlp.down_proj", t.get("mlp_4h_to_h.0").path());
    assertEquals(96, t.get("mlp_4h_to_h.0").in());
    assertEquals(32, t.get("mlp_4h_to_h.0").out());
    assertTrue(t.get("mlp_gate.0").node().contains("up_proj"));
    assertFalse(t.containsKey("attn_qkv.0"));
  }

  @Test
  void gpt2_fusedQueryKeyValue_modulesTakeThirdsOfItsColumns() throws IOException {
    Map<String, LoraTarget> t = byKey(LoraTargets.all(LoraLearnerTest.base("gpt2").graph()));
    assertEquals(14, t.size(), t.keySet().toString());
    LoraTarget k = t.get("attn_k.1");
    assertEquals("transformer.h.1.attn.c_attn", k.path());
    assertEquals(32, k.offset());
    assertEquals(32, k.out());
    assertEquals(96, k.width());
    assertEquals(96, t.get("attn_qkv.1").out());
    assertEquals("transformer.h.0.mlp.c_proj", t.get("mlp_4h_to_h.0").path());
    assertEquals("transformer.h.0.attn.c_proj", t.get("attn_dense.0").path());
  }

  @Test
  void decoder_pathsAreItsWeightNames() throws IOException {
    Map<String, LoraTarget> t = byKey(LoraTargets.all(LoraLearnerTest.base("decoder").graph()));
    assertEquals("h.0.attn.c_attn", t.get("attn_v.0").path());
    assertEquals(24, t.get("attn_v.0").offset());
    assertEquals("h.1.mlp.c_fc", t.get("mlp_h_to_4h.1").path());
  }

  @Test
  void create_moduleTheModelLacks_namesWhatItHas() throws IOException {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LoraPolicy.create(
                    LoraLearnerTest.base("decoder"),
                    new LoraSpec(2, 2, EnumSet.of(LoraModule.ATTN_Q, LoraModule.MLP_GATE), 1)));
    assertEquals(
        "Expected LoRA target modules [attn_q, mlp_gate] in model 'tiny decoder', found none for"
            + " [mlp_gate] (the model has [attn_qkv, attn_q, attn_k, attn_v, attn_dense,"
            + " mlp_h_to_4h, mlp_4h_to_h])",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LoraSpec.of(2, 2, List.of("attn_x"), 1));
  }
}
