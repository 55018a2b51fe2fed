package dev.jbond.bon;

/**
 * How Best-of-N sampling chooses among draws that share the highest reward.
 *
 * <p>Symbols: {@code pi} is the base (reference) distribution over outcomes {@code y}, {@code r(y)}
 * the reward, {@code N} the number of draws. For a set {@code G} of outcomes with one common reward
 * {@code r_G}, write {@code P_<(G) = P[r(y') < r_G]}, {@code P_<=(G) = P[r(y') <= r_G]} and {@code
 * pi(G) = P_<=(G) - P_<(G)} for {@code y' ~ pi}.
 *
 * <p>The two rules agree whenever all outcomes have distinct rewards, and they never change the
 * distribution of the winning <em>reward</em>; they only decide which of several tied outcomes
 * wins.
 */
public enum TieBreak {
  /**
   * The first drawn of the tied best draws wins (the project's default, specification section 1).
   *
   * <p>The best reward equals {@code r_G} with probability {@code P_<=(G)^N - P_<(G)^N}, and given
   * that, the winner is the first draw that landed in {@code G}, which is {@code y} with
   * probability {@code pi(y) / pi(G)}. Hence
   *
   * <pre>{@code
   * pi_BoN(y) = pi(y) / pi(G) * (P_<=(G)^N - P_<(G)^N)
   *           = pi(y) * P_<=(G)^(N-1) * C_N(P_<(G), P_<=(G))
   * }</pre>
   *
   * <p>which is Theorem 1 of Sessa et al. (2024) evaluated with the quantiles {@code p_<(y)},
   * {@code p_<=(y)} defined by reward value, exactly as the specification writes them.
   */
  FIRST_DRAWN,

  /**
   * A fixed strict order decides: among equal rewards the outcome with the larger index counts as
   * better (footnote 1 of Sessa et al. 2024).
   *
   * <p>With {@code p_<(y)} the probability that a draw ranks strictly below {@code y} in this order
   * and {@code p_<=(y) = p_<(y) + pi(y)}, Theorem 1 applies exactly:
   *
   * <pre>{@code
   * pi_BoN(y) = pi(y) * p_<=(y)^(N-1) * C_N(p_<(y), p_<=(y))
   * }</pre>
   */
  INDEX_ORDER
}
