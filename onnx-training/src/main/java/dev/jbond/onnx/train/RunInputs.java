package dev.jbond.onnx.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.jbond.onnx.ort.OrtFailures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The token inputs of one run ({@code input_ids}, {@code attention_mask}, {@code position_ids},
 * {@code target_ids}, {@code target_mask} and, for training, {@code weights}), written into direct
 * buffers that are reused (and grown) from run to run and fed to ONNX Runtime without a copy.
 */
final class RunInputs {
  private final OrtEnvironment environment;
  private final PolicyModel model;
  private ByteBuffer ids = allocate(0);
  private ByteBuffer mask = allocate(0);
  private ByteBuffer positions = allocate(0);
  private ByteBuffer targets = allocate(0);
  private ByteBuffer targetMask = allocate(0);
  private ByteBuffer weights = allocate(0);

  RunInputs(OrtEnvironment environment, PolicyModel model) {
    this.environment = environment;
    this.model = model;
  }

  /** The tensors of one run; closing them leaves the buffers for the next run. */
  static final class Tensors implements AutoCloseable {
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();

    Map<String, OnnxTensor> map() {
      return Collections.unmodifiableMap(tensors);
    }

    @Override
    public void close() {
      List<OnnxTensor> all = new ArrayList<>(tensors.values());
      tensors.clear();
      all.forEach(OnnxTensor::close);
    }
  }

  /**
   * Writes the run's rows and returns its tensors.
   *
   * @param run the rows and their padded length
   * @param rowWeights the weight of each row of the caller's list by {@link
   *     TokenBatch.Row#index()}, or null for a log-probability run (no {@code weights} input)
   */
  Tensors fill(TokenBatch.Run run, double[] rowWeights) {
    int rows = run.rows().size();
    int steps = run.steps();
    int n = rows * steps;
    ids = ensure(ids, n * Long.BYTES);
    targets = ensure(targets, n * Long.BYTES);
    targetMask = ensure(targetMask, n * Float.BYTES);
    LongBuffer idBuf = ids.asLongBuffer();
    LongBuffer targetBuf = targets.asLongBuffer();
    FloatBuffer targetMaskBuf = targetMask.asFloatBuffer();
    LongBuffer maskBuf = null;
    LongBuffer positionBuf = null;
    if (model.hasAttentionMask()) {
      mask = ensure(mask, n * Long.BYTES);
      maskBuf = mask.asLongBuffer();
    }
    if (model.hasPositionIds()) {
      positions = ensure(positions, n * Long.BYTES);
      positionBuf = positions.asLongBuffer();
    }
    for (int r = 0; r < rows; r++) {
      TokenBatch.Row row = run.rows().get(r);
      int fed = row.fedLength();
      for (int t = 0; t < steps; t++) {
        int k = r * steps + t;
        boolean real = t < fed;
        idBuf.put(k, real ? row.tokens().get(t) : 0);
        targetBuf.put(k, real ? row.tokens().get(t + 1) : 0);
        targetMaskBuf.put(k, real && t + 1 >= row.promptLength() ? 1f : 0f);
        if (maskBuf != null) {
          maskBuf.put(k, real ? 1 : 0);
        }
        if (positionBuf != null) {
          positionBuf.put(k, t);
        }
      }
    }
    long[] shape = {rows, steps};
    Tensors out = new Tensors();
    try {
      out.tensors.put(PolicyModel.INPUT_IDS, longs(ids, n, shape));
      if (maskBuf != null) {
        out.tensors.put(PolicyModel.ATTENTION_MASK, longs(mask, n, shape));
      }
      if (positionBuf != null) {
        out.tensors.put(PolicyModel.POSITION_IDS, longs(positions, n, shape));
      }
      out.tensors.put(PolicyGraphs.TARGET_IDS, longs(targets, n, shape));
      out.tensors.put(
          PolicyGraphs.TARGET_MASK,
          OnnxTensor.createTensor(environment, targetMask.asFloatBuffer().slice(0, n), shape));
      if (rowWeights != null) {
        weights = ensure(weights, rows * Float.BYTES);
        FloatBuffer w = weights.asFloatBuffer();
        for (int r = 0; r < rows; r++) {
          w.put(r, (float) rowWeights[run.rows().get(r).index()]);
        }
        out.tensors.put(
            PolicyGraphs.WEIGHTS,
            OnnxTensor.createTensor(environment, w.slice(0, rows), new long[] {rows}));
      }
      return out;
    } catch (OrtException e) {
      out.close();
      throw OrtFailures.wrap(e, "create input tensors for model '" + model.name() + "'");
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  /**
   * Returns a {@code weights} tensor of the run's rows, written into this object's buffer (valid
   * until the next {@link #fill} or call).
   *
   * @param run the rows
   * @param rowWeights the weight of each row by {@link TokenBatch.Row#index()}
   */
  OnnxTensor weights(TokenBatch.Run run, double[] rowWeights) {
    int rows = run.rows().size();
    weights = ensure(weights, rows * Float.BYTES);
    FloatBuffer w = weights.asFloatBuffer();
    for (int r = 0; r < rows; r++) {
      w.put(r, (float) rowWeights[run.rows().get(r).index()]);
    }
    try {
      return OnnxTensor.createTensor(environment, w.slice(0, rows), new long[] {rows});
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "create the weights tensor for model '" + model.name() + "'");
    }
  }

  private OnnxTensor longs(ByteBuffer buffer, int n, long[] shape) throws OrtException {
    return OnnxTensor.createTensor(environment, buffer.asLongBuffer().slice(0, n), shape);
  }

  private static ByteBuffer ensure(ByteBuffer buffer, int bytes) {
    if (buffer.capacity() >= bytes) {
      return buffer;
    }
    return allocate(Math.max(bytes, buffer.capacity() * 2));
  }

  private static ByteBuffer allocate(int bytes) {
    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
  }
}
