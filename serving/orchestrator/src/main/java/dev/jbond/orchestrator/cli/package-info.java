/**
 * The {@code bond} command line (picocli): one subcommand per capability ({@code demo}, {@code
 * serve}).
 */
package dev.jbond.orchestrator.cli;
