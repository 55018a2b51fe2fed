/**
 * Cross-module tests: the SPI conformance suite run against every backend, end-to-end runs of the
 * command line, and kill/resume of a training run.
 */
package dev.jbond.tests;
