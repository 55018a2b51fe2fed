/**
 * A pure-Java tabular backend that proves the algorithm: for each prompt a finite set of possible
 * completions (one token each), a softmax policy over them with exact gradients, implementing the
 * whole SPI. It runs the J-BOND loop in milliseconds and lets every objective be checked against
 * exact answers (Best-of-N distributions, KL values, analytic optima). It also powers the tabular
 * demo.
 */
package dev.jbond.reference;
