/** Unit tests of the demo corpus generator, its sentiment lexicon and the JSON-lines files. */
package dev.jbond.models.demo;
