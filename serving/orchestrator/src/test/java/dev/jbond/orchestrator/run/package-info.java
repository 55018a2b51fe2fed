/** Tests of the run engine's parts. */
package dev.jbond.orchestrator.run;
