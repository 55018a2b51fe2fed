package dev.jbond.orchestrator.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Times several calls side by side, as the benchmarks do: {@code warmup} untimed calls of each,
 * then {@code rounds} rounds that make every call once, round {@code r} starting at call {@code r
 * mod n}. Drift in the machine's load so falls on all calls alike, and each follows every other
 * equally often (ONNX Runtime's intra-op threads keep spinning for a moment after a run and slow
 * down whatever runs next).
 */
final class InterleavedRounds {
  private InterleavedRounds() {}

  /**
   * One of the calls compared.
   *
   * @param <T> what it returns
   */
  @FunctionalInterface
  interface Call<T> {
    /**
     * Makes the call.
     *
     * @param round 0 for warm-up calls, then {@code 1 .. rounds}
     * @return the result
     * @throws Exception when the call fails
     */
    T run(int round) throws Exception;
  }

  /**
   * One timed call.
   *
   * @param seconds its wall time
   * @param result what it returned
   * @param <T> the result type
   */
  record Timed<T>(double seconds, T result) {}

  /**
   * Times the calls.
   *
   * @param calls the calls, in a fixed order
   * @param warmup untimed calls of each first
   * @param rounds timed rounds
   * @return per call (in {@code calls} order), its timed calls in round order
   * @throws Exception when a call fails
   */
  static <T> List<List<Timed<T>>> time(List<? extends Call<T>> calls, int warmup, int rounds)
      throws Exception {
    int count = calls.size();
    List<List<Timed<T>>> out = new ArrayList<>(count);
    for (Call<T> call : calls) {
      for (int i = 0; i < warmup; i++) {
        call.run(0);
      }
      out.add(new ArrayList<>(rounds));
    }
    for (int r = 1; r <= rounds; r++) {
      for (int k = 0; k < count; k++) {
        int c = (r + k) % count;
        long start = System.nanoTime();
        T result = calls.get(c).run(r);
        out.get(c).add(new Timed<>((System.nanoTime() - start) / 1e9, result));
      }
    }
    return out;
  }
}
