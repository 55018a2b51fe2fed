/** Unit tests of the internal helpers: the JSON writer and parser. */
package dev.jbond.internal;
