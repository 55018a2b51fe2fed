package dev.jbond.serving;

import dev.jbond.serving.triton.TritonDatatype;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The tensor names and datatypes of a token-in, token-out generation model, by default those of
 * TensorRT-LLM's {@code tensorrt_llm} model (see {@link #trtLlm()}); a deployment that renamed a
 * tensor (for example the {@code random_seed} of TensorRT-LLM backends before May 2025) or serves
 * token ids as INT64 changes them with {@link #withName} and {@link #withTokenDatatype}.
 *
 * @param names the name of every {@link Slot}; copied, each non-empty
 * @param tokenDatatype the datatype of token ids, lengths and counts: INT32 (TensorRT-LLM) or INT64
 * @param seedDatatype the datatype of the seed: UINT64 (TensorRT-LLM) or INT64
 */
public record TensorProfile(
    Map<TensorProfile.Slot, String> names,
    TritonDatatype tokenDatatype,
    TritonDatatype seedDatatype) {

  /** The tensors of the profile, with TensorRT-LLM's names as defaults. */
  public enum Slot {
    /** Input: prompt token ids {@code [B, L]}. */
    INPUT_IDS("input_ids"),
    /** Input: the real length of each prompt row {@code [B, 1]}. */
    INPUT_LENGTHS("input_lengths"),
    /** Input: the most new tokens {@code [B, 1]}. */
    REQUEST_OUTPUT_LEN("request_output_len"),
    /** Input (optional): the end-of-sequence id {@code [B, 1]}; absent: -1, no EOS. */
    END_ID("end_id"),
    /** Input (optional): the padding id {@code [B, 1]}. */
    PAD_ID("pad_id"),
    /** Input (optional, FP32): the sampling temperature {@code [B, 1]}. */
    TEMPERATURE("temperature"),
    /** Input (optional): top-k {@code [B, 1]}; 0 turns it off. */
    RUNTIME_TOP_K("runtime_top_k"),
    /** Input (optional, FP32): top-p {@code [B, 1]}; 1 turns it off. */
    RUNTIME_TOP_P("runtime_top_p"),
    /** Input (optional): the sequence's random seed {@code [B, 1]}; absent: 0. */
    SEED("seed"),
    /** Input (optional, BOOL): whether to return log-probs {@code [B, 1]}. */
    RETURN_LOG_PROBS("return_log_probs"),
    /** Input (optional, BOOL): whether output ids leave out the prompt {@code [B, 1]}. */
    EXCLUDE_INPUT_IN_OUTPUT("exclude_input_in_output"),
    /** Input (optional, UINT64): the LoRA task id {@code [1, 1]}; absent: the base model. */
    LORA_TASK_ID("lora_task_id"),
    /**
     * Input (optional, the engine's FP16, BF16 or FP32): the adapter rows {@code [1, rows, width]}
     * ({@code dev.jbond.serving.lora.LoraTensors}); sent with {@link #LORA_CONFIG} or not at all.
     */
    LORA_WEIGHTS("lora_weights"),
    /**
     * Input (optional, INT32): module id, layer and rank of each adapter row {@code [1, rows, 3]}.
     */
    LORA_CONFIG("lora_config"),
    /** Output: prompt and generated ids {@code [1, beams, L + n]}, padded with -1. */
    OUTPUT_IDS("output_ids"),
    /** Output: the length of each beam in output ids {@code [1, beams]}. */
    SEQUENCE_LENGTH("sequence_length"),
    /** Output (FP32): per generated token log-probs {@code [1, beams, n]}. */
    OUTPUT_LOG_PROBS("output_log_probs"),
    /** Output (FP32): the sum of the log-probs {@code [1, beams]}. */
    CUM_LOG_PROBS("cum_log_probs"),
    /** Output: the row of a batched request that a decoupled response answers {@code [1, 1]}. */
    BATCH_INDEX("batch_index");

    private final String defaultName;

    Slot(String defaultName) {
      this.defaultName = defaultName;
    }

    /**
     * Returns TensorRT-LLM's name of this tensor.
     *
     * @return the default name
     */
    public String defaultName() {
      return defaultName;
    }
  }

  private static final TensorProfile TRT_LLM = defaults();

  /**
   * Validates and copies the components.
   *
   * @param names see the record description
   * @param tokenDatatype see the record description
   * @param seedDatatype see the record description
   * @throws IllegalArgumentException when a slot has no or an empty name, two slots share a name,
   *     or a datatype is not allowed
   */
  public TensorProfile {
    Objects.requireNonNull(names, "names");
    Objects.requireNonNull(tokenDatatype, "tokenDatatype");
    Objects.requireNonNull(seedDatatype, "seedDatatype");
    for (Slot slot : Slot.values()) {
      String name = names.get(slot);
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException(
            "Expected a non-empty tensor name for " + slot + ", found " + name);
      }
    }
    if (names.values().stream().distinct().count() != names.size()) {
      throw new IllegalArgumentException("Expected distinct tensor names, found " + names);
    }
    if (tokenDatatype != TritonDatatype.INT32 && tokenDatatype != TritonDatatype.INT64) {
      throw new IllegalArgumentException(
          "Expected token datatype INT32 or INT64, found " + tokenDatatype);
    }
    if (seedDatatype != TritonDatatype.UINT64 && seedDatatype != TritonDatatype.INT64) {
      throw new IllegalArgumentException(
          "Expected seed datatype UINT64 or INT64, found " + seedDatatype);
    }
    names = Map.copyOf(new EnumMap<>(names));
  }

  /**
   * The optional int64 request parameter by which a client announces how many rows it is sending at
   * once (for example {@code TritonSampler} with its burst hint on): jbond's embedded server,
   * having taken a row of such a burst, keeps collecting past gaps longer than its batch window
   * until it holds that many rows or 100 ms pass. Other servers ignore the parameter.
   */
  public static final String BURST_PARAMETER = "jbond_burst_rows";

  /**
   * Returns TensorRT-LLM's {@code tensorrt_llm} profile: the {@link Slot#defaultName() default
   * names}, INT32 token ids and a UINT64 {@code seed} (trtllm backend {@code
   * docs/model_config.md}).
   *
   * @return the profile
   */
  public static TensorProfile trtLlm() {
    return TRT_LLM;
  }

  private static TensorProfile defaults() {
    Map<Slot, String> names = new EnumMap<>(Slot.class);
    for (Slot slot : Slot.values()) {
      names.put(slot, slot.defaultName());
    }
    return new TensorProfile(names, TritonDatatype.INT32, TritonDatatype.UINT64);
  }

  /**
   * Returns the name of a tensor.
   *
   * @param slot the tensor
   * @return its name in this profile
   */
  public String name(Slot slot) {
    return names.get(slot);
  }

  /**
   * Returns this profile with one tensor renamed.
   *
   * @param slot the tensor
   * @param name its name, non-empty
   * @return a new profile
   * @throws IllegalArgumentException when the name is empty or another tensor has it
   */
  public TensorProfile withName(Slot slot, String name) {
    Map<Slot, String> copy = new EnumMap<>(names);
    copy.put(Objects.requireNonNull(slot, "slot"), Objects.requireNonNull(name, "name"));
    return new TensorProfile(copy, tokenDatatype, seedDatatype);
  }

  /**
   * Returns this profile with another datatype for token ids, lengths and counts.
   *
   * @param datatype INT32 or INT64
   * @return a new profile
   * @throws IllegalArgumentException when the datatype is neither
   */
  public TensorProfile withTokenDatatype(TritonDatatype datatype) {
    return new TensorProfile(names, datatype, seedDatatype);
  }

  /**
   * Returns this profile with another datatype for the seed.
   *
   * @param datatype UINT64 or INT64
   * @return a new profile
   * @throws IllegalArgumentException when the datatype is neither
   */
  public TensorProfile withSeedDatatype(TritonDatatype datatype) {
    return new TensorProfile(names, tokenDatatype, datatype);
  }
}
