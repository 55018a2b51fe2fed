package dev.jbond.onnx.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.ort.OrtFailures;
import dev.jbond.onnx.ort.OrtResource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One set of parameter tensors in one contiguous direct buffer (native byte order): parameter
 * {@code i} occupies floats {@code [offset(i), offset(i) + count(i))}. Each parameter's slice is
 * wrapped once in an {@link OnnxTensor}, which ONNX Runtime reads (as an input) or writes (as a
 * pinned output) in place, so writing the buffer from Java changes what the next run sees and a run
 * with pinned outputs fills the buffer without a copy.
 *
 * <p>Owns its tensors; {@link #close()} releases them. The buffer itself is garbage collected.
 */
final class FlatParameters extends OrtResource {
  /** The most floats one direct buffer can hold (its capacity is an {@code int} of bytes). */
  static final int MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

  private final ByteBuffer bytes;
  private final FloatBuffer floats;
  private final int[] offsets;
  private final int size;
  private final Map<String, OnnxTensor> tensors;

  private FlatParameters(
      ByteBuffer bytes, FloatBuffer floats, int[] offsets, int size, Map<String, OnnxTensor> ts) {
    this.bytes = bytes;
    this.floats = floats;
    this.offsets = offsets;
    this.size = size;
    this.tensors = Collections.unmodifiableMap(ts);
  }

  /**
   * Allocates a zeroed buffer for {@code specs} and wraps each slice in a tensor named by {@code
   * names} (the parameter names for inputs, the gradient output names for pinned outputs).
   */
  static FlatParameters allocate(
      OrtEnvironment environment, List<ParameterSpec> specs, List<String> names) {
    Checks.checkSameLength(specs.size(), names.size(), "tensor names");
    int[] offsets = offsets(specs);
    int size = offsets[specs.size()];
    ByteBuffer bytes = ByteBuffer.allocateDirect(size * Float.BYTES).order(ByteOrder.nativeOrder());
    FloatBuffer floats = bytes.asFloatBuffer();
    Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
    try {
      for (int i = 0; i < specs.size(); i++) {
        FloatBuffer slice = floats.slice(offsets[i], offsets[i + 1] - offsets[i]);
        tensors.put(names.get(i), OnnxTensor.createTensor(environment, slice, specs.get(i).dims()));
      }
    } catch (OrtException e) {
      tensors.values().forEach(OnnxTensor::close);
      throw OrtFailures.wrap(e, "create parameter tensors");
    }
    return new FlatParameters(bytes, floats, offsets, size, tensors);
  }

  /** Start offsets of each parameter (in floats), plus the total at the end. */
  static int[] offsets(List<ParameterSpec> specs) {
    int[] offsets = new int[specs.size() + 1];
    long total = 0;
    for (int i = 0; i < specs.size(); i++) {
      offsets[i] = (int) total;
      total += specs.get(i).elementCount();
      Checks.checkArgument(
          total <= MAX_ELEMENTS,
          "Expected at most %d trainable parameters (one direct buffer), found more than %d",
          MAX_ELEMENTS,
          total);
    }
    offsets[specs.size()] = (int) total;
    return offsets;
  }

  /** The number of floats. */
  int size() {
    return size;
  }

  /** The first float of parameter {@code index}. */
  int offset(int index) {
    return offsets[index];
  }

  /** The floats, position 0 and limit {@link #size()}; a fresh view each call. */
  FloatBuffer floats() {
    checkOpen();
    return floats.duplicate();
  }

  /** The raw bytes in native order, position 0; a fresh view each call. */
  ByteBuffer bytes() {
    checkOpen();
    return bytes.duplicate().order(ByteOrder.nativeOrder());
  }

  /** The tensors over each slice, by name, in parameter order. */
  Map<String, OnnxTensor> tensors() {
    checkOpen();
    return tensors;
  }

  /** Copies another set of the same layout into this one. */
  void copyFrom(FlatParameters other) {
    Checks.verify(other.size == size, "Expected %d floats, found %d", size, other.size);
    floats().put(0, other.floats(), 0, size);
  }

  @Override
  protected void release() {
    List<OnnxTensor> all = new ArrayList<>(tensors.values());
    all.forEach(OnnxTensor::close);
  }
}
