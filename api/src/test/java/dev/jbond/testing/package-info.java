/** Shared test fixtures and assertions, published in the api test-jar for the other modules. */
package dev.jbond.testing;
