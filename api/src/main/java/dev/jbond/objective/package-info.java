/**
 * Training objectives as sequence weights.
 *
 * <p>Every objective of this package reduces to one loss, {@code sum_s w_s * log pi(s | x_s)}, with
 * the weights {@code w_s} computed here, outside autodiff (stop-gradient): the forward KL term is
 * supervised fine-tuning on a Best-of-N sample, the backward KL term is a policy-gradient
 * (REINFORCE) term, the anchor regulariser is a score-function term. The learner then only needs
 * sequence log-probabilities and one optimizer step; a new objective never touches it.
 *
 * <p>Objectives: {@link dev.jbond.objective.Jbond} (the paper's practical algorithm and the
 * default), {@link dev.jbond.objective.Bond} (BOND for a fixed N with Monte-Carlo quantiles),
 * {@link dev.jbond.objective.IterativeBond} (Best-of-n of a moving anchor), and {@link
 * dev.jbond.objective.Reinforce} (the paper's baseline). Source: Sessa et al., "BOND: Aligning LLMs
 * with Best-of-N Distillation", arXiv 2407.14622 (ICLR 2025).
 */
package dev.jbond.objective;
