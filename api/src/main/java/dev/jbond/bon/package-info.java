/**
 * Best-of-N mathematics: the exact Best-of-N distribution of a finite reference distribution (Sessa
 * et al. 2024, arXiv 2407.14622, Theorem 1), its reward quantiles, KL divergences and sampling
 * ({@link dev.jbond.bon.BestOfN}, with tie rules in {@link dev.jbond.bon.TieBreak}), the closed
 * forms of the continuous, collision-free case ({@link dev.jbond.bon.ContinuousBestOfN}), and the
 * Monte-Carlo quantile estimator that BOND's reward {@code log p_<=(y)} uses ({@link
 * dev.jbond.bon.QuantileEstimator}).
 *
 * <p>Everything here is pure JDK arithmetic on small arrays; randomness is always injected as a
 * {@link java.util.random.RandomGenerator}.
 */
package dev.jbond.bon;
