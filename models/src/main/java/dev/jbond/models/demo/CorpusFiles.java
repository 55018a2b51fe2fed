package dev.jbond.models.demo;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.chat.ChatMessage;
import dev.jbond.models.chat.ChatTemplate;
import dev.jbond.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Writes and reads the demo's data files as JSON lines (one JSON object per line, UTF-8, each line
 * ending with {@code \n}).
 *
 * <ul>
 *   <li>Examples (the corpus, for supervised training): {@code {"prompt": [ids], "completion":
 *       [ids]}}. The prompt and the completion are encoded separately, and the completion's ids end
 *       with the tokenizer's EOS id, so a model learns to stop after the {@code "."} or {@code "!"}
 *       that ends every {@link SyntheticCorpus} review.
 *   <li>Prompts (for J-BOND): {@code {"id": "p0000", "prompt": [ids], "text": "The soup was"}}, ids
 *       {@code "p"} and the 0-based line index with at least four digits; no EOS. When reading, a
 *       prompt may also be text, or a chat ({@code "messages"}) rendered with the policy's chat
 *       template (see {@link #readPrompts(Path, Optional, Optional)}).
 * </ul>
 *
 * <p>Writers replace the target file atomically (they write a temporary file next to it and move it
 * into place). Readers name the file and the 1-based line of a problem.
 */
public final class CorpusFiles {
  private CorpusFiles() {}

  /**
   * Returns the JSON line of one example, without the line break.
   *
   * @param example the example
   * @param tokenizer encodes the prompt and the completion; must have an EOS token
   * @return {@code {"prompt": [ids], "completion": [ids..., eos]}}
   * @throws IllegalArgumentException when the tokenizer has no EOS token
   */
  public static String exampleLine(Example example, Tokenizer tokenizer) {
    Objects.requireNonNull(example, "example");
    int eos = eos(tokenizer);
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("prompt", tokenizer.encode(example.prompt()).toList());
    line.put(
        "completion",
        tokenizer.encode(example.completion()).concat(TokenSequence.of(eos)).toList());
    return Json.write(line);
  }

  /**
   * Returns the JSON line of one prompt, without the line break.
   *
   * @param id the prompt's id, not empty
   * @param prompt the prompt's text
   * @param tokenizer encodes the prompt
   * @return {@code {"id": id, "prompt": [ids], "text": prompt}}
   * @throws IllegalArgumentException when {@code id} is empty
   */
  public static String promptLine(String id, String prompt, Tokenizer tokenizer) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(prompt, "prompt");
    Checks.checkArgument(!id.isEmpty(), "Expected a non-empty prompt id, found \"\"");
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("id", id);
    line.put("prompt", tokenizer.encode(prompt).toList());
    line.put("text", prompt);
    return Json.write(line);
  }

  /**
   * Returns the id that {@link #writePrompts} gives the prompt at {@code index}.
   *
   * @param index the 0-based index, {@code >= 0}
   * @return {@code "p"} and the index with at least four digits, for example {@code p0042}
   * @throws IllegalArgumentException when {@code index < 0}
   */
  public static String promptId(int index) {
    Checks.checkAtLeast(index, 0, "prompt index");
    return String.format("p%04d", index);
  }

  /**
   * Writes {@code examples} as JSON lines (see {@link #exampleLine}).
   *
   * @param file the target, replaced
   * @param examples the examples
   * @param tokenizer encodes them; must have an EOS token
   * @throws IOException when the file cannot be written
   * @throws IllegalArgumentException when the tokenizer has no EOS token
   */
  public static void writeExamples(Path file, List<Example> examples, Tokenizer tokenizer)
      throws IOException {
    eos(tokenizer);
    StringBuilder out = new StringBuilder();
    for (Example example : examples) {
      out.append(exampleLine(example, tokenizer)).append('\n');
    }
    writeAtomically(file, out.toString());
  }

  /**
   * Writes {@code prompts} as JSON lines with ids {@link #promptId}{@code (0)}, {@code
   * promptId(1)}, ... (see {@link #promptLine}).
   *
   * @param file the target, replaced
   * @param prompts the prompts' texts
   * @param tokenizer encodes them
   * @throws IOException when the file cannot be written
   */
  public static void writePrompts(Path file, List<String> prompts, Tokenizer tokenizer)
      throws IOException {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < prompts.size(); i++) {
      out.append(promptLine(promptId(i), prompts.get(i), tokenizer)).append('\n');
    }
    writeAtomically(file, out.toString());
  }

  /**
   * Reads a prompts file.
   *
   * @param file a file of {@code {"id": ..., "prompt": [ids], ...}} lines; other members are
   *     ignored, blank lines skipped
   * @return the prompts in file order
   * @throws IOException when the file cannot be read, or a line is not such an object, or an id
   *     repeats; the message names the file and the line
   */
  public static List<Prompt> readPrompts(Path file) throws IOException {
    return readPrompts(file, Optional.empty());
  }

  /**
   * Reads a prompts file whose prompts are token ids or text.
   *
   * @param file a file of {@code {"id": ..., "prompt": [ids] or "text", ...}} lines; other members
   *     are ignored, blank lines skipped
   * @param tokenizer the policy's tokenizer, which encodes text prompts; empty: only token ids
   * @return the prompts in file order
   * @throws IOException when the file cannot be read, or a line is not such an object, an id
   *     repeats, a text prompt is empty, or a text prompt comes without a tokenizer; the message
   *     names the file and the line
   */
  public static List<Prompt> readPrompts(Path file, Optional<Tokenizer> tokenizer)
      throws IOException {
    return readPrompts(file, tokenizer, Optional.empty());
  }

  /**
   * Reads a prompts file whose prompts are token ids, text, or chats.
   *
   * <p>Each line has a non-empty string {@code "id"} (unique in the file) and either {@code
   * "prompt"}, token ids or text, or {@code "messages"}, a conversation: a non-empty array of
   * {@code {"role": string, "content": string}} objects. Text is encoded with {@code tokenizer}. A
   * conversation is rendered with {@code template} and {@code add_generation_prompt=true} (so the
   * prompt ends where the assistant's answer begins), then encoded with {@code tokenizer} without
   * adding special tokens: the template writes BOS and the turn markers itself, as Hugging Face's
   * {@code apply_chat_template(..., tokenize=True)} does. Other members of a line are ignored,
   * blank lines skipped.
   *
   * @param file the prompts file (JSON lines)
   * @param tokenizer the policy's tokenizer, which encodes text prompts and rendered chats; empty:
   *     only token ids
   * @param template the policy's chat template ({@code tokenizer_config.json}'s {@code
   *     chat_template}), which renders chats; empty: no chats
   * @return the prompts in file order
   * @throws IOException when the file cannot be read, or a line is not such an object, an id
   *     repeats, a line has both or neither of {@code "prompt"} and {@code "messages"}, a text
   *     prompt or rendered chat is empty, text or a chat comes without a tokenizer, a chat comes
   *     without a chat template, a message is not such an object, or the template rejects the chat
   *     (its {@code raise_exception}); the message is one line naming the file and the line
   */
  public static List<Prompt> readPrompts(
      Path file, Optional<Tokenizer> tokenizer, Optional<ChatTemplate> template)
      throws IOException {
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(template, "template");
    List<Prompt> prompts = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      Map<String, Object> line = object(file, i, lines.get(i));
      if (!(line.get("id") instanceof String id) || id.isEmpty()) {
        throw lineError(file, i, "a non-empty string 'id'", describe(line.get("id")));
      }
      if (!ids.add(id)) {
        throw lineError(file, i, "unique prompt ids", "'" + id + "' again");
      }
      if (line.containsKey("messages")) {
        if (line.containsKey("prompt")) {
          throw lineError(file, i, "either 'prompt' or 'messages'", "both");
        }
        prompts.add(new Prompt(id, chat(file, i, line.get("messages"), tokenizer, template)));
      } else if (line.get("prompt") instanceof String text) {
        if (tokenizer.isEmpty()) {
          throw lineError(
              file,
              i,
              "token ids in 'prompt' (the policy has no tokenizer to encode text: add its"
                  + " tokenizer.json to the model directory)",
              "text");
        }
        if (text.isEmpty()) {
          throw lineError(file, i, "a non-empty text or token ids in 'prompt'", "\"\"");
        }
        // as a Hugging Face tokenizer encodes text by default: Llama's BOS, for instance
        prompts.add(new Prompt(id, tokenizer.get().encodeWithSpecialTokens(text)));
      } else {
        prompts.add(new Prompt(id, tokens(file, i, line, "prompt")));
      }
    }
    return prompts;
  }

  private static TokenSequence chat(
      Path file,
      int index,
      Object messages,
      Optional<Tokenizer> tokenizer,
      Optional<ChatTemplate> template)
      throws IOException {
    if (template.isEmpty()) {
      throw new IOException(
          "Line "
              + (index + 1)
              + " of "
              + file
              + " has \"messages\" but the policy has no chat template (tokenizer_config.json"
              + " chat_template)");
    }
    if (tokenizer.isEmpty()) {
      throw new IOException(
          "Line "
              + (index + 1)
              + " of "
              + file
              + " has \"messages\" but the policy has no tokenizer to encode the rendered chat"
              + " (tokenizer.json)");
    }
    List<ChatMessage> chat = messages(file, index, messages);
    String text;
    try {
      text = template.get().render(chat, true);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "Cannot render the chat on line " + (index + 1) + " of " + file + ": " + e.getMessage(),
          e);
    }
    if (text.isEmpty()) {
      throw lineError(file, index, "a chat that renders to non-empty text", "\"\"");
    }
    return tokenizer.get().encode(text);
  }

  private static List<ChatMessage> messages(Path file, int index, Object value) throws IOException {
    if (!(value instanceof List<?> list) || list.isEmpty()) {
      throw lineError(
          file,
          index,
          "a non-empty array of {\"role\": string, \"content\": string} objects in 'messages'",
          value instanceof List<?> ? "an empty array" : describe(value));
    }
    List<ChatMessage> chat = new ArrayList<>(list.size());
    for (int m = 0; m < list.size(); m++) {
      if (!(list.get(m) instanceof Map<?, ?> message)) {
        throw lineError(
            file,
            index,
            "a {\"role\": ..., \"content\": ...} object",
            describe(list.get(m)) + " at messages[" + m + "]");
      }
      for (Object key : message.keySet()) {
        if (!key.equals("role") && !key.equals("content")) {
          throw lineError(
              file,
              index,
              "only 'role' and 'content' in each message",
              "'" + key + "' at messages[" + m + "]");
        }
      }
      if (!(message.get("role") instanceof String role) || role.isEmpty()) {
        throw lineError(
            file,
            index,
            "a non-empty string 'role'",
            describe(message.get("role")) + " at messages[" + m + "]");
      }
      if (!(message.get("content") instanceof String content)) {
        throw lineError(
            file,
            index,
            "a string 'content'",
            describe(message.get("content")) + " at messages[" + m + "]");
      }
      chat.add(new ChatMessage(role, content));
    }
    return chat;
  }

  /**
   * Reads an examples file.
   *
   * @param file a file of {@code {"prompt": [ids], "completion": [ids]}} lines; other members are
   *     ignored, blank lines skipped
   * @return the examples in file order
   * @throws IOException when the file cannot be read, or a line is not such an object; the message
   *     names the file and the line
   */
  public static List<TokenizedExample> readExamples(Path file) throws IOException {
    List<TokenizedExample> examples = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      Map<String, Object> line = object(file, i, lines.get(i));
      examples.add(
          new TokenizedExample(
              tokens(file, i, line, "prompt"), tokens(file, i, line, "completion")));
    }
    return examples;
  }

  private static int eos(Tokenizer tokenizer) {
    Objects.requireNonNull(tokenizer, "tokenizer");
    Checks.checkArgument(
        tokenizer.eosId().isPresent(),
        "Expected a tokenizer with an EOS token to end completions, found none in %s",
        tokenizer.name());
    return tokenizer.eosId().getAsInt();
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temporary, text, StandardCharsets.UTF_8);
    Files.move(
        temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static Map<String, Object> object(Path file, int index, String text) throws IOException {
    try {
      return Json.parseObject(text);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "Cannot parse line " + (index + 1) + " of " + file + ": " + e.getMessage(), e);
    }
  }

  private static TokenSequence tokens(Path file, int index, Map<String, Object> line, String key)
      throws IOException {
    if (!(line.get(key) instanceof List<?> list)) {
      throw lineError(file, index, "an array of token ids '" + key + "'", describe(line.get(key)));
    }
    int[] ids = new int[list.size()];
    for (int i = 0; i < ids.length; i++) {
      if (!(list.get(i) instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
        throw lineError(
            file,
            index,
            "token ids (integers in [0, 2^31 - 1]) in '" + key + "'",
            describe(list.get(i)) + " at position " + i);
      }
      ids[i] = (int) (long) id;
    }
    return TokenSequence.of(ids);
  }

  private static IOException lineError(Path file, int index, String expected, String found) {
    return new IOException(
        "Expected " + expected + " on line " + (index + 1) + " of " + file + ", found " + found);
  }

  /** A value for an error message: {@link Json#describeValue}, and "none" for a missing key. */
  private static String describe(Object value) {
    return value == null ? "none" : Json.describeValue(value);
  }
}
