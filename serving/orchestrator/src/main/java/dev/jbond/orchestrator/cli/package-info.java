/**
 * The {@code bond} command line: a Micronaut application whose picocli subcommands ({@code demo},
 * {@code run}, {@code eval}, {@code export}, {@code report}, {@code sft}, {@code sample}, {@code
 * serve}, {@code assets}, {@code bench ...}) get their collaborators by constructor injection.
 */
package dev.jbond.orchestrator.cli;
