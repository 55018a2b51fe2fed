package dev.jbond.onnx.train;

import dev.jbond.Generation;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;

/**
 * Token sequences checked against the model and planned into runs.
 *
 * <p>Sequence {@code s = prompt ++ completion} of length {@code L = p + c} is fed as {@code s[0 ..
 * L-2]}: position {@code t} predicts {@code s[t+1]}, which counts when it is a completion token
 * ({@code t + 1 >= p}). Rows are right-padded to the longest row of their run with token 0, mask 0
 * and target 0. Runs are formed over the sequences sorted by length (longest first, ties in input
 * order), each holding as many rows as fit {@code rows * (longest - 1) <= maxTokens} (at least
 * one).
 */
final class TokenBatch {
  /** One checked sequence: its index in the caller's list, its tokens and prompt length. */
  record Row(int index, TokenSequence tokens, int promptLength) {
    int fedLength() {
      return tokens.length() - 1;
    }
  }

  /** One run: rows in feed order, padded to {@code steps} positions. */
  record Run(List<Row> rows, int steps) {
    Run {
      rows = List.copyOf(rows);
    }
  }

  private TokenBatch() {}

  /**
   * Checks each generation: a prompt and a completion of at least one token each, token ids in
   * {@code [0, V)}, and at most {@code context + 1} tokens when the context is known.
   */
  static List<Row> rows(List<Generation> generations, int vocabulary, OptionalInt context) {
    List<Row> rows = new ArrayList<>(generations.size());
    for (int i = 0; i < generations.size(); i++) {
      Generation g = generations.get(i);
      String prompt = g.prompt().id();
      int p = g.prompt().tokens().length();
      Checks.checkArgument(
          p >= 1,
          "Expected at least one prompt token to condition on in sequence %d (prompt '%s'),"
              + " found none",
          i,
          prompt);
      Checks.checkArgument(
          g.completion().length() >= 1,
          "Expected at least one completion token in sequence %d (prompt '%s'), found none",
          i,
          prompt);
      TokenSequence tokens = g.fullSequence();
      for (int t = 0; t < tokens.length(); t++) {
        int id = tokens.get(t);
        if (id < 0 || id >= vocabulary) {
          throw new IllegalArgumentException(
              "Expected token ids in [0, "
                  + vocabulary
                  + "), found "
                  + id
                  + " at position "
                  + t
                  + " of sequence "
                  + i
                  + " (prompt '"
                  + prompt
                  + "')");
        }
      }
      if (context.isPresent()) {
        int max = context.getAsInt() + 1;
        Checks.checkArgument(
            tokens.length() <= max,
            "Expected at most %d tokens (prompt + completion) for a context of %d positions,"
                + " found %d in sequence %d (prompt '%s')",
            max,
            context.getAsInt(),
            tokens.length(),
            i,
            prompt);
      }
      rows.add(new Row(i, tokens, p));
    }
    return rows;
  }

  /** Plans runs of at most {@code maxTokens} padded positions each (one long row may exceed it). */
  static List<Run> plan(List<Row> rows, int maxTokens) {
    List<Row> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparingInt(Row::fedLength).reversed());
    List<Run> runs = new ArrayList<>();
    List<Row> current = new ArrayList<>();
    int steps = 0;
    for (Row row : sorted) {
      if (current.isEmpty()) {
        steps = row.fedLength();
      } else if ((long) (current.size() + 1) * steps > maxTokens) {
        runs.add(new Run(current, steps));
        current = new ArrayList<>();
        steps = row.fedLength();
      }
      current.add(row);
    }
    runs.add(new Run(current, steps));
    return runs;
  }
}
