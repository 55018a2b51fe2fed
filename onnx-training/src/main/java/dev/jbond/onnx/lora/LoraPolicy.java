package dev.jbond.onnx.lora;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.train.ParameterSpec;
import dev.jbond.onnx.train.PolicyModel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A policy trained through low-rank adapters: the base model with an adapter branch at every target
 * ({@link LoraGraphs#addTrainable}), whose trained parameters are the adapters' {@code A} and
 * {@code B} only, so that an {@link dev.jbond.onnx.train.OrtPolicyLearner} on {@link #model()}
 * computes gradients for the adapters alone (the gradient graph holds only what they need; the
 * frozen base gets none), keeps its optimizer state and snapshots for them, and its EMA anchor is
 * an EMA of the adapter parameters.
 *
 * <p>Initial values: {@code A} uniform in {@code +-1/sqrt(in)} from {@code new
 * SplittableRandom(spec.seed())} in target order, {@code B = 0}; the adapted model therefore equals
 * the base at step 0, and the learner's reference role (the initial weights) is the base model.
 *
 * <p>{@link #adapters} reads a role's adapters from the learner's weights and {@link #merged} folds
 * them into the base weights ({@code W + (alpha / r) A^T B^T} in the columns the module adapts),
 * for publishers and exports of full weights. Immutable.
 */
public final class LoraPolicy {
  private final PolicyModel base;
  private final LoraSpec spec;
  private final List<LoraTarget> targets;
  private final PolicyModel model;
  private final Map<String, Tensor> baseWeights;

  private LoraPolicy(PolicyModel base, LoraSpec spec) {
    this.base = base;
    this.spec = spec;
    Graph graph = base.graph();
    this.targets = LoraTargets.find(graph, spec.modules(), base.name());
    Set<String> trained = new HashSet<>();
    base.parameters().forEach(p -> trained.add(p.name()));
    for (LoraTarget t : targets) {
      Checks.checkArgument(
          trained.contains(t.weight()),
          "Expected the weight '%s' of LoRA target %s to be a trained parameter of model '%s',"
              + " found a frozen one",
          t.weight(),
          t.key(),
          base.name());
    }
    Map<String, Tensor> initial = new LinkedHashMap<>();
    SplittableRandom random = new SplittableRandom(spec.seed());
    List<String> names = new ArrayList<>();
    for (LoraTarget t : targets) {
      float bound = (float) (1.0 / Math.sqrt(t.in()));
      float[] a = new float[spec.rank() * t.in()];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) random.nextDouble(-bound, bound);
      }
      initial.put(t.aName(), Tensor.floats(new long[] {spec.rank(), t.in()}, a));
      initial.put(t.bName(), Tensor.zeros(ElementType.FLOAT, t.out(), spec.rank()));
      names.add(t.aName());
      names.add(t.bName());
    }
    Map<String, Tensor> weights = new LinkedHashMap<>();
    Map<String, Tensor> inits = graph.initializers();
    for (ParameterSpec p : base.parameters()) {
      weights.put(p.name(), inits.get(p.name()));
    }
    this.baseWeights = weights;
    LoraGraphs.addTrainable(graph, targets, initial, spec.scale());
    // the frozen base is held once by the learner and fed to each of its sessions
    this.model =
        base.withTrainable(
            graph,
            base.name() + " + LoRA r=" + spec.rank(),
            names,
            base.parameters().stream().map(ParameterSpec::name).toList());
  }

  /**
   * Adapts a policy.
   *
   * @param base the policy to adapt
   * @param spec the adapters' rank, scale, modules and seed
   * @return the adapted policy
   * @throws IllegalArgumentException naming what the model offers when a module has no node in it
   */
  public static LoraPolicy create(PolicyModel base, LoraSpec spec) {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(spec, "spec");
    return new LoraPolicy(base, spec);
  }

  /**
   * Returns the base policy.
   *
   * @return the base
   */
  public PolicyModel base() {
    return base;
  }

  /**
   * Returns the adapted policy that a learner trains (its parameters are the adapters).
   *
   * @return the adapted model
   */
  public PolicyModel model() {
    return model;
  }

  /**
   * Returns the specification.
   *
   * @return the spec
   */
  public LoraSpec spec() {
    return spec;
  }

  /**
   * Returns the adapted targets, by layer, then module id.
   *
   * @return the targets
   */
  public List<LoraTarget> targets() {
    return targets;
  }

  /**
   * Returns the adapters in a set of the adapted model's weights (a learner role's), {@code B}
   * unscaled, in target order.
   *
   * @param weights the adapted model's parameters by name
   * @return one adapter per target
   * @throws IllegalArgumentException when an adapter's tensor is missing or has another shape
   */
  public List<LoraAdapter> adapters(Map<String, Tensor> weights) {
    Objects.requireNonNull(weights, "weights");
    List<LoraAdapter> out = new ArrayList<>(targets.size());
    for (LoraTarget t : targets) {
      out.add(
          new LoraAdapter(
              t.module(),
              t.layer(),
              spec.rank(),
              t.in(),
              t.out(),
              values(weights, t.aName(), (long) spec.rank() * t.in()),
              values(weights, t.bName(), (long) t.out() * spec.rank())));
    }
    return out;
  }

  /**
   * Returns the base model's trained parameters with the adapters folded in: at each target {@code
   * W[i, offset + o] += (alpha / r) sum_k A[k, i] B[o, k]} (the transpose for a {@code [width, in]}
   * weight); the other parameters as the base holds them.
   *
   * @param weights the adapted model's parameters by name
   * @return the merged parameters by the base's names, in the base's order
   */
  public Map<String, Tensor> merged(Map<String, Tensor> weights) {
    Map<String, Tensor> out = new LinkedHashMap<>(baseWeights);
    Map<String, float[]> changed = new LinkedHashMap<>();
    List<LoraAdapter> adapters = adapters(weights);
    double scale = spec.scale();
    for (int n = 0; n < targets.size(); n++) {
      LoraTarget t = targets.get(n);
      LoraAdapter adapter = adapters.get(n);
      float[] w = changed.computeIfAbsent(t.weight(), k -> baseWeights.get(k).toFloatArray());
      int r = spec.rank();
      float[] a = adapter.a();
      float[] b = adapter.b();
      for (int i = 0; i < t.in(); i++) {
        for (int o = 0; o < t.out(); o++) {
          double sum = 0;
          for (int k = 0; k < r; k++) {
            sum += (double) a[k * t.in() + i] * b[o * r + k];
          }
          int index =
              t.transposed() ? (t.offset() + o) * t.in() + i : i * t.width() + t.offset() + o;
          w[index] = (float) (w[index] + scale * sum);
        }
      }
    }
    changed.forEach((name, values) -> out.put(name, Tensor.floats(out.get(name).shape(), values)));
    return out;
  }

  private static float[] values(Map<String, Tensor> weights, String name, long count) {
    Tensor t = weights.get(name);
    Checks.checkArgument(
        t != null && t.elementCount() == count && t.elementType() == ElementType.FLOAT,
        "Expected LoRA parameter '%s' with %d FLOAT values, found %s",
        name,
        count,
        t);
    return t.toFloatArray();
  }

  /** Returns the base model, rank, alpha and target count. */
  @Override
  public String toString() {
    return "LoraPolicy "
        + base.name()
        + " r="
        + spec.rank()
        + " alpha="
        + spec.alpha()
        + " targets="
        + targets.size()
        + " modules="
        + spec.modules();
  }
}
