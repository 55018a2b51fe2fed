/**
 * Unit tests of the SPI's provider registry, and the provider fixtures that {@code
 * META-INF/services} in the test resources registers.
 */
package dev.jbond.spi;
