/**
 * Run configuration: the {@link dev.jbond.orchestrator.config.RunConfig} records, bound strictly
 * from YAML or JSON with key-path errors and validated with Jakarta constraints.
 */
package dev.jbond.orchestrator.config;
