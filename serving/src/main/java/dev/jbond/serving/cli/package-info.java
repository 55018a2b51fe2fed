/** The {@code bond} command line (picocli): one subcommand per capability. */
package dev.jbond.serving.cli;
