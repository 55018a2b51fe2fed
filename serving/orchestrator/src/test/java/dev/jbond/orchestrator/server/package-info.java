/** Tests of {@code bond server}: the runs API, tokens, allowed paths, metrics and recovery. */
package dev.jbond.orchestrator.server;
