/**
 * Unit tests of the tokenizers, and {@link dev.jbond.models.tokenizer.TokenizerFixtures}, which
 * makes the committed test {@code tokenizer.json} from the committed training text.
 */
package dev.jbond.models.tokenizer;
