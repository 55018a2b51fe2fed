package dev.jbond.serving.lora;

import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes trained LoRA adapters to disk in the two layouts other tools load.
 *
 * <h2>Hugging Face PEFT ({@link #writePeft})</h2>
 *
 * <p>What {@code PeftModel.save_pretrained} writes for a LoRA adapter named {@code "default"}
 * (PEFT's {@code docs/source/developer_guides/checkpoint.md}, {@code src/peft/peft_model.py}):
 *
 * <ul>
 *   <li>{@value #PEFT_WEIGHTS}: for each adapted module at Hugging Face path {@code p} (for example
 *       {@code model.layers.0.self_attn.q_proj} or {@code transformer.h.0.attn.c_attn}), {@code
 *       base_model.model.<p>.lora_A.weight} = A, shape {@code [r, in]}, and {@code
 *       base_model.model.<p>.lora_B.weight} = B, shape {@code [out, r]}, both float32 and B without
 *       the {@code alpha / r} scale. The {@code base_model.model.} prefix comes from PEFT's two
 *       wrappers; the adapter name is stripped from the keys on save. The header metadata is {@code
 *       {"format": "pt"}}, as PEFT writes it.
 *   <li>{@value #PEFT_CONFIG}: the {@code LoraConfig} fields, keys sorted as PEFT sorts them:
 *       {@code peft_type "LORA"}, {@code task_type "CAUSAL_LM"}, {@code r}, {@code lora_alpha},
 *       {@code target_modules} (the sorted distinct last path segments), {@code rank_pattern},
 *       {@code alpha_pattern {}}, {@code lora_dropout 0.0}, {@code bias "none"}, {@code
 *       fan_in_fan_out}, {@code base_model_name_or_path}, {@code revision null}, {@code
 *       modules_to_save null}, {@code inference_mode true}, {@code init_lora_weights true}, {@code
 *       use_rslora false} and {@code use_dora false}. PEFT requires only {@code peft_type} and
 *       {@code target_modules}; the others are written because loaders read them (TensorRT-LLM's
 *       {@code hf_lora_convert.py} reads {@code r}, {@code lora_alpha} and {@code use_rslora}).
 * </ul>
 *
 * <p>When the ranks differ, {@code r} is the most common rank (the smallest among equally common
 * ones) and {@code rank_pattern} maps the full module path of every other adapter to its rank. PEFT
 * matches a {@code rank_pattern} key {@code k} against a module path with {@code
 * re.match(rf"(.*\.)?({k})$", path)} and, in older releases, falls back to an exact dictionary
 * lookup, so a full path selects exactly that module in both. PEFT scales every module by {@code
 * lora_alpha / its own r}, as {@link LoraTensors} does. Note that TensorRT-LLM's {@code
 * hf_lora_convert.py} ignores {@code rank_pattern} and scales every module by {@code lora_alpha /
 * r}; convert mixed-rank adapters with {@link #writeTrtLlm} instead.
 *
 * <h2>TensorRT-LLM ({@link #writeTrtLlm})</h2>
 *
 * <p>The two arrays of the request inputs {@link LoraTensors#WEIGHTS} and {@link
 * LoraTensors#CONFIG}, as {@value #TRT_WEIGHTS} and {@value #TRT_CONFIG} ({@code .npy} 1.0, see
 * {@link NpyFiles}), the layout of TensorRT-LLM's {@code examples/hf_lora_convert.py}: it saves the
 * weights as {@code [1, rows, width]} and the config as INT32 {@code [1, rows, 3]}, keeping the
 * leading batch dimension ({@code unsqueeze(0)}), with B already multiplied by {@code alpha / r}.
 * {@code LoraCache::put} ({@code cpp/tensorrt_llm/runtime/loraCache.cpp}) accepts both 2-D and such
 * 3-D arrays.
 *
 * <p>TensorRT-LLM reads these files from its LoRA prefetch directory (the Triton model parameter
 * {@code lora_prefetch_dir}, {@code PeftCacheConfig.lora_prefetch_dir}): {@code
 * PeftCacheManager::prefetchLoraWeights} ({@code
 * cpp/tensorrt_llm/batch_manager/peftCacheManager.cpp}) visits every sub-directory whose name is
 * all digits, loads its two files with {@code loadNpy}, and stores them in the host LoRA cache
 * under the task id {@code std::stoi(name)}. So each adapter goes to {@code <prefetch dir>/<numeric
 * task id>/} (see {@link #trtLlmTaskDirectory}), with a task id of at most {@code 2^31 - 1}. The
 * directory is read once, when the executor starts. The weights' dtype must be the engine's LoRA
 * dtype, FP16 or FP32: a BF16 engine cannot be prefetched from {@code .npy} files (see {@link
 * NpyFiles}); send BF16 adapters with the request instead ({@link LoraTensors}).
 */
public final class LoraExports {
  /** PEFT's weights file name. */
  public static final String PEFT_WEIGHTS = "adapter_model.safetensors";

  /** PEFT's config file name. */
  public static final String PEFT_CONFIG = "adapter_config.json";

  /** TensorRT-LLM's weights file name in a prefetch task directory. */
  public static final String TRT_WEIGHTS = "model.lora_weights.npy";

  /** TensorRT-LLM's config file name in a prefetch task directory. */
  public static final String TRT_CONFIG = "model.lora_config.npy";

  /** The prefix PEFT's wrappers add to every module path in the saved keys. */
  public static final String PEFT_KEY_PREFIX = "base_model.model.";

  private LoraExports() {}

  /**
   * Writes adapters as a Hugging Face PEFT LoRA checkpoint: {@value #PEFT_WEIGHTS}, then {@value
   * #PEFT_CONFIG}, each atomically (see the class description for their content).
   *
   * @param directory the checkpoint directory; created with its parents when missing
   * @param adapters the adapters, not empty; B unscaled, as {@link LoraAdapter} holds it
   * @param modulePaths the Hugging Face module path of each adapter, in the same order: non-empty,
   *     distinct, dot-separated, for example {@code model.layers.0.self_attn.q_proj}
   * @param alpha LoRA's alpha, finite and {@code > 0}; written as an integer when it is one
   * @param fanInFanOut PEFT's {@code fan_in_fan_out}: true when the base layers store their weight
   *     as {@code [in, out]}, as GPT-2's {@code Conv1D} does; the adapter shapes do not change
   * @param baseModel the base model's Hugging Face id or path, or {@code null} when unknown
   * @throws IllegalArgumentException when the lists are empty or differ in size, a path is empty,
   *     malformed or repeated, or alpha is not finite and positive
   * @throws IOException when the directory or a file cannot be written
   */
  public static void writePeft(
      Path directory,
      List<LoraAdapter> adapters,
      List<String> modulePaths,
      double alpha,
      boolean fanInFanOut,
      String baseModel)
      throws IOException {
    Objects.requireNonNull(directory, "directory");
    Checks.checkArgument(!adapters.isEmpty(), "Expected at least one LoRA adapter, found none");
    Checks.checkArgument(
        adapters.size() == modulePaths.size(),
        "Expected %d module paths, one per adapter, found %d",
        adapters.size(),
        modulePaths.size());
    Checks.checkArgument(
        alpha > 0 && Double.isFinite(alpha), "Expected a LoRA alpha > 0, found %s", alpha);
    Set<String> seen = new HashSet<>();
    for (String path : modulePaths) {
      checkModulePath(path);
      Checks.checkArgument(
          seen.add(path), "Expected distinct module paths, found '%s' twice", path);
    }

    Map<String, float[]> tensors = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    Map<Integer, Integer> rankCounts = new TreeMap<>();
    Set<String> targetModules = new TreeSet<>();
    for (int i = 0; i < adapters.size(); i++) {
      LoraAdapter a = adapters.get(i);
      String path = modulePaths.get(i);
      tensors.put(PEFT_KEY_PREFIX + path + ".lora_A.weight", a.a());
      shapes.put(PEFT_KEY_PREFIX + path + ".lora_A.weight", new long[] {a.rank(), a.in()});
      tensors.put(PEFT_KEY_PREFIX + path + ".lora_B.weight", a.b());
      shapes.put(PEFT_KEY_PREFIX + path + ".lora_B.weight", new long[] {a.out(), a.rank()});
      rankCounts.merge(a.rank(), 1, Integer::sum);
      targetModules.add(path.substring(path.lastIndexOf('.') + 1));
    }
    int r = 0;
    int best = 0;
    for (Map.Entry<Integer, Integer> e : rankCounts.entrySet()) {
      if (e.getValue() > best) {
        r = e.getKey();
        best = e.getValue();
      }
    }
    Map<String, Object> rankPattern = new LinkedHashMap<>();
    for (int i = 0; i < adapters.size(); i++) {
      if (adapters.get(i).rank() != r) {
        rankPattern.put(modulePaths.get(i), adapters.get(i).rank());
      }
    }

    Map<String, Object> config = new TreeMap<>();
    config.put("alpha_pattern", Map.of());
    config.put("base_model_name_or_path", baseModel);
    config.put("bias", "none");
    config.put("fan_in_fan_out", fanInFanOut);
    config.put("inference_mode", true);
    config.put("init_lora_weights", true);
    config.put(
        "lora_alpha", alpha == Math.rint(alpha) && alpha < 1e15 ? (Object) (long) alpha : alpha);
    config.put("lora_dropout", 0.0);
    config.put("modules_to_save", null);
    config.put("peft_type", "LORA");
    config.put("r", r);
    config.put("rank_pattern", rankPattern);
    config.put("revision", null);
    config.put("target_modules", new ArrayList<>(targetModules));
    config.put("task_type", "CAUSAL_LM");
    config.put("use_dora", false);
    config.put("use_rslora", false);
    byte[] json = (Json.write(config) + "\n").getBytes(StandardCharsets.UTF_8);

    Files.createDirectories(directory);
    SafeTensors.write(directory.resolve(PEFT_WEIGHTS), tensors, shapes, Map.of("format", "pt"));
    SafeTensors.writeAtomically(
        directory.resolve(PEFT_CONFIG),
        channel -> SafeTensors.writeFully(channel, ByteBuffer.wrap(json)));
  }

  /**
   * Writes LoRA tensors as one task of TensorRT-LLM's prefetch directory: {@value #TRT_WEIGHTS}
   * ({@code [1, rows, width]}, {@code <f2} or {@code <f4}), then {@value #TRT_CONFIG} (INT32 {@code
   * [1, rows, 3]}, {@code <i4}), each atomically, byte for byte the data of {@link
   * LoraTensors#weights()} and {@link LoraTensors#config()}.
   *
   * @param directory the task directory, {@code <prefetch dir>/<numeric task id>/} (see {@link
   *     #trtLlmTaskDirectory}); created with its parents when missing
   * @param tensors the adapters' tensors, in the engine's dtype
   * @throws IllegalArgumentException when the weights are BF16, which {@code .npy} cannot hold
   * @throws IOException when the directory or a file cannot be written
   */
  public static void writeTrtLlm(Path directory, LoraTensors tensors) throws IOException {
    Objects.requireNonNull(directory, "directory");
    TritonTensor weights = tensors.weights();
    Checks.checkArgument(
        weights.datatype() == TritonDatatype.FP16 || weights.datatype() == TritonDatatype.FP32,
        "Expected LoRA weights in FP16 or FP32 for TensorRT-LLM's prefetch directory, found %s"
            + " (NumPy has no bfloat16 dtype and TensorRT-LLM's loadNpy reads only"
            + " ?, u1, i1, i4, i8, f2 and f4; send BF16 adapters with the request instead)",
        weights.datatype());
    Files.createDirectories(directory);
    NpyFiles.write(directory.resolve(TRT_WEIGHTS), weights);
    NpyFiles.write(directory.resolve(TRT_CONFIG), tensors.config());
  }

  /**
   * Returns the directory of one task inside TensorRT-LLM's LoRA prefetch directory: {@code
   * prefetchDirectory/<taskId>}. TensorRT-LLM takes only all-digit directory names and parses them
   * with {@code std::stoi}, so the id must fit a signed 32-bit integer.
   *
   * @param prefetchDirectory the directory named by {@code lora_prefetch_dir}
   * @param taskId the task id the requests will carry as {@code lora_task_id}, in {@code [0, 2^31 -
   *     1]}
   * @return the task directory
   * @throws IllegalArgumentException when the id is outside that range
   */
  public static Path trtLlmTaskDirectory(Path prefetchDirectory, long taskId) {
    Objects.requireNonNull(prefetchDirectory, "prefetchDirectory");
    Checks.checkArgument(
        taskId >= 0 && taskId <= Integer.MAX_VALUE,
        "Expected a prefetch task id in [0, %d] (TensorRT-LLM parses it with std::stoi), found %s",
        Integer.MAX_VALUE,
        Long.toUnsignedString(taskId));
    return prefetchDirectory.resolve(Long.toString(taskId));
  }

  private static void checkModulePath(String path) {
    Objects.requireNonNull(path, "module path");
    boolean ok = !path.isEmpty() && !path.startsWith(".") && !path.endsWith(".");
    ok = ok && !path.contains("..") && !path.startsWith(PEFT_KEY_PREFIX);
    for (int i = 0; ok && i < path.length(); i++) {
      char c = path.charAt(i);
      ok = c > 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
    Checks.checkArgument(
        ok,
        "Expected a Hugging Face module path such as 'model.layers.0.self_attn.q_proj' (dotted,"
            + " printable ASCII, without the '%s' prefix), found '%s'",
        PEFT_KEY_PREFIX,
        path);
  }
}
