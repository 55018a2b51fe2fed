/** Unit tests of the file checkpoint store: round trips, retention, atomicity, corruption. */
package dev.jbond.checkpoint;
