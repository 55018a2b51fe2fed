package dev.jbond.internal;

import java.util.Collection;

/**
 * Argument checks for the caller's mistakes (Guava {@code Preconditions} style): each formats its
 * message only when it fails. Our own invariant failures use {@link #verify(boolean, String,
 * Object...)}, which throws {@link dev.jbond.VerificationException} instead.
 */
@Internal
public final class Checks {
  private Checks() {}

  /**
   * Throws {@link IllegalArgumentException} with a formatted message when {@code condition} is
   * false.
   *
   * @param condition the condition that must hold
   * @param format a {@link String#format} pattern
   * @param args the pattern's arguments
   * @throws IllegalArgumentException when the condition is false
   */
  public static void checkArgument(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  /**
   * Throws {@link IllegalStateException} with a formatted message when {@code condition} is false.
   *
   * @param condition the condition that must hold
   * @param format a {@link String#format} pattern
   * @param args the pattern's arguments
   * @throws IllegalStateException when the condition is false
   */
  public static void checkState(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new IllegalStateException(String.format(format, args));
    }
  }

  /**
   * Throws {@link dev.jbond.VerificationException} when one of our own invariants is broken.
   *
   * @param condition the invariant
   * @param format a {@link String#format} pattern
   * @param args the pattern's arguments
   * @throws dev.jbond.VerificationException when the invariant does not hold
   */
  public static void verify(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new dev.jbond.VerificationException(String.format(format, args));
    }
  }

  /**
   * Returns {@code value} when it is neither NaN nor infinite.
   *
   * @param value the value to check
   * @param name what the value is, for the message
   * @return {@code value}
   * @throws IllegalArgumentException when {@code value} is NaN or infinite
   */
  public static double checkFinite(double value, String name) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("Expected a finite " + name + ", found " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} when it lies in {@code [lo, hi]}.
   *
   * @param value the value to check
   * @param lo the smallest allowed value
   * @param hi the largest allowed value
   * @param name what the value is, for the message
   * @return {@code value}
   * @throws IllegalArgumentException when {@code value} is outside the interval or NaN
   */
  public static double checkInRange(double value, double lo, double hi, String name) {
    if (!(value >= lo && value <= hi)) {
      throw new IllegalArgumentException(
          "Expected " + name + " in [" + lo + ", " + hi + "], found " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} when it is at least {@code min}.
   *
   * @param value the value to check
   * @param min the smallest allowed value
   * @param name what the value is, for the message
   * @return {@code value}
   * @throws IllegalArgumentException when {@code value < min}
   */
  public static int checkAtLeast(int value, int min, String name) {
    if (value < min) {
      throw new IllegalArgumentException("Expected " + name + " >= " + min + ", found " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} when it is non-negative and finite.
   *
   * @param value the value to check
   * @param name what the value is, for the message
   * @return {@code value}
   * @throws IllegalArgumentException when {@code value} is negative, NaN or infinite
   */
  public static double checkNonNegative(double value, String name) {
    if (!(value >= 0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("Expected a finite " + name + " >= 0, found " + value);
    }
    return value;
  }

  /**
   * Returns {@code values} when it is not empty.
   *
   * @param <C> the collection type
   * @param values the collection to check
   * @param name what the collection holds, for the message
   * @return {@code values}
   * @throws IllegalArgumentException when {@code values} is empty
   */
  public static <C extends Collection<?>> C checkNotEmpty(C values, String name) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("Expected at least one " + name + ", found none");
    }
    return values;
  }

  /**
   * Checks that two sizes agree.
   *
   * @param expected the size that is required
   * @param found the size that was given
   * @param what what is being counted, for the message
   * @throws IllegalArgumentException when the sizes differ
   */
  public static void checkSameLength(int expected, int found, String what) {
    if (expected != found) {
      throw new IllegalArgumentException("Expected " + expected + " " + what + ", found " + found);
    }
  }

  /**
   * Returns {@code reward} when it is finite.
   *
   * @param reward the reward of {@code generation}
   * @param generation the generation it scores, named in the message
   * @return {@code reward}
   * @throws IllegalArgumentException when the reward is NaN or infinite
   */
  public static double checkReward(double reward, dev.jbond.Generation generation) {
    if (!Double.isFinite(reward)) {
      throw new IllegalArgumentException(
          "Expected a finite reward, found "
              + reward
              + " for prompt '"
              + generation.prompt().id()
              + "' from "
              + generation.model());
    }
    return reward;
  }
}
