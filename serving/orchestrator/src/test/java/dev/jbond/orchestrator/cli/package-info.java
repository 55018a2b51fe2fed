/** Tests of the {@code bond} command line. */
package dev.jbond.orchestrator.cli;
