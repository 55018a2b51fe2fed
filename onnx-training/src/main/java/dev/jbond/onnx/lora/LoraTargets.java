package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the {@link LoraTarget}s of a graph: the {@code MatMul} and {@code Gemm} nodes with a FLOAT
 * matrix weight whose node name or weight name holds a known module path. Two families are known:
 *
 * <ul>
 *   <li>Llama-style ({@code layers.<i>.self_attn.{q,k,v,o}_proj}, {@code
 *       layers.<i>.mlp.{gate,up,down}_proj}, as in Hugging Face exports, whose node names carry the
 *       path even where constant folding renamed the weights): {@code q/k/v_proj} are {@code
 *       attn_q/k/v}, {@code o_proj} is {@code attn_dense}, {@code gate_proj} is {@code
 *       mlp_h_to_4h}, {@code up_proj} is {@code mlp_gate} and {@code down_proj} is {@code
 *       mlp_4h_to_h}, as TensorRT-LLM's converter maps them (the gate and up names cross);
 *   <li>GPT-2-style ({@code h.<i>.attn.c_attn}, {@code h.<i>.attn.c_proj}, {@code h.<i>.mlp.c_fc},
 *       {@code h.<i>.mlp.c_proj}; jbond's own decoder and Hugging Face GPT-2 exports): {@code
 *       c_attn} is the fused {@code attn_qkv}, and {@code attn_q}, {@code attn_k}, {@code attn_v}
 *       adapt its first, second and third block of columns; {@code attn.c_proj} is {@code
 *       attn_dense}, {@code c_fc} is {@code mlp_h_to_4h} and {@code mlp.c_proj} is {@code
 *       mlp_4h_to_h}; there is no {@code mlp_gate}.
 * </ul>
 */
public final class LoraTargets {
  private static final Pattern LLAMA =
      Pattern.compile(
          "(?:^|\\.)(layers\\.(\\d+)\\.(?:self_attn|mlp)\\.(q|k|v|o|gate|up|down)_proj)(?:\\.|$)");
  private static final Pattern GPT =
      Pattern.compile(
          "(?:^|\\.)(h\\.(\\d+)\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj))(?:\\.|$)");

  /** Llama projections by name: the gate and up names cross, as in TensorRT-LLM's converter. */
  private static final Map<String, LoraModule> LLAMA_MODULES =
      Map.of(
          "q", LoraModule.ATTN_Q,
          "k", LoraModule.ATTN_K,
          "v", LoraModule.ATTN_V,
          "o", LoraModule.ATTN_DENSE,
          "gate", LoraModule.MLP_H_TO_4H,
          "up", LoraModule.MLP_GATE,
          "down", LoraModule.MLP_4H_TO_H);

  /** GPT-2 projections by path; {@code attn.c_attn} is the fused query-key-value one. */
  private static final Map<String, LoraModule> GPT_MODULES =
      Map.of(
          "attn.c_attn", LoraModule.ATTN_QKV,
          "attn.c_proj", LoraModule.ATTN_DENSE,
          "mlp.c_fc", LoraModule.MLP_H_TO_4H,
          "mlp.c_proj", LoraModule.MLP_4H_TO_H);

  private LoraTargets() {}

  /**
   * Returns every target the graph offers, ordered by layer, then module id.
   *
   * @param graph the graph
   * @return the targets; empty when no node is known
   */
  public static List<LoraTarget> all(Graph graph) {
    Objects.requireNonNull(graph, "graph");
    List<LoraTarget> found = new ArrayList<>();
    for (Node node : graph.nodes()) {
      if (!node.opType().equals("MatMul") && !node.opType().equals("Gemm")) {
        continue;
      }
      if (node.inputCount() < 2 || !node.hasInput(1)) {
        continue;
      }
      Value w = node.input(1);
      Optional<Tensor> weight = w.isInitializer() ? graph.initializer(w.name()) : Optional.empty();
      if (weight.isEmpty()
          || weight.get().elementType() != ElementType.FLOAT
          || weight.get().rank() != 2) {
        continue;
      }
      if (node.opType().equals("Gemm") && node.intAttribute("transA", 0) != 0) {
        continue;
      }
      boolean transposed = node.opType().equals("Gemm") && node.intAttribute("transB", 0) != 0;
      long[] shape = weight.get().shape();
      int in = (int) (transposed ? shape[1] : shape[0]);
      int width = (int) (transposed ? shape[0] : shape[1]);
      String nodePath = node.name().replace('/', '.');
      for (String text : List.of(w.name(), nodePath)) {
        List<LoraTarget> matched = match(text, node.name(), w.name(), transposed, in, width);
        if (!matched.isEmpty()) {
          found.addAll(matched);
          break;
        }
      }
    }
    found.sort(Comparator.comparingInt(LoraTarget::layer).thenComparingInt(t -> t.module().id()));
    Set<String> keys = new HashSet<>();
    for (LoraTarget t : found) {
      Checks.checkArgument(
          keys.add(t.key()),
          "Expected one node per LoRA target, found two for %s in layer %d (weight '%s')",
          t.module().trtName(),
          t.layer(),
          t.weight());
    }
    return List.copyOf(found);
  }

  /**
   * Returns the targets of {@code modules} in the graph, ordered by layer, then module id.
   *
   * @param graph the graph
   * @param modules the modules to adapt
   * @param modelName the model's name, for messages
   * @return the targets
   * @throws IllegalArgumentException naming what the model offers when a module has no node
   */
  public static List<LoraTarget> find(Graph graph, Set<LoraModule> modules, String modelName) {
    List<LoraTarget> all = all(graph);
    Set<LoraModule> offered = EnumSet.noneOf(LoraModule.class);
    all.forEach(t -> offered.add(t.module()));
    Set<LoraModule> missing = EnumSet.copyOf(modules);
    missing.removeAll(offered);
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected LoRA target modules "
              + names(modules)
              + " in model '"
              + modelName
              + "', found none for "
              + names(missing)
              + " (the model has "
              + (offered.isEmpty() ? "no known projections" : names(offered))
              + ")");
    }
    return all.stream().filter(t -> modules.contains(t.module())).toList();
  }

  private static List<String> names(Set<LoraModule> modules) {
    return EnumSet.copyOf(modules).stream().map(LoraModule::trtName).toList();
  }

  private static List<LoraTarget> match(
      String text, String node, String weight, boolean transposed, int in, int width) {
    String prefix = weight.endsWith(".weight") ? weight.substring(0, weight.length() - 7) : null;
    Matcher m = LLAMA.matcher(text);
    if (m.find()) {
      String path = pathOf(prefix, m.group(1), "model.");
      LoraModule module = LLAMA_MODULES.get(m.group(3));
      return List.of(target(module, m.group(2), node, weight, transposed, in, width, 0, path));
    }
    m = GPT.matcher(text);
    if (!m.find()) {
      return List.of();
    }
    String path = pathOf(prefix, m.group(1), "transformer.");
    LoraModule module = GPT_MODULES.get(m.group(3));
    if (module != LoraModule.ATTN_QKV) {
      return List.of(target(module, m.group(2), node, weight, transposed, in, width, 0, path));
    }
    Checks.checkArgument(
        width % 3 == 0,
        "Expected the fused query-key-value weight '%s' to have a width divisible by 3, found %d",
        weight,
        width);
    int third = width / 3;
    int layer = Integer.parseInt(m.group(2));
    List<LoraTarget> out = new ArrayList<>();
    out.add(
        new LoraTarget(
            LoraModule.ATTN_QKV, layer, node, weight, transposed, in, width, 0, width, path));
    LoraModule[] parts = {LoraModule.ATTN_Q, LoraModule.ATTN_K, LoraModule.ATTN_V};
    for (int i = 0; i < 3; i++) {
      out.add(
          new LoraTarget(
              parts[i], layer, node, weight, transposed, in, third, i * third, width, path));
    }
    return out;
  }

  /**
   * The Hugging Face module path: the weight's name without {@code .weight} where it holds the
   * path, else the matched path under the family's usual prefix.
   */
  private static String pathOf(String weightPrefix, String matched, String familyPrefix) {
    if (weightPrefix != null && weightPrefix.endsWith(matched)) {
      return weightPrefix;
    }
    return familyPrefix + matched;
  }

  private static LoraTarget target(
      LoraModule module,
      String layer,
      String node,
      String weight,
      boolean transposed,
      int in,
      int width,
      int offset,
      String path) {
    return new LoraTarget(
        module, Integer.parseInt(layer), node, weight, transposed, in, width, offset, width, path);
  }
}
