package dev.jbond.models.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.jbond.BackendException;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.onnx.ort.OrtFailures;
import dev.jbond.onnx.ort.OrtModelSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime plumbing of the samplers: direct buffers that ONNX Runtime reads and writes in
 * place, tensor views over them, session checks, and the wrapping of {@code OrtException} in {@link
 * BackendException} (through {@link OrtFailures}).
 */
final class OrtCalls {
  private OrtCalls() {}

  /**
   * The most logits floats one call may return into Java: 64 Mi floats, 256 MiB. A prefill returns
   * logits for every prompt position ({@code rows x longest prompt x vocabulary}), which for a
   * 50k-token vocabulary and long prompts would otherwise run to gigabytes; batches are cut to fit.
   */
  static final long LOGITS_BUDGET_FLOATS = 64L << 20;

  /**
   * The most rows, at least 1 and at most {@code maxRows}, whose {@code floatsPerRow} logits each
   * fit in {@code budget} floats.
   */
  static int rowsWithin(int maxRows, long floatsPerRow, long budget) {
    long rows = budget / Math.max(1, floatsPerRow);
    return (int) Math.max(1, Math.min(maxRows, rows));
  }

  /** Returns {@code e} as a one-line {@link BackendException}, the cause chained. */
  static BackendException wrap(OrtException e, String attempted) {
    return OrtFailures.wrap(e, attempted);
  }

  /** A direct, native-order buffer of {@code count} longs. */
  static LongBuffer longs(long count, String what) {
    return bytes(count, Long.BYTES, what).asLongBuffer();
  }

  /** A direct, native-order buffer of {@code count} floats. */
  static FloatBuffer floats(long count, String what) {
    return bytes(count, Float.BYTES, what).asFloatBuffer();
  }

  private static ByteBuffer bytes(long count, int width, String what) {
    Checks.checkArgument(
        count <= (Integer.MAX_VALUE - 8) / width,
        "Expected %s under 2 GiB, found %d elements of %d bytes (lower maxBatchRows)",
        what,
        count,
        width);
    return ByteBuffer.allocateDirect(Math.toIntExact(count * width)).order(ByteOrder.nativeOrder());
  }

  /** A tensor over the first {@code prod(shape)} longs of {@code buffer}, read in place. */
  static OnnxTensor view(OrtEnvironment environment, LongBuffer buffer, long... shape)
      throws OrtException {
    LongBuffer slice = buffer.duplicate();
    slice.clear().limit(Math.toIntExact(elements(shape)));
    return OnnxTensor.createTensor(environment, slice.slice(), shape);
  }

  /** A tensor over the first {@code prod(shape)} floats of {@code buffer}, used in place. */
  static OnnxTensor view(OrtEnvironment environment, FloatBuffer buffer, long... shape)
      throws OrtException {
    FloatBuffer slice = buffer.duplicate();
    slice.clear().limit(Math.toIntExact(elements(shape)));
    return OnnxTensor.createTensor(environment, slice.slice(), shape);
  }

  /** An empty FLOAT tensor; the array-based factory rejects zero-size dimensions. */
  static OnnxTensor emptyFloats(OrtEnvironment environment, long... shape) throws OrtException {
    return OnnxTensor.createTensor(environment, FloatBuffer.allocate(0), shape);
  }

  static long elements(long... shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Adds {@code tensor} to the tensors a call created (closed with {@link #closeAll}). */
  static OnnxTensor track(List<OnnxTensor> created, OnnxTensor tensor) {
    created.add(tensor);
    return tensor;
  }

  /** Closes every tensor. */
  static void closeAll(Collection<OnnxTensor> tensors) {
    for (OnnxTensor tensor : tensors) {
      tensor.close();
    }
  }

  /**
   * Checks that a session has the inputs and outputs a sampler feeds and reads, and that its logits
   * have {@code vocabSize} columns.
   */
  static void checkSession(
      OrtModelSession session,
      String graph,
      List<String> inputs,
      List<String> outputs,
      int vocabSize) {
    // beyond the contract, only the adapter inputs of a LoRA-serving graph (fed by its caller)
    Checks.checkArgument(
        session.inputNames().containsAll(inputs)
            && session.inputNames().stream()
                .allMatch(n -> inputs.contains(n) || n.startsWith(LoraTarget.INPUT_PREFIX)),
        "Expected %s inputs %s in model '%s', found %s",
        graph,
        inputs,
        session.modelName(),
        session.inputNames());
    Checks.checkArgument(
        session.outputNames().containsAll(outputs),
        "Expected %s outputs %s in model '%s', found %s",
        graph,
        outputs,
        session.modelName(),
        session.outputNames());
    OrtSession raw = session.unwrap();
    long[] shape;
    try {
      Map<String, NodeInfo> info = raw.getOutputInfo();
      shape = ((TensorInfo) info.get(DecoderBuilder.LOGITS).getInfo()).getShape();
    } catch (OrtException e) {
      throw wrap(e, "read the outputs of model '" + session.modelName() + "'");
    }
    Checks.checkArgument(
        shape.length == 3 && (shape[2] == vocabSize || shape[2] < 0),
        "Expected logits [batch, sequence, %d] from model '%s', found %s",
        vocabSize,
        session.modelName(),
        Arrays.toString(shape));
  }

  /** {@code names} with the decode graph's cache names of {@code layers} layers appended. */
  static List<String> withCache(List<String> names, int layers, boolean inputs) {
    List<String> all = new ArrayList<>(names);
    for (int i = 0; i < layers; i++) {
      all.add(inputs ? DecoderBuilder.pastKey(i) : DecoderBuilder.presentKey(i));
      all.add(inputs ? DecoderBuilder.pastValue(i) : DecoderBuilder.presentValue(i));
    }
    return all;
  }
}
