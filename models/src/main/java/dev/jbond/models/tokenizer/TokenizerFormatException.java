package dev.jbond.models.tokenizer;

import java.io.IOException;

/**
 * A tokenizer file that cannot be used: it is not valid JSON, lacks a required field, or asks for a
 * model, pre-tokenizer or decoder that jbond does not support. The message names the file, and for
 * a parse error the character position.
 */
public final class TokenizerFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was expected and what was found, one line
   */
  public TokenizerFormatException(String message) {
    super(message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what was expected and what was found, one line
   * @param cause the underlying failure
   */
  public TokenizerFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
