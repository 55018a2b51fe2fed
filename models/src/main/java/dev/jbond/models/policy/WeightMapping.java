package dev.jbond.models.policy;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which initializer of a sampling graph holds which initializer of the full-sequence graph the
 * learner trains, when the two graphs come from separate exports of one model.
 *
 * <p>Two exports of one PyTorch model name their weights alike only sometimes: a wrapper adds a
 * prefix ({@code model.h.0...}), and constant folding turns {@code Linear} weights into transposed
 * copies named by an export-wide counter ({@code onnx::MatMul_123}), which differs between the
 * exports. Both graphs hold the same values, though, so the mapping is derived from the values:
 * each FLOAT initializer of the sampling graph with at least two elements is matched to the
 * full-sequence graph's initializers of equal shape and equal values, else (a matrix) to one whose
 * transpose is equal; a trained parameter wins over a frozen copy of it (the learner trains a tied
 * matrix once, while an export may also hold its transpose). Where several are equal (untrained
 * models: LayerNorm weights of ones), the one whose name shares the longest dot-separated suffix
 * with the sampling graph's name wins, and a trained parameter before a frozen one.
 *
 * <p>Derivation fails, with one line listing the names, when a trained parameter reaches no
 * sampling graph initializer (the sampler would never see its updates), when a sampling graph
 * weight matches nothing (it would keep its exported values), or when a match is ambiguous between
 * trained parameters. Immutable.
 */
public final class WeightMapping {
  /**
   * One sampling graph initializer and where its values come from.
   *
   * @param target the sampling graph's initializer
   * @param source the full-sequence graph's initializer
   * @param transposed whether the target holds the source's transpose (a matrix)
   * @param trained whether the source is a trained parameter (else it never changes)
   */
  public record Entry(String target, String source, boolean transposed, boolean trained) {}

  private static final int MAX_LISTED = 12;

  private final List<Entry> entries;

  private WeightMapping(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * Derives the mapping.
   *
   * @param source the full-sequence graph's initializers
   * @param trained the names of the learner's trained parameters, a subset of {@code source}
   * @param target the sampling graph's initializers
   * @param sourceName the full-sequence graph's name, for messages
   * @param targetName the sampling graph's name, for messages
   * @return the mapping
   * @throws IllegalArgumentException when a weight cannot be matched (see the class description)
   */
  public static WeightMapping derive(
      Map<String, Tensor> source,
      Set<String> trained,
      Map<String, Tensor> target,
      String sourceName,
      String targetName) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(trained, "trained");
    Objects.requireNonNull(target, "target");
    Map<Tensor, List<String>> byValue = new HashMap<>();
    Map<Tensor, List<String>> byTranspose = new HashMap<>();
    for (Map.Entry<String, Tensor> e : source.entrySet()) {
      Tensor t = e.getValue();
      if (t.elementType() != ElementType.FLOAT || t.elementCount() < 2) {
        continue;
      }
      byValue.computeIfAbsent(t, k -> new ArrayList<>()).add(e.getKey());
      if (t.rank() == 2) {
        byTranspose.computeIfAbsent(t.transposeMatrix(), k -> new ArrayList<>()).add(e.getKey());
      }
    }
    List<Entry> entries = new ArrayList<>();
    List<String> unmatched = new ArrayList<>();
    List<String> ambiguous = new ArrayList<>();
    Set<String> reached = new LinkedHashSet<>();
    for (Map.Entry<String, Tensor> e : target.entrySet()) {
      Tensor t = e.getValue();
      if (t.elementType() != ElementType.FLOAT || t.elementCount() < 2) {
        continue;
      }
      // equal values first, then an equal transpose; a trained source wins over a frozen copy
      // (an export may keep a tied matrix twice, once transposed, and the learner trains one)
      List<String> direct = byValue.getOrDefault(t, List.of());
      List<String> flipped =
          t.rank() == 2 ? byTranspose.getOrDefault(t, List.of()) : List.<String>of();
      if (direct.isEmpty() && flipped.isEmpty()) {
        unmatched.add(e.getKey());
        continue;
      }
      boolean directTrained = direct.stream().anyMatch(trained::contains);
      boolean flippedTrained = flipped.stream().anyMatch(trained::contains);
      boolean transposed = direct.isEmpty() || (!directTrained && flippedTrained);
      List<String> candidates = transposed ? flipped : direct;
      String best = pick(e.getKey(), candidates, trained);
      if (best == null) {
        ambiguous.add(e.getKey() + " " + candidates);
        continue;
      }
      boolean isTrained = trained.contains(best);
      entries.add(new Entry(e.getKey(), best, transposed, isTrained));
      if (isTrained) {
        reached.add(best);
      }
    }
    Checks.checkArgument(
        unmatched.isEmpty(),
        "Expected every weight of '%s' to match a weight of '%s' by shape and values, found no"
            + " match for %s",
        targetName,
        sourceName,
        listed(unmatched));
    Checks.checkArgument(
        ambiguous.isEmpty(),
        "Expected each weight of '%s' to match one trained weight of '%s', found several for %s",
        targetName,
        sourceName,
        listed(ambiguous));
    List<String> missing = new ArrayList<>();
    for (String name : trained) {
      Checks.checkArgument(
          source.containsKey(name), "Unknown trained parameter '%s' in '%s'", name, sourceName);
      if (!reached.contains(name)) {
        missing.add(name);
      }
    }
    Checks.checkArgument(
        missing.isEmpty(),
        "Expected every trained weight of '%s' in '%s', found no match for %s",
        sourceName,
        targetName,
        listed(missing));
    return new WeightMapping(entries);
  }

  /** The candidate with the longest common name suffix, trained first; null when tied. */
  private static String pick(String target, List<String> candidates, Set<String> trained) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    String best = null;
    int bestScore = -1;
    boolean tied = false;
    for (String c : candidates) {
      int score = commonSuffixParts(target, c) * 2 + (trained.contains(c) ? 1 : 0);
      if (score > bestScore) {
        best = c;
        bestScore = score;
        tied = false;
      } else if (score == bestScore) {
        tied = true;
      }
    }
    // equal values under equal names-scores: harmless when frozen (any copy will do)
    return tied && bestScore % 2 == 1 ? null : best;
  }

  private static int commonSuffixParts(String a, String b) {
    String[] x = a.split("[./:]");
    String[] y = b.split("[./:]");
    int n = 0;
    while (n < x.length && n < y.length && x[x.length - 1 - n].equals(y[y.length - 1 - n])) {
      n++;
    }
    return n;
  }

  private static String listed(List<String> names) {
    if (names.size() <= MAX_LISTED) {
      return names.toString();
    }
    return names.subList(0, MAX_LISTED) + " and " + (names.size() - MAX_LISTED) + " more";
  }

  /**
   * Returns the entries, in the sampling graph's initializer order.
   *
   * @return the entries
   */
  public List<Entry> entries() {
    return entries;
  }

  /**
   * Writes {@code weights} into {@code target}'s initializers.
   *
   * @param target a sampling graph (changed in place)
   * @param weights trained parameters by full-sequence graph name; every trained source present
   * @throws IllegalArgumentException when a trained parameter is missing or has another shape
   */
  public void apply(Graph target, Map<String, Tensor> weights) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(weights, "weights");
    for (Entry e : entries) {
      if (!e.trained()) {
        continue;
      }
      Tensor w = weights.get(e.source());
      Checks.checkArgument(w != null, "Expected trained parameter '%s', found none", e.source());
      target.replaceInitializer(e.target(), e.transposed() ? w.transposeMatrix() : w);
    }
  }

  /**
   * Returns the mapping as text, one line per sampling graph weight whose source has another name
   * or is transposed ({@code target <- source}, {@code (transposed)}, {@code (frozen)}).
   *
   * @return the lines; empty when every weight is matched by its own name
   */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    for (Entry e : entries) {
      if (!e.target().equals(e.source()) || e.transposed()) {
        lines.add(
            e.target()
                + " <- "
                + e.source()
                + (e.transposed() ? " (transposed)" : "")
                + (e.trained() ? "" : " (frozen)"));
      }
    }
    return lines;
  }
}
