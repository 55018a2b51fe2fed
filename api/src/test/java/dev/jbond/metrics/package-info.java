/** Unit tests of the JSON-lines metrics writer and reader. */
package dev.jbond.metrics;
