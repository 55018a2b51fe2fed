package dev.jbond;

/**
 * The three weight sets of a J-BOND run. The policy is trained; the anchor follows it by an
 * exponential moving average (or hard refreshes); the reference is the frozen starting point, used
 * only for reporting KL(pi || pi_ref) and by the objectives that regularise toward it.
 */
public enum PolicyRole {
  /** The policy being trained, pi_t. */
  POLICY,
  /** The anchor policy, pi_anchor_t. */
  ANCHOR,
  /** The frozen reference (SFT) policy, pi_ref. */
  REFERENCE;

  /**
   * Returns the lower-case name used in files and metrics.
   *
   * @return the name, e.g. {@code "policy"}
   */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
