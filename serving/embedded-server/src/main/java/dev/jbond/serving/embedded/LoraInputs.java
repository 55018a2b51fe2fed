package dev.jbond.serving.embedded;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.jbond.BackendException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.lora.LoraGraphs;
import dev.jbond.onnx.lora.LoraModule;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.onnx.lora.LoraTargets;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TensorProfile.Slot;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A generation model's per-request LoRA adapters, as TensorRT-LLM's backend takes them: {@code
 * lora_task_id} (UINT64), {@code lora_weights} ({@code [1, rows, width]}, FP16, BF16 or FP32) and
 * {@code lora_config} (INT32 {@code [1, rows, 3]}: module id, layer, rank), row {@code i} holding
 * {@code A [r, in]} then {@code B [out, r]} (already scaled by alpha / r) row-major, zero-padded.
 * Tasks are kept in a {@link LoraHostCache} with TensorRT-LLM's semantics.
 *
 * <p>The decode graph gets an adapter branch at every projection it has ({@link
 * LoraGraphs#addInputs}: as an engine built with every target module), whose {@code A} and {@code
 * B} are inputs fed for the whole batch; a batch therefore holds rows of one task only, and modules
 * a task does not adapt, and batches of the base model, are fed rank-1 zeros. Thread-safe.
 */
final class LoraInputs {
  /** One task's adapters, decoded: per target input name, its values and shape. */
  static final class Adapters {
    final Map<String, float[]> values;
    final Map<String, long[]> shapes;

    Adapters(Map<String, float[]> values, Map<String, long[]> shapes) {
      this.values = values;
      this.shapes = shapes;
    }
  }

  private final String model;
  private final TensorProfile profile;
  private final List<LoraTarget> targets;
  private final Map<Long, LoraTarget> byModuleLayer = new HashMap<>();
  private final LoraHostCache<Adapters> cache;
  private final OrtEnvironment environment = OrtEnvironments.shared();

  private LoraInputs(String model, TensorProfile profile, List<LoraTarget> targets, long bytes) {
    this.model = model;
    this.profile = profile;
    this.targets = targets;
    for (LoraTarget t : targets) {
      byModuleLayer.put(key(t.module().id(), t.layer()), t);
    }
    this.cache = new LoraHostCache<>(bytes);
  }

  private static long key(long module, long layer) {
    return (module << 32) | layer;
  }

  /**
   * Adds adapter inputs at every projection of a decode graph.
   *
   * @param model the model's name, for messages
   * @param decode the decode graph; changed in place
   * @param profile the tensor names
   * @param cacheBytes the host cache size
   * @return the inputs' handler
   * @throws IllegalArgumentException when the graph has no projection LoRA can adapt
   */
  static LoraInputs adapt(String model, Graph decode, TensorProfile profile, long cacheBytes) {
    List<LoraTarget> all = LoraTargets.all(decode);
    if (all.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected projections LoRA can adapt (Llama- or GPT-2-style names) in the decode graph of"
              + " model '"
              + model
              + "', found none");
    }
    LoraGraphs.addInputs(decode, all);
    return new LoraInputs(model, profile, all, cacheBytes);
  }

  /**
   * Reads a request's LoRA inputs and admits its task to the cache (synchronously, as the backend
   * takes a request in).
   *
   * @param request the request
   * @return the request's lease on its task, or empty for the base model
   * @throws IllegalArgumentException when the inputs are malformed
   * @throws io.grpc.StatusRuntimeException NOT_FOUND or RESOURCE_EXHAUSTED from the cache
   */
  Optional<LoraHostCache<Adapters>.Lease> admit(GenerationRequest request) {
    TritonTensor task = request.inputs().get(profile.name(Slot.LORA_TASK_ID));
    TritonTensor weights = request.inputs().get(profile.name(Slot.LORA_WEIGHTS));
    TritonTensor config = request.inputs().get(profile.name(Slot.LORA_CONFIG));
    if ((weights == null) != (config == null)) {
      throw new IllegalArgumentException(
          "Expected both "
              + profile.name(Slot.LORA_WEIGHTS)
              + " and "
              + profile.name(Slot.LORA_CONFIG)
              + " or neither for model '"
              + model
              + "', found only "
              + (weights == null
                  ? profile.name(Slot.LORA_CONFIG)
                  : profile.name(Slot.LORA_WEIGHTS)));
    }
    if (task == null) {
      if (weights != null) {
        throw new IllegalArgumentException(
            "Expected "
                + profile.name(Slot.LORA_TASK_ID)
                + " with LoRA weights for model '"
                + model
                + "', found none");
      }
      return Optional.empty();
    }
    if (task.elementCount() != 1
        || (task.datatype() != TritonDatatype.UINT64 && task.datatype() != TritonDatatype.INT64)) {
      throw new IllegalArgumentException(
          "Expected one UINT64 value in "
              + profile.name(Slot.LORA_TASK_ID)
              + " for model '"
              + model
              + "', found "
              + task.elementCount()
              + " of "
              + task.datatype());
    }
    long id = task.toLongs()[0];
    if (weights == null) {
      return Optional.of(cache.acquire(id, Optional.empty(), 0));
    }
    Adapters adapters = decode(weights, config);
    long bytes = (long) weights.raw().size();
    return Optional.of(cache.acquire(id, Optional.of(adapters), bytes));
  }

  private Adapters decode(TritonTensor weights, TritonTensor config) {
    long[] ws = weights.shape();
    long[] cs = config.shape();
    if (config.datatype() != TritonDatatype.INT32
        || cs.length != 3
        || cs[0] != 1
        || cs[2] != 3
        || ws.length != 3
        || ws[0] != 1
        || ws[1] != cs[1]) {
      throw new IllegalArgumentException(
          "Expected "
              + profile.name(Slot.LORA_WEIGHTS)
              + " [1, rows, width] and INT32 "
              + profile.name(Slot.LORA_CONFIG)
              + " [1, rows, 3] for model '"
              + model
              + "', found "
              + java.util.Arrays.toString(ws)
              + " and "
              + config.datatype()
              + " "
              + java.util.Arrays.toString(cs));
    }
    if (weights.datatype() != TritonDatatype.FP16
        && weights.datatype() != TritonDatatype.BF16
        && weights.datatype() != TritonDatatype.FP32) {
      throw new IllegalArgumentException(
          "Expected "
              + profile.name(Slot.LORA_WEIGHTS)
              + " of datatype FP16, BF16 or FP32 for model '"
              + model
              + "', found "
              + weights.datatype());
    }
    int rows = (int) ws[1];
    int width = (int) ws[2];
    float[] all = weights.toFloats();
    int[] rowConfig = config.toInts();
    Map<String, float[]> values = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (int i = 0; i < rows; i++) {
      int module = rowConfig[3 * i];
      int layer = rowConfig[3 * i + 1];
      int rank = rowConfig[3 * i + 2];
      LoraTarget t = byModuleLayer.get(key(module, layer));
      if (t == null) {
        throw new IllegalArgumentException(
            "Expected LoRA modules and layers that model '"
                + model
                + "' adapts in row "
                + i
                + " of "
                + profile.name(Slot.LORA_CONFIG)
                + ", found module "
                + module
                + moduleName(module)
                + " in layer "
                + layer);
      }
      long needed = (long) rank * (t.in() + t.out());
      if (rank < 1 || needed > width) {
        throw new IllegalArgumentException(
            "Expected rank >= 1 with rank x (in + out) <= "
                + width
                + " values in row "
                + i
                + " of "
                + profile.name(Slot.LORA_WEIGHTS)
                + " for model '"
                + model
                + "', found rank "
                + rank
                + " needing "
                + needed);
      }
      if (values.containsKey(t.aName())) {
        throw new IllegalArgumentException(
            "Expected each module and layer once in "
                + profile.name(Slot.LORA_CONFIG)
                + " for model '"
                + model
                + "', found "
                + t.key()
                + " again in row "
                + i);
      }
      int start = i * width;
      float[] a = new float[rank * t.in()];
      float[] b = new float[t.out() * rank];
      System.arraycopy(all, start, a, 0, a.length);
      System.arraycopy(all, start + a.length, b, 0, b.length);
      values.put(t.aName(), a);
      shapes.put(t.aName(), new long[] {rank, t.in()});
      values.put(t.bName(), b);
      shapes.put(t.bName(), new long[] {t.out(), rank});
    }
    return new Adapters(values, shapes);
  }

  private static String moduleName(int id) {
    for (LoraModule m : LoraModule.values()) {
      if (m.id() == id) {
        return " (" + m.trtName() + ")";
      }
    }
    return "";
  }

  /**
   * Returns the tensors a batch of one task feeds: every target's {@code A} and {@code B}, rank-1
   * zeros where the task has none.
   *
   * @param adapters the task's adapters, or null for the base model
   * @return the tensors; the caller closes them
   */
  Map<String, OnnxTensor> tensors(Adapters adapters) {
    Map<String, OnnxTensor> out = new LinkedHashMap<>();
    try {
      for (LoraTarget t : targets) {
        for (String name : List.of(t.aName(), t.bName())) {
          float[] v = adapters == null ? null : adapters.values.get(name);
          long[] shape;
          if (v == null) {
            shape = name.equals(t.aName()) ? new long[] {1, t.in()} : new long[] {t.out(), 1};
            v = new float[(int) (shape[0] * shape[1])];
          } else {
            shape = adapters.shapes.get(name);
          }
          out.put(name, OnnxTensor.createTensor(environment, FloatBuffer.wrap(v), shape));
        }
      }
    } catch (OrtException e) {
      out.values().forEach(OnnxTensor::close);
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Failed to create LoRA input tensors for model '" + model + "': " + e.getMessage(),
          e);
    }
    return out;
  }
}
