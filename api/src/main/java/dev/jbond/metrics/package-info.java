/**
 * Per-step training metrics and their JSON-lines writer and reader. One object per step; the field
 * names are stable and documented in README.md.
 */
package dev.jbond.metrics;
