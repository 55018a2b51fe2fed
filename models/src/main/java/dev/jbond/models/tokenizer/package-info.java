/**
 * Tokenizers: the {@link dev.jbond.models.tokenizer.Tokenizer} contract, the byte-level {@link
 * dev.jbond.models.tokenizer.ByteTokenizer} of the demo, {@link
 * dev.jbond.models.tokenizer.HuggingFaceTokenizer} for Hugging Face {@code tokenizer.json} files
 * (every family the Hugging Face tokenizers library reads, run by that library), and {@link
 * dev.jbond.models.tokenizer.BytePairTrainer}, which learns a byte-level BPE vocabulary and writes
 * it in that format.
 */
package dev.jbond.models.tokenizer;
