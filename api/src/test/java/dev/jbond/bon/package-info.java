/**
 * Unit tests of the Best-of-N mathematics: Theorem 1 against exhaustive enumeration and seeded
 * Monte-Carlo sampling (with ties), composition, the continuous limit, the quantile estimator, and
 * input validation.
 */
package dev.jbond.bon;
