/** Tests of run configuration binding and validation. */
package dev.jbond.orchestrator.config;
