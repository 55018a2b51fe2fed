package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.Generation;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TokenBatchTest {
  private static Generation seq(String id, int promptLength, int completionLength) {
    return TinyPolicies.generation(id, new int[promptLength], new int[completionLength]);
  }

  @Test
  void plan_sortsLongestFirstAndFillsRunsUpToTheTokenBudget() {
    List<TokenBatch.Row> rows =
        TokenBatch.rows(
            List.of(seq("a", 1, 2), seq("b", 3, 5), seq("c", 1, 1), seq("d", 2, 6)),
            8,
            OptionalInt.empty());

    List<TokenBatch.Run> runs = TokenBatch.plan(rows, 16);

    // fed lengths: a 2, b 7, c 1, d 7; sorted b, d, a, c (ties in input order)
    assertEquals(2, runs.size());
    assertEquals(List.of(1, 3), runs.get(0).rows().stream().map(TokenBatch.Row::index).toList());
    assertEquals(7, runs.get(0).steps());
    assertEquals(List.of(0, 2), runs.get(1).rows().stream().map(TokenBatch.Row::index).toList());
    assertEquals(2, runs.get(1).steps());
  }

  @Test
  void plan_rowLongerThanTheBudget_runsAlone() {
    List<TokenBatch.Row> rows =
        TokenBatch.rows(List.of(seq("a", 1, 9), seq("b", 1, 1)), 8, OptionalInt.empty());

    List<TokenBatch.Run> runs = TokenBatch.plan(rows, 4);

    assertEquals(2, runs.size());
    assertEquals(9, runs.get(0).steps());
    assertEquals(1, runs.get(1).rows().size());
  }
}
