package dev.jbond.models.tokenizer;

import dev.jbond.VerificationException;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A byte-level BPE vocabulary, as {@link BytePairTrainer} learns it, ready to be written as a
 * Hugging Face {@code tokenizer.json}.
 *
 * <p>Token {@code i} of {@link #tokens()} has id {@code i}; the special tokens follow, so special
 * token {@code j} has id {@code tokens().size() + j}. Tokens are written in the byte-level alphabet
 * (the printable bytes {@code !..~}, {@code ¡..¬} and {@code ®..ÿ} as themselves, the other 68
 * bytes in order as U+0100..U+0143, so a leading space is {@code Ġ}).
 *
 * @param tokens the ordinary tokens by id, unique and non-empty
 * @param merges the merge rules in rank order; both parts and their join are in {@code tokens}
 * @param specialTokens special tokens such as {@code <eos>}, unique, not in {@code tokens}
 * @param addPrefixSpace the {@code ByteLevel} pre-tokenizer's {@code add_prefix_space}
 */
public record BytePairVocabulary(
    List<String> tokens, List<Merge> merges, List<String> specialTokens, boolean addPrefixSpace) {
  /**
   * One merge rule: the adjacent tokens {@code left} and {@code right} become the token {@code left
   * + right}.
   *
   * @param left the left token
   * @param right the right token
   */
  public record Merge(String left, String right) {
    /**
     * Validates the components.
     *
     * @param left see the record description
     * @param right see the record description
     * @throws IllegalArgumentException when a token is empty
     */
    public Merge {
      Objects.requireNonNull(left, "left");
      Objects.requireNonNull(right, "right");
      Checks.checkArgument(
          !left.isEmpty() && !right.isEmpty(),
          "Expected non-empty merge tokens, found '%s' and '%s'",
          left,
          right);
    }
  }

  /**
   * Validates the components.
   *
   * @param tokens see the record description
   * @param merges see the record description
   * @param specialTokens see the record description
   * @param addPrefixSpace see the record description
   * @throws IllegalArgumentException when a token is empty or repeated, or a merge names a token
   *     that is not in {@code tokens}
   */
  public BytePairVocabulary {
    tokens = List.copyOf(tokens);
    merges = List.copyOf(merges);
    specialTokens = List.copyOf(specialTokens);
    Set<String> seen = new HashSet<>();
    for (String token : tokens) {
      Checks.checkArgument(!token.isEmpty(), "Expected non-empty tokens, found \"\"");
      Checks.checkArgument(seen.add(token), "Expected unique tokens, found '%s' twice", token);
    }
    for (int i = 0; i < merges.size(); i++) {
      Merge merge = merges.get(i);
      for (String part : List.of(merge.left(), merge.right(), merge.left() + merge.right())) {
        Checks.checkArgument(
            seen.contains(part),
            "Expected merge %d ('%s', '%s') to join tokens of the vocabulary, found '%s' missing",
            i,
            merge.left(),
            merge.right(),
            part);
      }
    }
    for (String special : specialTokens) {
      Checks.checkArgument(!special.isEmpty(), "Expected non-empty special tokens, found \"\"");
      Checks.checkArgument(
          !tokens.contains(special),
          "Expected special tokens apart from the ordinary tokens, found '%s' in both",
          special);
      Checks.checkArgument(
          seen.add(special), "Expected unique special tokens, found '%s' twice", special);
    }
  }

  /**
   * Returns the number of token ids: ordinary tokens plus special tokens.
   *
   * @return the vocabulary size
   */
  public int size() {
    return tokens.size() + specialTokens.size();
  }

  /**
   * Returns the vocabulary as the text of a Hugging Face {@code tokenizer.json}: model {@code BPE}
   * with {@code vocab} (special tokens included, as GPT-2 does) and {@code merges} in the array
   * form, pre-tokenizer, post-processor and decoder {@code ByteLevel}, and the special tokens as
   * {@code added_tokens}. One vocabulary entry and one merge per line, so that changes read well in
   * a diff.
   *
   * @return the JSON text, ending with a line break
   */
  public String toTokenizerJson() {
    StringBuilder out = new StringBuilder(64 * size());
    out.append("{\n");
    out.append("  \"version\": \"1.0\",\n");
    out.append("  \"truncation\": null,\n");
    out.append("  \"padding\": null,\n");
    out.append("  \"added_tokens\": [");
    for (int j = 0; j < specialTokens.size(); j++) {
      out.append(j == 0 ? "\n" : ",\n").append("    {\"id\": ").append(tokens.size() + j);
      out.append(", \"content\": ");
      Json.writeString(out, specialTokens.get(j));
      out.append(", \"single_word\": false, \"lstrip\": false, \"rstrip\": false,")
          .append(" \"normalized\": false, \"special\": true}");
    }
    out.append(specialTokens.isEmpty() ? "],\n" : "\n  ],\n");
    out.append("  \"normalizer\": null,\n");
    out.append("  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": ")
        .append(addPrefixSpace)
        .append(", \"trim_offsets\": true, \"use_regex\": true},\n");
    out.append("  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true,")
        .append(" \"trim_offsets\": false, \"use_regex\": true},\n");
    out.append("  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true,")
        .append(" \"trim_offsets\": true, \"use_regex\": true},\n");
    out.append("  \"model\": {\n");
    out.append("    \"type\": \"BPE\",\n");
    out.append("    \"dropout\": null,\n");
    out.append("    \"unk_token\": null,\n");
    out.append("    \"continuing_subword_prefix\": null,\n");
    out.append("    \"end_of_word_suffix\": null,\n");
    out.append("    \"fuse_unk\": false,\n");
    out.append("    \"byte_fallback\": false,\n");
    out.append("    \"ignore_merges\": false,\n");
    out.append("    \"vocab\": {");
    int id = 0;
    for (String token : tokens) {
      out.append(id == 0 ? "\n      " : ",\n      ");
      Json.writeString(out, token);
      out.append(": ").append(id++);
    }
    for (String special : specialTokens) {
      out.append(id == 0 ? "\n      " : ",\n      ");
      Json.writeString(out, special);
      out.append(": ").append(id++);
    }
    out.append("\n    },\n");
    out.append("    \"merges\": [");
    for (int i = 0; i < merges.size(); i++) {
      out.append(i == 0 ? "\n      [" : ",\n      [");
      Json.writeString(out, merges.get(i).left());
      out.append(", ");
      Json.writeString(out, merges.get(i).right());
      out.append(']');
    }
    out.append(merges.isEmpty() ? "]\n" : "\n    ]\n");
    out.append("  }\n");
    out.append("}\n");
    return out.toString();
  }

  /**
   * Writes {@link #toTokenizerJson()} to {@code file} in UTF-8, replacing it.
   *
   * @param file the target, conventionally named {@code tokenizer.json}
   * @throws IOException when the file cannot be written
   */
  public void write(Path file) throws IOException {
    Files.writeString(file, toTokenizerJson(), StandardCharsets.UTF_8);
  }

  /**
   * Returns the tokenizer of this vocabulary, as {@link HuggingFaceTokenizer#parse} reads {@link
   * #toTokenizerJson()}.
   *
   * @param name the tokenizer's name
   * @return the tokenizer
   */
  public HuggingFaceTokenizer toTokenizer(String name) {
    try {
      return HuggingFaceTokenizer.parse(toTokenizerJson(), name);
    } catch (TokenizerFormatException e) {
      throw new VerificationException(
          "Expected the written tokenizer.json to load, found: " + e.getMessage());
    }
  }
}
