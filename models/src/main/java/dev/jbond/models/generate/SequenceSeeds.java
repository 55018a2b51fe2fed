package dev.jbond.models.generate;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The seed of each sampled sequence, derived from the request seed, the prompt id and the sample
 * index alone, so that a sequence does not depend on which other rows share its batch.
 *
 * <p>With {@code f} the SplitMix64 finaliser (Steele, Lea and Flood, "Fast Splittable Pseudorandom
 * Number Generators", 2014; the mixer of {@link SplittableRandom}) and {@code h} the 64-bit FNV-1a
 * hash of the prompt id's UTF-8 bytes:
 *
 * <pre>
 *   seed(s, id, j) = f(f(f(s + G) ^ h(id)) + (j + 1) G),   G = 0x9E3779B97F4A7C15
 * </pre>
 *
 * The function is part of jbond's reproducibility contract: it does not change between versions.
 */
public final class SequenceSeeds {
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private static final long FNV_OFFSET = 0xCBF29CE484222325L;
  private static final long FNV_PRIME = 0x100000001B3L;

  private SequenceSeeds() {}

  /**
   * Returns the seed of sample {@code sample} of prompt {@code promptId} in a request seeded with
   * {@code requestSeed}.
   *
   * @param requestSeed the request seed
   * @param promptId the prompt id
   * @param sample the sample index, {@code >= 0}
   * @return the sequence seed
   */
  public static long seed(long requestSeed, String promptId, int sample) {
    Objects.requireNonNull(promptId, "promptId");
    long h = FNV_OFFSET;
    for (byte b : promptId.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xFF)) * FNV_PRIME;
    }
    long mixed = mix(mix(requestSeed + GOLDEN_GAMMA) ^ h);
    return mix(mixed + (sample + 1L) * GOLDEN_GAMMA);
  }

  /**
   * Returns the random generator of one sequence: a {@link SplittableRandom} seeded with {@link
   * #seed}.
   *
   * @param requestSeed the request seed
   * @param promptId the prompt id
   * @param sample the sample index, {@code >= 0}
   * @return a new generator
   */
  public static SplittableRandom random(long requestSeed, String promptId, int sample) {
    return new SplittableRandom(seed(requestSeed, promptId, sample));
  }

  /** SplitMix64's finaliser (Stafford's variant 13). */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
