/**
 * Acceptance tests of the algorithm on the exact tabular backend: convergence of every objective to
 * its known optimum with exact gradients, and sampled J-BOND against the Best-of-N frontier.
 */
package dev.jbond.reference;
