package dev.jbond.anchor;

import dev.jbond.internal.Checks;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * The exponential-moving-average (EMA) anchor of J-BOND: after each optimizer step the anchor's
 * weights move a fraction {@code eta} of the way toward the policy's weights,
 *
 * <pre>
 *   theta_anchor &lt;- (1 - eta) * theta_anchor + eta * theta_policy
 * </pre>
 *
 * <p>(Sessa et al., "BOND: Aligning LLMs with Best-of-N Distillation", ICLR 2025, Eq. 18; the EMA
 * anchor follows WARP, Ram&eacute; et al., 2024). Symbols: {@code theta_anchor} are the anchor's
 * parameters, {@code theta_policy} the policy's parameters after the step, and {@code eta} in
 * {@code [0, 1]} the EMA rate. {@code eta = 1} is a hard refresh of the anchor (an exact copy of
 * the policy), {@code eta = 0} keeps the anchor fixed (its bits are left unchanged). The paper's
 * default {@code eta = 0.02} (Fig. 5) behaves like a hard refresh every ~50 steps, with lower KL
 * drift. After {@code t} updates toward a fixed policy the anchor's distance to it has shrunk by
 * the factor {@code (1 - eta)^t}.
 *
 * <p>The update works element-wise over flat parameter buffers: {@code float[]}, {@code double[]}
 * (the tabular reference backend) and {@link FloatBuffer} (direct buffers shared with native
 * engines). Each element is computed in {@code double} as {@code a + eta * (p - a)}, algebraically
 * the rule above, and rounded once to the buffer's precision; NaN and infinities propagate as IEEE
 * arithmetic says. The anchor and policy ranges must not overlap unless they are the same range.
 *
 * <p>Lifecycle: create one instance per run with the run's {@code eta}; after each optimizer step,
 * call {@code update} once for every parameter buffer of the anchor with the matching buffer of the
 * policy; then publish the anchor. The instance holds only its configuration, so it is immutable
 * and thread-safe; {@link #copy()} returns an instance with the same {@code eta}.
 */
public final class EmaAnchor {
  /** The default EMA rate, {@value}: the paper's value (Sessa et al., ICLR 2025, Fig. 5). */
  public static final double DEFAULT_ETA = 0.02;

  private final double eta;

  /** Creates an anchor update with the default rate {@link #DEFAULT_ETA}. */
  public EmaAnchor() {
    this(DEFAULT_ETA);
  }

  /**
   * Creates an anchor update with rate {@code eta}.
   *
   * @param eta the EMA rate in {@code [0, 1]}
   * @throws IllegalArgumentException when {@code eta} is outside {@code [0, 1]} or NaN
   */
  public EmaAnchor(double eta) {
    this.eta = Checks.checkInRange(eta, 0.0, 1.0, "eta");
  }

  /**
   * Returns the EMA rate.
   *
   * @return {@code eta}
   */
  public double eta() {
    return eta;
  }

  /**
   * Returns a new instance with the same configuration.
   *
   * @return a copy
   */
  public EmaAnchor copy() {
    return new EmaAnchor(eta);
  }

  /**
   * Moves every element of {@code anchor} toward the matching element of {@code policy}.
   *
   * @param anchor the anchor parameters, updated in place
   * @param policy the policy parameters, not modified
   * @throws IllegalArgumentException when the lengths differ
   */
  public void update(float[] anchor, float[] policy) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Checks.checkSameLength(anchor.length, policy.length, "policy parameters");
    updateRange(anchor, 0, policy, 0, anchor.length);
  }

  /**
   * Moves {@code anchor[anchorOffset .. anchorOffset + length)} toward {@code policy[policyOffset
   * .. policyOffset + length)}.
   *
   * @param anchor the anchor parameters, updated in place
   * @param anchorOffset the first anchor element
   * @param policy the policy parameters, not modified
   * @param policyOffset the first policy element
   * @param length the number of elements, {@code >= 0}
   * @throws IndexOutOfBoundsException when a range does not fit its array
   */
  public void update(
      float[] anchor, int anchorOffset, float[] policy, int policyOffset, int length) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Objects.checkFromIndexSize(anchorOffset, length, anchor.length);
    Objects.checkFromIndexSize(policyOffset, length, policy.length);
    updateRange(anchor, anchorOffset, policy, policyOffset, length);
  }

  /**
   * Moves every element of {@code anchor} toward the matching element of {@code policy}.
   *
   * @param anchor the anchor parameters, updated in place
   * @param policy the policy parameters, not modified
   * @throws IllegalArgumentException when the lengths differ
   */
  public void update(double[] anchor, double[] policy) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Checks.checkSameLength(anchor.length, policy.length, "policy parameters");
    updateRange(anchor, 0, policy, 0, anchor.length);
  }

  /**
   * Moves {@code anchor[anchorOffset .. anchorOffset + length)} toward {@code policy[policyOffset
   * .. policyOffset + length)}.
   *
   * @param anchor the anchor parameters, updated in place
   * @param anchorOffset the first anchor element
   * @param policy the policy parameters, not modified
   * @param policyOffset the first policy element
   * @param length the number of elements, {@code >= 0}
   * @throws IndexOutOfBoundsException when a range does not fit its array
   */
  public void update(
      double[] anchor, int anchorOffset, double[] policy, int policyOffset, int length) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Objects.checkFromIndexSize(anchorOffset, length, anchor.length);
    Objects.checkFromIndexSize(policyOffset, length, policy.length);
    updateRange(anchor, anchorOffset, policy, policyOffset, length);
  }

  /**
   * Moves the remaining elements of {@code anchor} (from its position to its limit) toward the
   * remaining elements of {@code policy}. Both buffers are accessed by absolute index: positions,
   * limits and marks are left unchanged.
   *
   * @param anchor the anchor parameters, writable, updated in place
   * @param policy the policy parameters, not modified
   * @throws IllegalArgumentException when the remaining counts differ or {@code anchor} is
   *     read-only
   */
  public void update(FloatBuffer anchor, FloatBuffer policy) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Checks.checkSameLength(anchor.remaining(), policy.remaining(), "remaining policy parameters");
    update(anchor, anchor.position(), policy, policy.position(), anchor.remaining());
  }

  /**
   * Moves the anchor elements at absolute indices {@code [anchorIndex, anchorIndex + length)}
   * toward the policy elements at {@code [policyIndex, policyIndex + length)}. Positions, limits
   * and marks are left unchanged.
   *
   * @param anchor the anchor parameters, writable, updated in place
   * @param anchorIndex the first anchor element (absolute index)
   * @param policy the policy parameters, not modified
   * @param policyIndex the first policy element (absolute index)
   * @param length the number of elements, {@code >= 0}
   * @throws IllegalArgumentException when {@code anchor} is read-only
   * @throws IndexOutOfBoundsException when a range does not fit below its buffer's limit
   */
  public void update(
      FloatBuffer anchor, int anchorIndex, FloatBuffer policy, int policyIndex, int length) {
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(policy, "policy");
    Checks.checkArgument(
        !anchor.isReadOnly(), "Expected a writable anchor buffer, found a read-only one");
    Objects.checkFromIndexSize(anchorIndex, length, anchor.limit());
    Objects.checkFromIndexSize(policyIndex, length, policy.limit());
    if (eta == 0.0 || length == 0) {
      return;
    }
    if (eta == 1.0) {
      anchor.put(anchorIndex, policy, policyIndex, length);
      return;
    }
    for (int i = 0; i < length; i++) {
      double a = anchor.get(anchorIndex + i);
      double p = policy.get(policyIndex + i);
      anchor.put(anchorIndex + i, (float) (a + eta * (p - a)));
    }
  }

  private void updateRange(
      float[] anchor, int anchorOffset, float[] policy, int policyOffset, int length) {
    if (eta == 0.0) {
      return;
    }
    if (eta == 1.0) {
      System.arraycopy(policy, policyOffset, anchor, anchorOffset, length);
      return;
    }
    for (int i = 0; i < length; i++) {
      double a = anchor[anchorOffset + i];
      double p = policy[policyOffset + i];
      anchor[anchorOffset + i] = (float) (a + eta * (p - a));
    }
  }

  private void updateRange(
      double[] anchor, int anchorOffset, double[] policy, int policyOffset, int length) {
    if (eta == 0.0) {
      return;
    }
    if (eta == 1.0) {
      System.arraycopy(policy, policyOffset, anchor, anchorOffset, length);
      return;
    }
    for (int i = 0; i < length; i++) {
      double a = anchor[anchorOffset + i];
      anchor[anchorOffset + i] = a + eta * (policy[policyOffset + i] - a);
    }
  }

  @Override
  public String toString() {
    return "EmaAnchor[eta=" + eta + "]";
  }
}
