/**
 * {@code bond server}: the run service. A Micronaut HTTP server (Netty) that takes run
 * configurations over HTTP, runs them one at a time (or as many as configured) with the same engine
 * and folder layout as {@code bond run}, streams their metrics as server-sent events, exposes
 * Prometheus metrics and health, guards everything but {@code /health} with a bearer token when one
 * is configured, and serves a live dashboard page.
 */
package dev.jbond.orchestrator.server;
