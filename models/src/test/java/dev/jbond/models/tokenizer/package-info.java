/**
 * Unit tests of the tokenizers; {@link dev.jbond.models.tokenizer.TokenizerFixtures}, which makes
 * the committed test {@code tokenizer.json} from the committed training text; and {@link
 * dev.jbond.models.tokenizer.TokenizerFamilies}, which makes the test tokenizers of the common
 * {@code tokenizer.json} families (their reference encodings come from the tools in {@code
 * src/test/oracle}).
 */
package dev.jbond.models.tokenizer;
