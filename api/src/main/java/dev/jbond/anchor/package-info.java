/**
 * The EMA anchor of J-BOND: {@link dev.jbond.anchor.EmaAnchor} moves the anchor's weights toward
 * the policy's after every optimizer step.
 */
package dev.jbond.anchor;
