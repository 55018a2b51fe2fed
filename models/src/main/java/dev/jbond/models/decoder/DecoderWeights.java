package dev.jbond.models.decoder;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Shape;
import dev.jbond.onnx.graph.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The parameters of one decoder: a FLOAT tensor for every name of {@link
 * DecoderConfig#parameterShapes()}, of that shape, in that (canonical) order.
 *
 * <p>Create them with {@link #initialize(DecoderConfig)} (seeded GPT-2 initialisation) or from
 * existing tensors with {@link #of(DecoderConfig, Map)} / {@link #fromInitializers(DecoderConfig,
 * Map)}, for example weights trained by the learner. {@link Tensor}s are immutable, so the weights
 * are too.
 *
 * @param config the configuration the weights belong to
 * @param tensors name to tensor in canonical order, unmodifiable
 */
public record DecoderWeights(DecoderConfig config, Map<String, Tensor> tensors) {
  /**
   * Checks the tensors against the configuration and puts them in canonical order.
   *
   * @param config see the record description
   * @param tensors see the record description; any map order is accepted
   * @throws IllegalArgumentException when a parameter is missing, unexpected, not FLOAT or of the
   *     wrong shape
   */
  public DecoderWeights {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(tensors, "tensors");
    Map<String, Shape> shapes = config.parameterShapes();
    List<String> unexpected = new ArrayList<>();
    for (String name : tensors.keySet()) {
      if (!shapes.containsKey(name)) {
        unexpected.add(name);
      }
    }
    Checks.checkArgument(
        unexpected.isEmpty(),
        "Expected only decoder parameters %s, found unexpected %s",
        shapes.keySet(),
        unexpected);
    List<String> missing = new ArrayList<>();
    for (String name : shapes.keySet()) {
      if (!tensors.containsKey(name)) {
        missing.add(name);
      }
    }
    Checks.checkArgument(
        missing.isEmpty(), "Expected every decoder parameter, found %s missing", missing);
    Map<String, Tensor> ordered = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> entry : shapes.entrySet()) {
      String name = entry.getKey();
      Tensor tensor = Objects.requireNonNull(tensors.get(name), name);
      Checks.checkArgument(
          tensor.elementType() == ElementType.FLOAT,
          "Expected FLOAT for parameter '%s', found %s",
          name,
          tensor.elementType());
      Checks.checkArgument(
          Arrays.equals(entry.getValue().toArray(), tensor.shape()),
          "Expected shape %s for parameter '%s', found %s",
          Arrays.toString(entry.getValue().toArray()),
          name,
          Arrays.toString(tensor.shape()));
      ordered.put(name, tensor);
    }
    tensors = Collections.unmodifiableMap(ordered);
  }

  /**
   * Returns checked weights from exactly the decoder's parameters (see {@link
   * #DecoderWeights(DecoderConfig, Map)}).
   *
   * @param config the configuration
   * @param tensors name to tensor, exactly the names of {@link DecoderConfig#parameterShapes()}
   * @return the weights
   * @throws IllegalArgumentException when a parameter is missing, unexpected, not FLOAT or of the
   *     wrong shape
   */
  public static DecoderWeights of(DecoderConfig config, Map<String, Tensor> tensors) {
    return new DecoderWeights(config, tensors);
  }

  /**
   * Returns the decoder's parameters picked by name from a larger map, for example a graph's
   * initializers ({@code Graph.initializers()}) or a learner's parameter store; other entries are
   * ignored.
   *
   * @param config the configuration
   * @param available name to tensor, a superset of the decoder's parameters
   * @return the weights
   * @throws IllegalArgumentException when a parameter is missing, not FLOAT or of the wrong shape
   */
  public static DecoderWeights fromInitializers(
      DecoderConfig config, Map<String, Tensor> available) {
    Map<String, Tensor> picked = new LinkedHashMap<>();
    for (String name : config.parameterShapes().keySet()) {
      Tensor tensor = available.get(name);
      if (tensor != null) {
        picked.put(name, tensor);
      }
    }
    return new DecoderWeights(config, picked);
  }

  /**
   * Returns GPT-2-initialised weights (see {@link DecoderConfig} for the distributions), fully
   * determined by {@code config.seed()}: the same configuration gives the same bytes on every
   * platform and JDK.
   *
   * <p>The draws: a root {@code new SplittableRandom(config.seed())} is split once per parameter,
   * in canonical order, whether or not the parameter is random. A Gaussian parameter fills its
   * elements in row-major order by the Box-Muller transform with {@link StrictMath}: each pair
   * draws {@code u1 = 1 - nextDouble()}, {@code u2 = nextDouble()} and gives {@code r cos(2 pi u2)}
   * then {@code r sin(2 pi u2)} with {@code r = sqrt(-2 ln u1)}, times the standard deviation,
   * rounded to float.
   *
   * @param config the configuration
   * @return the weights
   */
  public static DecoderWeights initialize(DecoderConfig config) {
    SplittableRandom root = new SplittableRandom(config.seed());
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> entry : config.parameterShapes().entrySet()) {
      String name = entry.getKey();
      long[] shape = entry.getValue().toArray();
      SplittableRandom random = root.split();
      int count = Math.toIntExact(entry.getValue().elementCount());
      Tensor tensor;
      if (name.endsWith(".bias")) {
        tensor = Tensor.zeros(ElementType.FLOAT, shape);
      } else if (name.startsWith("ln_") || name.contains(".ln_")) {
        float[] ones = new float[count];
        Arrays.fill(ones, 1f);
        tensor = Tensor.floats(shape, ones);
      } else if (name.endsWith(".c_proj.weight")) {
        tensor = gaussian(shape, count, config.residualInitStd(), random);
      } else {
        tensor = gaussian(shape, count, config.initStd(), random);
      }
      tensors.put(name, tensor);
    }
    return new DecoderWeights(config, tensors);
  }

  private static Tensor gaussian(long[] shape, int count, double std, SplittableRandom random) {
    ByteBuffer bytes = ByteBuffer.allocate(count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i += 2) {
      double u1 = 1.0 - random.nextDouble();
      double u2 = random.nextDouble();
      double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
      double angle = 2.0 * StrictMath.PI * u2;
      bytes.putFloat((float) (std * r * StrictMath.cos(angle)));
      if (i + 1 < count) {
        bytes.putFloat((float) (std * r * StrictMath.sin(angle)));
      }
    }
    bytes.flip();
    return Tensor.of(ElementType.FLOAT, shape, bytes);
  }

  /**
   * Returns one parameter.
   *
   * @param name a parameter name
   * @return its tensor
   * @throws IllegalArgumentException when the decoder has no such parameter
   */
  public Tensor tensor(String name) {
    Tensor tensor = tensors.get(name);
    Checks.checkArgument(
        tensor != null, "Expected a decoder parameter name %s, found '%s'", tensors.keySet(), name);
    return tensor;
  }

  /** Returns the configuration and the parameter count, never the data. */
  @Override
  public String toString() {
    return "DecoderWeights["
        + config
        + ", "
        + tensors.size()
        + " tensors, "
        + config.parameterCount()
        + " parameters]";
  }
}
