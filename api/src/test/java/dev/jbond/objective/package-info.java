/** Tests of the objectives' sequence weights against hand-computed values. */
package dev.jbond.objective;
