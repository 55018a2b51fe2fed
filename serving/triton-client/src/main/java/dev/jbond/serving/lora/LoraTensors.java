package dev.jbond.serving.lora;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import java.util.List;
import java.util.Objects;

/**
 * The per-request LoRA inputs of TensorRT-LLM's Triton backend, laid out as it reads them:
 *
 * <ul>
 *   <li>{@value #TASK_ID}: UINT64 {@code [1, 1]}, the adapter version's cache key;
 *   <li>{@value #WEIGHTS}: {@code [1, rows, width]} in the engine's dtype, one row per adapter: A
 *       as {@code [r, in]} row-major, then B times {@code alpha / r} as {@code [out, r]} row-major,
 *       then zeros up to the widest row;
 *   <li>{@value #CONFIG}: INT32 {@code [1, rows, 3]}, row i = {@code [module id, layer, r]} of
 *       weights row i.
 * </ul>
 *
 * <p>Values are scaled in float32, then rounded once to the dtype (nearest, ties to even). The
 * backend applies no scale of its own. Requests after the first for a task carry only the task id.
 */
public final class LoraTensors {
  /** The task id input. */
  public static final String TASK_ID = "lora_task_id";

  /** The weights input. */
  public static final String WEIGHTS = "lora_weights";

  /** The config input. */
  public static final String CONFIG = "lora_config";

  /** The dtypes {@value #WEIGHTS} may take: the engine's. */
  public enum Dtype {
    /** IEEE half precision, the backend's shipped configuration. */
    FP16(TritonDatatype.FP16),
    /** bfloat16, for BF16 engines (their config.pbtxt must declare TYPE_BF16). */
    BF16(TritonDatatype.BF16),
    /** float32, for FP32 engines. */
    FP32(TritonDatatype.FP32);

    private final TritonDatatype datatype;

    Dtype(TritonDatatype datatype) {
      this.datatype = datatype;
    }

    /**
     * Returns the wire datatype.
     *
     * @return the datatype
     */
    public TritonDatatype datatype() {
      return datatype;
    }
  }

  private final TritonTensor weights;
  private final TritonTensor config;

  private LoraTensors(TritonTensor weights, TritonTensor config) {
    this.weights = weights;
    this.config = config;
  }

  /**
   * Lays out adapters, in the given order.
   *
   * @param adapters the adapters, not empty
   * @param alpha LoRA's alpha; B is multiplied by {@code alpha / r} of its own rank
   * @param dtype the engine's dtype
   * @return the tensors
   * @throws IllegalArgumentException when there are no adapters, alpha is not finite and positive,
   *     or the weights exceed 2^31 - 1 values
   */
  public static LoraTensors of(List<LoraAdapter> adapters, double alpha, Dtype dtype) {
    Objects.requireNonNull(dtype, "dtype");
    Checks.checkArgument(!adapters.isEmpty(), "Expected at least one LoRA adapter, found none");
    Checks.checkArgument(
        alpha > 0 && Double.isFinite(alpha), "Expected a LoRA alpha > 0, found %s", alpha);
    long width = 0;
    for (LoraAdapter a : adapters) {
      width = Math.max(width, a.rowLength());
    }
    int rows = adapters.size();
    long total = rows * width;
    Checks.checkArgument(
        total <= Integer.MAX_VALUE,
        "Expected at most %d LoRA weight values in one request, found %d",
        Integer.MAX_VALUE,
        total);
    float[] values = new float[(int) total];
    int[] config = new int[rows * 3];
    for (int i = 0; i < rows; i++) {
      LoraAdapter a = adapters.get(i);
      int at = (int) (i * width);
      System.arraycopy(a.a(), 0, values, at, a.a().length);
      at += a.a().length;
      float scale = (float) (alpha / a.rank());
      for (int k = 0; k < a.b().length; k++) {
        values[at + k] = a.b()[k] * scale;
      }
      config[i * 3] = a.module().id();
      config[i * 3 + 1] = a.layer();
      config[i * 3 + 2] = a.rank();
    }
    long[] shape = {1, rows, width};
    TritonTensor weights =
        switch (dtype) {
          case FP16 -> TritonTensor.ofFp16(WEIGHTS, shape, values);
          case BF16 -> TritonTensor.ofBf16(WEIGHTS, shape, values);
          case FP32 -> TritonTensor.ofFp32(WEIGHTS, shape, values);
        };
    return new LoraTensors(weights, TritonTensor.ofInt32(CONFIG, new long[] {1, rows, 3}, config));
  }

  /**
   * Returns the task id input.
   *
   * @param taskId the id, unique to one version of the adapters (an id never takes new weights)
   * @return UINT64 {@code [1, 1]}
   */
  public static TritonTensor taskId(long taskId) {
    return TritonTensor.ofUint64(TASK_ID, new long[] {1, 1}, taskId);
  }

  /**
   * Returns the weights input.
   *
   * @return {@code [1, rows, width]} in the dtype
   */
  public TritonTensor weights() {
    return weights;
  }

  /**
   * Returns the config input.
   *
   * @return INT32 {@code [1, rows, 3]}
   */
  public TritonTensor config() {
    return config;
  }
}
