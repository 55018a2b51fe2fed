package dev.jbond.serving.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.onnx.lora.LoraModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The exported adapters: PEFT's key names, shapes and {@code adapter_config.json} fields (PEFT's
 * {@code checkpoint.md}), and TensorRT-LLM's prefetch arrays equal to the request tensors.
 */
class LoraExportsTest {
  @TempDir Path dir;

  /** A small Llama-like model, 2 layers of q_proj (16 to 16) and v_proj (16 to 8, GQA). */
  private static List<LoraAdapter> adapters(int rankOfLayer1Q) {
    SplittableRandom rng = new SplittableRandom(21);
    return List.of(
        LoraTensorsTest.adapter(LoraModule.ATTN_Q, 0, 4, 16, 16, rng),
        LoraTensorsTest.adapter(LoraModule.ATTN_V, 0, 4, 16, 8, rng),
        LoraTensorsTest.adapter(LoraModule.ATTN_Q, 1, rankOfLayer1Q, 16, 16, rng),
        LoraTensorsTest.adapter(LoraModule.ATTN_V, 1, 4, 16, 8, rng));
  }

  private static final List<String> PATHS =
      List.of(
          "model.layers.0.self_attn.q_proj",
          "model.layers.0.self_attn.v_proj",
          "model.layers.1.self_attn.q_proj",
          "model.layers.1.self_attn.v_proj");

  @Test
  void writePeft_llamaLayers_writesPeftKeysShapesAndValues() throws IOException {
    List<LoraAdapter> adapters = adapters(4);
    Path out = dir.resolve("step-12/adapter");
    LoraExports.writePeft(out, adapters, PATHS, 8, false, "meta-llama/Llama-3.2-1B");

    Path weights = out.resolve("adapter_model.safetensors");
    Map<String, SafeTensors.Tensor> read = SafeTensors.read(weights);
    assertEquals(8, read.size());
    for (int i = 0; i < adapters.size(); i++) {
      LoraAdapter a = adapters.get(i);
      SafeTensors.Tensor loraA = read.get("base_model.model." + PATHS.get(i) + ".lora_A.weight");
      SafeTensors.Tensor loraB = read.get("base_model.model." + PATHS.get(i) + ".lora_B.weight");
      assertArrayEquals(new long[] {a.rank(), a.in()}, loraA.shape());
      assertArrayEquals(a.a(), loraA.values());
      assertArrayEquals(new long[] {a.out(), a.rank()}, loraB.shape());
      assertArrayEquals(a.b(), loraB.values(), "B is written unscaled");
    }
    assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(weights));

    Map<String, Object> config =
        Json.parseObject(Files.readString(out.resolve("adapter_config.json")));
    Map<String, Object> expected = new HashMap<>();
    expected.put("peft_type", "LORA");
    expected.put("task_type", "CAUSAL_LM");
    expected.put("r", 4L);
    expected.put("lora_alpha", 8L);
    expected.put("target_modules", List.of("q_proj", "v_proj"));
    expected.put("rank_pattern", Map.of());
    expected.put("alpha_pattern", Map.of());
    expected.put("lora_dropout", 0.0);
    expected.put("bias", "none");
    expected.put("fan_in_fan_out", false);
    expected.put("base_model_name_or_path", "meta-llama/Llama-3.2-1B");
    expected.put("revision", null);
    expected.put("modules_to_save", null);
    expected.put("inference_mode", true);
    expected.put("init_lora_weights", true);
    expected.put("use_rslora", false);
    expected.put("use_dora", false);
    assertEquals(expected, config);
    assertEquals(
        config.keySet().stream().sorted().toList(),
        List.copyOf(config.keySet()),
        "keys sorted, as PEFT writes them");
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(
          List.of("adapter_config.json", "adapter_model.safetensors"),
          files.map(p -> p.getFileName().toString()).sorted().toList(),
          "no temporary files are left");
    }
  }

  @Test
  void writePeft_mixedRanks_writesTheCommonRankAndARankPattern() throws IOException {
    LoraExports.writePeft(dir, adapters(2), PATHS, 16.5, false, null);

    Map<String, Object> config =
        Json.parseObject(Files.readString(dir.resolve("adapter_config.json")));
    assertEquals(4L, config.get("r"));
    assertEquals(Map.of("model.layers.1.self_attn.q_proj", 2L), config.get("rank_pattern"));
    assertEquals(16.5, config.get("lora_alpha"));
    assertTrue(config.containsKey("base_model_name_or_path"));
    assertEquals(null, config.get("base_model_name_or_path"));
    assertArrayEquals(
        new long[] {2, 16},
        SafeTensors.read(dir.resolve("adapter_model.safetensors"))
            .get("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight")
            .shape());
  }

  @Test
  void writePeft_gpt2Conv1d_setsFanInFanOutAndTargetModules() throws IOException {
    SplittableRandom rng = new SplittableRandom(3);
    List<LoraAdapter> adapters =
        List.of(
            LoraTensorsTest.adapter(LoraModule.ATTN_QKV, 0, 2, 8, 24, rng),
            LoraTensorsTest.adapter(LoraModule.ATTN_DENSE, 0, 2, 8, 8, rng),
            LoraTensorsTest.adapter(LoraModule.MLP_4H_TO_H, 0, 2, 32, 8, rng));
    List<String> paths =
        List.of(
            "transformer.h.0.attn.c_attn",
            "transformer.h.0.attn.c_proj",
            "transformer.h.0.mlp.c_proj");
    LoraExports.writePeft(dir, adapters, paths, 4, true, "gpt2");

    Map<String, Object> config =
        Json.parseObject(Files.readString(dir.resolve("adapter_config.json")));
    assertEquals(true, config.get("fan_in_fan_out"));
    assertEquals(List.of("c_attn", "c_proj"), config.get("target_modules"));
    assertEquals(2L, config.get("r"));
    assertEquals(6, SafeTensors.read(dir.resolve("adapter_model.safetensors")).size());
  }

  @Test
  void writePeft_badArguments_failNamingWhatWasExpected() {
    List<LoraAdapter> adapters = adapters(4);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LoraExports.writePeft(dir, adapters, PATHS.subList(0, 3), 8, false, null));
    assertEquals("Expected 4 module paths, one per adapter, found 3", e.getMessage());
    List<String> twice = List.of(PATHS.get(0), PATHS.get(1), PATHS.get(2), PATHS.get(1));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LoraExports.writePeft(dir, adapters, twice, 8, false, null));
    assertEquals(
        "Expected distinct module paths, found 'model.layers.0.self_attn.v_proj' twice",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LoraExports.writePeft(dir, List.of(), List.of(), 8, false, null));
    assertEquals("Expected at least one LoRA adapter, found none", e.getMessage());
    List<String> prefixed =
        List.of("base_model.model." + PATHS.get(0), PATHS.get(1), PATHS.get(2), PATHS.get(3));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LoraExports.writePeft(dir, adapters, prefixed, 8, false, null));
    assertEquals(
        "Expected a Hugging Face module path such as 'model.layers.0.self_attn.q_proj' (dotted,"
            + " printable ASCII, without the 'base_model.model.' prefix), found"
            + " 'base_model.model.model.layers.0.self_attn.q_proj'",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LoraExports.writePeft(dir, adapters, PATHS, 0, false, null));
    assertEquals("Expected a LoRA alpha > 0, found 0.0", e.getMessage());
    assertTrue(Files.notExists(dir.resolve("adapter_config.json")));
  }

  @ParameterizedTest
  @EnumSource(
      value = LoraTensors.Dtype.class,
      names = {"FP16", "FP32"})
  void writeTrtLlm_writesTheRequestTensorsAsNpy(LoraTensors.Dtype dtype) throws IOException {
    LoraTensors tensors = LoraTensors.of(adapters(2), 8, dtype);
    Path task = LoraExports.trtLlmTaskDirectory(dir.resolve("lora_prefetch"), 17);
    assertEquals(dir.resolve("lora_prefetch").resolve("17"), task);
    LoraExports.writeTrtLlm(task, tensors);

    NpyFiles.NpyArray weights = NpyFiles.read(task.resolve("model.lora_weights.npy"));
    assertEquals(dtype == LoraTensors.Dtype.FP16 ? "<f2" : "<f4", weights.descr());
    assertArrayEquals(tensors.weights().shape(), weights.shape());
    assertEquals(3, weights.shape().length, "the leading batch dimension of 1 is kept");
    assertEquals(1, weights.shape()[0]);
    assertArrayEquals(tensors.weights().raw().toByteArray(), weights.data());

    NpyFiles.NpyArray config = NpyFiles.read(task.resolve("model.lora_config.npy"));
    assertEquals("<i4", config.descr());
    assertArrayEquals(new long[] {1, 4, 3}, config.shape());
    assertArrayEquals(tensors.config().raw().toByteArray(), config.data());
  }

  @Test
  void writeTrtLlm_bf16_isRejectedSayingWhy() {
    LoraTensors tensors = LoraTensors.of(adapters(4), 8, LoraTensors.Dtype.BF16);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LoraExports.writeTrtLlm(dir, tensors));
    assertEquals(
        "Expected LoRA weights in FP16 or FP32 for TensorRT-LLM's prefetch directory, found BF16"
            + " (NumPy has no bfloat16 dtype and TensorRT-LLM's loadNpy reads only"
            + " ?, u1, i1, i4, i8, f2 and f4; send BF16 adapters with the request instead)",
        e.getMessage());
    assertTrue(Files.notExists(dir.resolve("model.lora_weights.npy")));
  }

  @Test
  void trtLlmTaskDirectory_idBeyondStoi_fails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LoraExports.trtLlmTaskDirectory(dir, 1L << 31));
    assertEquals(
        "Expected a prefetch task id in [0, 2147483647] (TensorRT-LLM parses it with std::stoi),"
            + " found 2147483648",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> LoraExports.trtLlmTaskDirectory(dir, -1));
    assertTrue(e.getMessage().endsWith("found 18446744073709551615"), e.getMessage());
  }
}
