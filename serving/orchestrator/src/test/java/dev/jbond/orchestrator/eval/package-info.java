/** Tests of the evaluation maths and its files. */
package dev.jbond.orchestrator.eval;
