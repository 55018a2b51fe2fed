/**
 * Evaluation against the reference on held-out prompts: reward quantile, KL, the Best-of-N
 * equivalent and its frontier KL.
 */
package dev.jbond.orchestrator.eval;
