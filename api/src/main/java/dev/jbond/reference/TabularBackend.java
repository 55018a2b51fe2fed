package dev.jbond.reference;

import dev.jbond.Generation;
import dev.jbond.LogProbs;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.TrainingDivergedException;
import dev.jbond.anchor.EmaAnchor;
import dev.jbond.internal.Checks;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightPublisher;
import dev.jbond.spi.WeightedSequence;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The tabular reference backend: one object implementing the whole SPI over a {@link
 * TabularProblem}. Parameters are the logits of a softmax policy per prompt; the gradient of {@code
 * sum_s w_s log pi(s)} with respect to prompt i's logits is exact: {@code sum_s w_s (e_{y_s} -
 * pi_i)}. The optimizer is Adam (no weight decay) or plain gradient descent.
 *
 * <p>Sampling reads served snapshots, which {@link #publish} replaces atomically, so sampling may
 * run concurrently with learning. The reference role is always served at version 0. Rewards come
 * from the problem's reward table.
 *
 * <p>Not thread-safe for learning: {@link #step}, {@link #updateAnchor}, {@link #restore} must come
 * from one thread; {@link #sample} and {@link #score} may run on others.
 */
public final class TabularBackend
    implements PolicySampler, RewardModel, PolicyLearner, WeightPublisher {

  private static final int SNAPSHOT_MAGIC = 0x4A425442; // "JBTB"

  /** The optimizer that {@link #step} uses. */
  public enum Optimizer {
    /** Adam with bias correction (Kingma and Ba 2015), no weight decay. */
    ADAM,
    /** Plain gradient descent, {@code theta <- theta - lr * grad}. */
    SGD
  }

  private final TabularProblem problem;
  private final String modelName;
  private final Optimizer optimizer;
  private final double learningRate;
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final double[] policy;
  private final double[] anchor;
  private final double[] reference;
  private final double[] firstMoment;
  private final double[] secondMoment;
  private final Map<PolicyRole, AtomicReference<Served>> served = new EnumMap<>(PolicyRole.class);
  private long steps;

  private record Served(long version, double[] logits) {}

  private TabularBackend(
      TabularProblem problem,
      String modelName,
      Optimizer optimizer,
      double learningRate,
      double beta1,
      double beta2,
      double epsilon) {
    this.problem = problem;
    this.modelName = modelName;
    this.optimizer = optimizer;
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.reference = problem.referenceParameters();
    this.policy = reference.clone();
    this.anchor = reference.clone();
    this.firstMoment = new double[reference.length];
    this.secondMoment = new double[reference.length];
    for (PolicyRole role : PolicyRole.values()) {
      served.put(role, new AtomicReference<>(new Served(0, reference.clone())));
    }
  }

  /**
   * Creates a backend whose policy and anchor start at the reference, trained by Adam.
   *
   * @param problem the problem
   * @param learningRate Adam's step size, {@code > 0}
   * @return the backend
   */
  public static TabularBackend adam(TabularProblem problem, double learningRate) {
    return create(problem, Optimizer.ADAM, learningRate);
  }

  /**
   * Creates a backend whose policy and anchor start at the reference.
   *
   * @param problem the problem
   * @param optimizer the optimizer
   * @param learningRate the step size, {@code > 0}
   * @return the backend
   */
  public static TabularBackend create(
      TabularProblem problem, Optimizer optimizer, double learningRate) {
    Checks.checkArgument(
        learningRate > 0 && Double.isFinite(learningRate),
        "Expected a finite learning rate > 0, found %s",
        learningRate);
    return new TabularBackend(problem, "tabular", optimizer, learningRate, 0.9, 0.999, 1e-8);
  }

  /**
   * Returns the problem.
   *
   * @return the problem
   */
  public TabularProblem problem() {
    return problem;
  }

  /**
   * Returns the current probabilities of prompt {@code i} under a role's (learner-side) weights.
   *
   * @param role the weight set
   * @param i the prompt index
   * @return the probabilities
   */
  public double[] probabilities(PolicyRole role, int i) {
    return Softmax.probabilities(weights(role), problem.offset(i), problem.completions(i));
  }

  /**
   * Returns the current log-probabilities of prompt {@code i} under a role's weights.
   *
   * @param role the weight set
   * @param i the prompt index
   * @return the log-probabilities
   */
  public double[] logProbabilities(PolicyRole role, int i) {
    return Softmax.logProbabilities(weights(role), problem.offset(i), problem.completions(i));
  }

  private double[] weights(PolicyRole role) {
    return switch (role) {
      case POLICY -> policy;
      case ANCHOR -> anchor;
      case REFERENCE -> reference;
    };
  }

  @Override
  public List<Generation> sample(
      List<Prompt> prompts, int samplesPerPrompt, PolicyRole role, long seed) {
    Checks.checkNotEmpty(prompts, "prompt");
    Checks.checkAtLeast(samplesPerPrompt, 1, "samples per prompt");
    Served s = served.get(role).get();
    ModelVersion model = new ModelVersion(modelName + "-" + role.label(), s.version());
    List<Generation> out = new ArrayList<>(prompts.size() * samplesPerPrompt);
    for (Prompt p : prompts) {
      int i = problem.indexOf(p.id());
      double[] lp = Softmax.logProbabilities(s.logits(), problem.offset(i), problem.completions(i));
      for (int j = 0; j < samplesPerPrompt; j++) {
        SplittableRandom rng = new SplittableRandom(sampleSeed(seed, p.id(), j));
        double u = rng.nextDouble();
        int k = 0;
        double cum = Math.exp(lp[0]);
        while (u >= cum && k < lp.length - 1) {
          k++;
          cum += Math.exp(lp[k]);
        }
        out.add(new Generation(p, TokenSequence.of(k), Optional.of(LogProbs.of(lp[k])), model));
      }
    }
    return out;
  }

  /**
   * The seed of sample {@code j} of a prompt within a request: a SplitMix64 mix of the request
   * seed, the prompt id and j.
   */
  static long sampleSeed(long seed, String promptId, int j) {
    long z = seed * 0x9E3779B97F4A7C15L + promptId.hashCode() * 0xC2B2AE3D27D4EB4FL + j + 1;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override
  public double[] score(List<Generation> generations) {
    Checks.checkNotEmpty(generations, "generation to score");
    double[] r = new double[generations.size()];
    for (int n = 0; n < r.length; n++) {
      Generation g = generations.get(n);
      r[n] = problem.reward(problem.indexOf(g.prompt().id()), completionToken(g));
    }
    return r;
  }

  private int completionToken(Generation g) {
    Checks.checkArgument(
        g.completion().length() == 1,
        "Expected a one-token completion for tabular prompt '%s', found %d tokens",
        g.prompt().id(),
        g.completion().length());
    return g.completion().get(0);
  }

  @Override
  public double[] logProbs(PolicyRole role, List<Generation> generations) {
    Checks.checkNotEmpty(generations, "generation");
    double[] w = weights(role);
    double[] out = new double[generations.size()];
    for (int n = 0; n < out.length; n++) {
      Generation g = generations.get(n);
      int i = problem.indexOf(g.prompt().id());
      int k = completionToken(g);
      problem.reward(i, k); // validates the token
      out[n] = Softmax.logProbabilities(w, problem.offset(i), problem.completions(i))[k];
    }
    return out;
  }

  @Override
  public StepOutcome step(List<WeightedSequence> batch) {
    Checks.checkNotEmpty(batch, "weighted sequence");
    double[] grad = new double[policy.length];
    double loss = 0;
    for (WeightedSequence ws : batch) {
      Generation g = ws.generation();
      int i = problem.indexOf(g.prompt().id());
      int k = completionToken(g);
      problem.reward(i, k);
      int off = problem.offset(i);
      int len = problem.completions(i);
      double[] lp = Softmax.logProbabilities(policy, off, len);
      double w = ws.weight();
      loss += w * lp[k];
      for (int c = 0; c < len; c++) {
        grad[off + c] -= w * Math.exp(lp[c]);
      }
      grad[off + k] += w;
    }
    if (!Double.isFinite(loss)) {
      throw new TrainingDivergedException(steps + 1, "loss is " + loss);
    }
    return applyGradient(grad, loss);
  }

  /**
   * Takes one optimizer step with an explicit gradient of the loss with respect to the policy
   * logits; used to train on exact (expected) gradients.
   *
   * @param gradient the gradient, one entry per parameter
   * @param loss the loss value to report
   * @return what the step did
   * @throws TrainingDivergedException when the gradient is not finite
   */
  public StepOutcome applyGradient(double[] gradient, double loss) {
    Checks.checkSameLength(policy.length, gradient.length, "gradient entries");
    double sq = 0;
    for (double g : gradient) {
      sq += g * g;
    }
    double norm = Math.sqrt(sq);
    if (!Double.isFinite(norm)) {
      throw new TrainingDivergedException(steps + 1, "gradient norm is " + norm);
    }
    steps++;
    if (optimizer == Optimizer.SGD) {
      for (int p = 0; p < policy.length; p++) {
        policy[p] -= learningRate * gradient[p];
      }
    } else {
      double c1 = 1 - Math.pow(beta1, steps);
      double c2 = 1 - Math.pow(beta2, steps);
      for (int p = 0; p < policy.length; p++) {
        double g = gradient[p];
        firstMoment[p] = beta1 * firstMoment[p] + (1 - beta1) * g;
        secondMoment[p] = beta2 * secondMoment[p] + (1 - beta2) * g * g;
        double mHat = firstMoment[p] / c1;
        double vHat = secondMoment[p] / c2;
        policy[p] -= learningRate * mHat / (Math.sqrt(vHat) + epsilon);
      }
    }
    return new StepOutcome(steps, loss, norm, learningRate);
  }

  @Override
  public void updateAnchor(double eta) {
    new EmaAnchor(eta).update(anchor, policy);
  }

  @Override
  public long stepCount() {
    return steps;
  }

  @Override
  public ModelVersion publish(PolicyLearner learner, PolicyRole role, long version) {
    Checks.checkArgument(
        learner == this, "Expected this tabular backend as the learner, found %s", learner);
    Checks.checkArgument(
        role != PolicyRole.REFERENCE, "Expected policy or anchor to publish, found %s", role);
    AtomicReference<Served> ref = served.get(role);
    Checks.checkArgument(
        version > ref.get().version() || version == 0 && ref.get().version() == 0,
        "Expected a %s version newer than %d, found %d",
        role.label(),
        ref.get().version(),
        version);
    ref.set(new Served(version, weights(role).clone()));
    return new ModelVersion(modelName + "-" + role.label(), version);
  }

  @Override
  public void snapshot(OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeInt(SNAPSHOT_MAGIC);
    data.writeInt(policy.length);
    data.writeLong(steps);
    for (double[] a : List.of(policy, anchor, reference, firstMoment, secondMoment)) {
      for (double v : a) {
        data.writeDouble(v);
      }
    }
    data.flush();
  }

  @Override
  public void restore(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    int magic = data.readInt();
    if (magic != SNAPSHOT_MAGIC) {
      throw new IOException(
          "Expected a tabular snapshot (magic 0x"
              + Integer.toHexString(SNAPSHOT_MAGIC)
              + "), found 0x"
              + Integer.toHexString(magic));
    }
    int n = data.readInt();
    if (n != policy.length) {
      throw new IOException("Expected a snapshot of " + policy.length + " parameters, found " + n);
    }
    long restoredSteps = data.readLong();
    double[][] arrays = new double[5][n];
    for (double[] a : arrays) {
      for (int p = 0; p < n; p++) {
        a[p] = data.readDouble();
      }
    }
    for (int p = 0; p < n; p++) {
      if (Double.doubleToRawLongBits(arrays[2][p]) != Double.doubleToRawLongBits(reference[p])) {
        throw new IOException(
            "Expected the snapshot's reference weights to match this problem, found a difference"
                + " at parameter "
                + p);
      }
    }
    System.arraycopy(arrays[0], 0, policy, 0, n);
    System.arraycopy(arrays[1], 0, anchor, 0, n);
    System.arraycopy(arrays[3], 0, firstMoment, 0, n);
    System.arraycopy(arrays[4], 0, secondMoment, 0, n);
    steps = restoredSteps;
  }

  /**
   * Writes one role's policy as JSON lines, one object per prompt: {@code {"prompt": "p0",
   * "logits": [...], "probabilities": [...]}}.
   */
  @Override
  public void export(PolicyRole role, Path target) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (BufferedWriter w = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
      double[] weights = weights(role);
      for (int i = 0; i < problem.size(); i++) {
        int off = problem.offset(i);
        int len = problem.completions(i);
        StringBuilder sb =
            new StringBuilder("{\"prompt\": \"p").append(i).append("\", \"logits\": [");
        for (int k = 0; k < len; k++) {
          sb.append(k == 0 ? "" : ", ").append(weights[off + k]);
        }
        sb.append("], \"probabilities\": [");
        double[] p = Softmax.probabilities(weights, off, len);
        for (int k = 0; k < len; k++) {
          sb.append(k == 0 ? "" : ", ").append(p[k]);
        }
        w.write(sb.append("]}\n").toString());
      }
    }
  }

  /** Nothing to release; present because every SPI interface declares {@code close()}. */
  @Override
  public void close() {}

  @Override
  public String toString() {
    return "TabularBackend{prompts="
        + problem.size()
        + ", parameters="
        + policy.length
        + ", optimizer="
        + optimizer
        + ", learningRate="
        + learningRate
        + ", steps="
        + steps
        + "}";
  }
}
