/** Unit tests of the EMA anchor arithmetic. */
package dev.jbond.anchor;
