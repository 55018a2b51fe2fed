package dev.jbond.models.chat;

import java.util.Objects;

/**
 * One turn of a conversation, as a chat template sees it: a map with {@code role} and {@code
 * content}.
 *
 * @param role who speaks, for example {@code system}, {@code user} or {@code assistant}; templates
 *     decide which roles they accept
 * @param content the text of the turn, possibly empty
 */
public record ChatMessage(String role, String content) {
  /**
   * Creates the message.
   *
   * @throws NullPointerException when {@code role} or {@code content} is null
   */
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }
}
