package dev.jbond.onnx.lora;

import java.util.Arrays;
import java.util.Locale;

/**
 * The TensorRT-LLM LoRA target modules jbond trains, with the module ids the TensorRT-LLM backend
 * reads in the first column of {@code lora_config} ({@code LoraModule::ModuleType}). Hugging Face
 * Llama names map as TensorRT-LLM's converter maps them: {@code q/k/v_proj} to {@link #ATTN_Q},
 * {@link #ATTN_K}, {@link #ATTN_V}, {@code o_proj} to {@link #ATTN_DENSE}, {@code gate_proj} to
 * {@link #MLP_H_TO_4H}, {@code up_proj} to {@link #MLP_GATE} (the names cross) and {@code
 * down_proj} to {@link #MLP_4H_TO_H}.
 */
public enum LoraModule {
  /** The fused query-key-value projection. */
  ATTN_QKV(0),
  /** The query projection, hidden to hidden. */
  ATTN_Q(1),
  /** The key projection, hidden to key-value heads times head size. */
  ATTN_K(2),
  /** The value projection, hidden to key-value heads times head size. */
  ATTN_V(3),
  /** The attention output projection, hidden to hidden. */
  ATTN_DENSE(4),
  /** The MLP's first projection (Llama's {@code gate_proj}), hidden to MLP width. */
  MLP_H_TO_4H(5),
  /** The MLP's output projection, MLP width to hidden. */
  MLP_4H_TO_H(6),
  /** The MLP's gated projection (Llama's {@code up_proj}), hidden to MLP width. */
  MLP_GATE(7);

  private final int id;

  LoraModule(int id) {
    this.id = id;
  }

  /**
   * Returns the module id of {@code lora_config}.
   *
   * @return the id
   */
  public int id() {
    return id;
  }

  /**
   * Returns TensorRT-LLM's name, as in {@code --lora_target_modules}, e.g. {@code attn_q}.
   *
   * @return the name
   */
  public String trtName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Returns the module of a TensorRT-LLM name.
   *
   * @param name e.g. {@code attn_q} or {@code mlp_4h_to_h}
   * @return the module
   * @throws IllegalArgumentException naming the expected names when there is none
   */
  public static LoraModule ofTrtName(String name) {
    for (LoraModule m : values()) {
      if (m.trtName().equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "Expected a LoRA target module of "
            + Arrays.stream(values()).map(LoraModule::trtName).toList()
            + ", found '"
            + name
            + "'");
  }
}
