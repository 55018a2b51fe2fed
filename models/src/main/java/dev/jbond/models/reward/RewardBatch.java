package dev.jbond.models.reward;

import dev.jbond.Generation;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * What a reward model reads for a chunk of generations: {@code prompt ++ completion} of each, as
 * INT64 {@code [rows, width]} token ids right-padded with the pad id to the longest, and the
 * attention mask (1 on real tokens, 0 on padding). Shared by the in-process and the Triton-served
 * reward models.
 *
 * @param ids the token ids, row-major
 * @param mask the attention mask, row-major
 * @param rows the generations
 * @param width the longest sequence
 */
public record RewardBatch(long[] ids, long[] mask, int rows, int width) {
  /**
   * Returns the shape {@code [rows, width]}.
   *
   * @return the shape
   */
  public long[] shape() {
    return new long[] {rows, width};
  }

  /**
   * Lays out a chunk of generations.
   *
   * @param chunk the generations, not empty
   * @param offset the index of the chunk's first generation in the call, for messages
   * @param padTokenId the id that pads rows to the longest
   * @param vocabularySize when present, every token must lie below it
   * @return the batch
   * @throws IllegalArgumentException when a sequence is empty or holds a token outside the
   *     vocabulary
   */
  public static RewardBatch of(
      List<Generation> chunk, int offset, int padTokenId, OptionalInt vocabularySize) {
    int rows = chunk.size();
    int[][] sequences = new int[rows][];
    int width = 0;
    for (int r = 0; r < rows; r++) {
      Generation g = chunk.get(r);
      TokenSequence full = g.fullSequence();
      Checks.checkArgument(
          full.length() > 0,
          "Expected a non-empty prompt ++ completion for generation %d (prompt '%s'), found none",
          offset + r,
          g.prompt().id());
      if (vocabularySize.isPresent()) {
        full.checkVocabulary(
            vocabularySize.getAsInt(),
            "generation " + (offset + r) + " (prompt '" + g.prompt().id() + "')");
      }
      sequences[r] = full.toArray();
      width = Math.max(width, sequences[r].length);
    }
    long[] ids = new long[rows * width];
    long[] mask = new long[rows * width];
    Arrays.fill(ids, padTokenId);
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < sequences[r].length; t++) {
        ids[r * width + t] = sequences[r][t];
        mask[r * width + t] = 1;
      }
    }
    return new RewardBatch(ids, mask, rows, width);
  }
}
