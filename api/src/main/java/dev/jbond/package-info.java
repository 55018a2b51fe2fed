/**
 * jbond's value types: prompts, token sequences, generations, scored generations, model versions,
 * the three policy roles, and the exceptions every module shares.
 *
 * <p>J-BOND is Best-of-N distillation (Sessa et al., "BOND: Aligning LLMs with Best-of-N
 * Distillation", ICLR 2025). Sub-packages: {@code bon} (Best-of-N mathematics), {@code objective}
 * (J-BOND, BOND, iterative BOND, REINFORCE as sequence weights), {@code anchor} (EMA anchor),
 * {@code loop} (the training loop), {@code metrics}, {@code checkpoint}, {@code spi} (backend
 * contracts) and {@code reference} (an exact tabular backend).
 */
package dev.jbond;
