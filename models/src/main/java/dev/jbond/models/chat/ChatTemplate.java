package dev.jbond.models.chat;

import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.TokenizerFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model's chat template: the Jinja template in its {@code tokenizer_config.json} that turns a
 * conversation into prompt text, rendered as Hugging Face's {@code apply_chat_template} renders it.
 *
 * <p>{@link #render} passes the template the variables that {@code apply_chat_template} passes:
 *
 * <ul>
 *   <li>{@code messages}: the conversation, each message a mapping with {@code role} and {@code
 *       content} (strings), so {@code message['content']} and {@code message.content} both work;
 *   <li>{@code add_generation_prompt}: whether to end with the header of an assistant turn;
 *   <li>the tokenizer's special tokens that are set ({@link #SPECIAL_TOKENS}, for example {@code
 *       bos_token} and {@code eos_token}), as strings;
 *   <li>the globals {@code raise_exception(message)}, which stops rendering with an {@link
 *       IllegalArgumentException} that carries the message, and {@code strftime_now(format)}, the
 *       time of {@link #clock()} formatted as Python's {@code strftime} does (local and naive, in
 *       the clock's zone).
 * </ul>
 *
 * <p>{@code tools} and {@code documents} are not passed (they are undefined in the template): jbond
 * prompts have neither. Rendering follows Python Jinja with {@code trim_blocks} and {@code
 * lstrip_blocks} on, as Hugging Face configures it: the first newline after a block tag is removed,
 * spaces and tabs before a block tag on its line are removed, and {@code -} inside a delimiter
 * strips the whitespace on that side; one newline at the end of the template is dropped (Jinja's
 * {@code keep_trailing_newline=False}) and {@code \r\n} and {@code \r} in the template read as
 * {@code \n}. Templates may use Python's string methods ({@code strip}, {@code lstrip}, {@code
 * rstrip}, {@code startswith}, {@code endswith}, {@code split}, {@code upper}, {@code lower},
 * {@code title}, {@code capitalize}, {@code replace}, {@code join}), the {@code tojson} filter
 * (Python's {@code json.dumps} with {@code ensure_ascii=False}), {@code namespace()}, loop
 * variables and slices such as {@code messages[1:]}.
 *
 * <p>The engine is Jinjava, set up to follow Python Jinja where Hugging Face templates rely on it;
 * {@code ChatTemplateTest} compares its output with {@code @huggingface/jinja}'s on committed
 * templates in the styles of the common model families. Hugging Face's {@code {% generation %}} and
 * {@code {% endgeneration %}} tags (which mark the assistant's text for training masks) are read as
 * a block that always renders its body. Known differences from Python Jinja that remain: {@code {{
 * true }}} prints {@code true} (Python: {@code True}); {@code none} concatenates as the empty
 * string; strings cannot be repeated with {@code *} or formatted with {@code %}; two closing braces
 * inside an expression (for example an empty dictionary literal inside another) end it early, so
 * such a template fails to parse; and a loop filter ({@code {% for x in xs if x %}}), which Jinjava
 * would silently render as an empty loop, makes {@link #render} throw instead.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
  /** The file of a Hugging Face model directory that holds the chat template. */
  public static final String CONFIG_FILE = "tokenizer_config.json";

  /** The special tokens read from {@value #CONFIG_FILE} and passed to the template. */
  public static final List<String> SPECIAL_TOKENS =
      List.of(
          "bos_token",
          "eos_token",
          "unk_token",
          "sep_token",
          "pad_token",
          "cls_token",
          "mask_token");

  /** The name of the template that a list-valued {@code chat_template} must contain. */
  public static final String DEFAULT_NAME = "default";

  /** Hugging Face's generation tags, with their whitespace control. */
  private static final Pattern GENERATION_TAG =
      Pattern.compile("\\{%(-?)\\s*(end)?generation\\s*(-?)%\\}");

  /** A loop filter: {@code for ... in ... if ...} in one tag, without an {@code else}. */
  private static final Pattern LOOP_FILTER =
      Pattern.compile(
          "\\{%-?\\s*for\\s(?:(?!%\\}).)*?\\sin\\s(?:(?!%\\}).)*?\\sif\\s(?:(?!%\\}|\\selse\\s).)*-?%\\}",
          Pattern.DOTALL);

  /** Spaces and tabs from the start of a line to a block tag or comment. */
  private static final Pattern LSTRIP_BLOCKS = Pattern.compile("(?m)^[ \t]+(?=\\{[%#])");

  private final String template;
  private final String source;
  private final String name;
  private final Map<String, String> specialTokens;
  private final Clock clock;
  private final JinjaEngine engine;

  private ChatTemplate(
      String template, String name, Map<String, String> specialTokens, Clock clock) {
    this.template = template;
    this.source = jinjaSource(template);
    this.name = name;
    this.specialTokens = Map.copyOf(specialTokens);
    this.clock = clock;
    this.engine = JinjaEngine.create(clock);
  }

  /**
   * Returns a template with no special tokens and the system clock.
   *
   * @param template the Jinja template text
   * @return the template
   */
  public static ChatTemplate of(String template) {
    return of(template, Map.of());
  }

  /**
   * Returns a template with the given special tokens and the system clock.
   *
   * @param template the Jinja template text
   * @param specialTokens variables such as {@code bos_token} and {@code eos_token}, by name
   * @return the template
   * @throws IllegalArgumentException when a special token's name is not a variable name ({@code
   *     [A-Za-z_][A-Za-z0-9_]*}) or is {@code messages} or {@code add_generation_prompt}
   */
  public static ChatTemplate of(String template, Map<String, String> specialTokens) {
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(specialTokens, "specialTokens");
    for (String key : specialTokens.keySet()) {
      if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")
          || key.equals("messages")
          || key.equals("add_generation_prompt")) {
        throw new IllegalArgumentException(
            "Expected special token names that are template variables (not messages or"
                + " add_generation_prompt), found '"
                + key
                + "'");
      }
    }
    return new ChatTemplate(template, "chat template", specialTokens, Clock.systemDefaultZone());
  }

  /**
   * Reads the chat template of a model directory: {@value #CONFIG_FILE}'s {@code chat_template},
   * with its special tokens.
   *
   * @param modelDirectory the directory of a Hugging Face or jbond model
   * @return the template (with the system clock), or empty when the directory has no {@value
   *     #CONFIG_FILE} or the file has no {@code chat_template} (or a null one)
   * @throws TokenizerFormatException when the file is not valid JSON, or {@code chat_template} or a
   *     special token has another shape than Hugging Face writes; the message names the file
   * @throws IOException when the file cannot be read
   */
  public static Optional<ChatTemplate> find(Path modelDirectory) throws IOException {
    Objects.requireNonNull(modelDirectory, "modelDirectory");
    Path file = modelDirectory.resolve(CONFIG_FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return parseTokenizerConfig(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /**
   * Reads the chat template of a {@value #CONFIG_FILE} file.
   *
   * @param file a {@value #CONFIG_FILE} file that has a {@code chat_template}
   * @return the template, with the system clock
   * @throws TokenizerFormatException when the file is not valid JSON, has no {@code chat_template},
   *     or {@code chat_template} or a special token has another shape than Hugging Face writes; the
   *     message names the file
   * @throws IOException when the file cannot be read
   */
  public static ChatTemplate load(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    return parseTokenizerConfig(Files.readString(file, StandardCharsets.UTF_8), file.toString())
        .orElseThrow(
            () ->
                new TokenizerFormatException(
                    "Expected a 'chat_template' (a string or a list of {name, template} objects)"
                        + " in "
                        + file
                        + ", found none"));
  }

  /**
   * Reads the chat template from the text of a {@value #CONFIG_FILE} file. {@code chat_template} is
   * a string, or a list of {@code {"name": ..., "template": ...}} objects of which the one named
   * {@value #DEFAULT_NAME} is used. Special tokens ({@link #SPECIAL_TOKENS}) are strings, or
   * objects whose {@code content} is the token (Hugging Face's serialized {@code AddedToken}), or
   * null.
   *
   * @param json the file's text
   * @param name where the text came from, for messages (for example the file)
   * @return the template (with the system clock), or empty when there is no {@code chat_template}
   *     or a null one
   * @throws TokenizerFormatException when {@code json} is not a valid JSON object, or {@code
   *     chat_template} or a special token has another shape; the message names {@code name}
   */
  public static Optional<ChatTemplate> parseTokenizerConfig(String json, String name)
      throws TokenizerFormatException {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(name, "name");
    Map<String, Object> config;
    try {
      config = Json.parseObject(json);
    } catch (IllegalArgumentException e) {
      throw new TokenizerFormatException("Cannot parse " + name + ": " + e.getMessage(), e);
    }
    Object value = config.get("chat_template");
    if (value == null) {
      return Optional.empty();
    }
    String template = templateText(value, name);
    Map<String, String> tokens = new LinkedHashMap<>();
    for (String token : SPECIAL_TOKENS) {
      Object spec = config.get(token);
      if (spec instanceof String text) {
        tokens.put(token, text);
      } else if (spec instanceof Map<?, ?> object && object.get("content") instanceof String text) {
        tokens.put(token, text);
      } else if (spec != null) {
        throw new TokenizerFormatException(
            "Expected '"
                + token
                + "' to be a string, an object with a string 'content', or null in "
                + name
                + ", found "
                + Json.describeValue(spec));
      }
    }
    return Optional.of(
        new ChatTemplate(template, "chat template of " + name, tokens, Clock.systemDefaultZone()));
  }

  private static String templateText(Object value, String name) throws TokenizerFormatException {
    if (value instanceof String text) {
      return text;
    }
    if (!(value instanceof List<?> list)) {
      throw new TokenizerFormatException(
          "Expected 'chat_template' to be a string or a list of {name, template} objects in "
              + name
              + ", found "
              + Json.describeValue(value));
    }
    List<String> names = new ArrayList<>();
    String found = null;
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> entry)
          || !(entry.get("name") instanceof String entryName)
          || !(entry.get("template") instanceof String entryTemplate)) {
        throw new TokenizerFormatException(
            "Expected {\"name\": string, \"template\": string} objects in 'chat_template' of "
                + name
                + ", found "
                + Json.describeValue(list.get(i))
                + " at position "
                + i);
      }
      names.add(entryName);
      if (entryName.equals(DEFAULT_NAME) && found == null) {
        found = entryTemplate;
      }
    }
    if (found == null) {
      throw new TokenizerFormatException(
          "Expected a template named '"
              + DEFAULT_NAME
              + "' in 'chat_template' of "
              + name
              + ", found "
              + names);
    }
    return found;
  }

  /**
   * Returns this template with another clock for {@code strftime_now}.
   *
   * @param clock the clock; its zone is the local zone of {@code strftime_now}
   * @return a template with the same text and special tokens
   */
  public ChatTemplate withClock(Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return new ChatTemplate(template, name, specialTokens, clock);
  }

  /**
   * Renders a conversation.
   *
   * @param messages the conversation, in order
   * @param addGenerationPrompt whether the template should end with the start of an assistant turn
   *     (Hugging Face's {@code add_generation_prompt}); templates that have no such header ignore
   *     it
   * @return the prompt text, which writes special tokens such as BOS as text, so it is to be
   *     encoded without adding special tokens
   * @throws IllegalArgumentException when the template calls {@code raise_exception} (the message
   *     carries the template's text) or cannot be parsed or evaluated; one line
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    Objects.requireNonNull(messages, "messages");
    Matcher loopFilter = LOOP_FILTER.matcher(source);
    if (loopFilter.find()) {
      throw new IllegalArgumentException(
          "Cannot render the "
              + name
              + ": expected loops without a filter (Jinjava does not support 'for ... if'), found "
              + oneLine(loopFilter.group()));
    }
    List<Map<String, Object>> conversation = new ArrayList<>(messages.size());
    for (ChatMessage message : messages) {
      Objects.requireNonNull(message, "message");
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", message.role());
      map.put("content", message.content());
      conversation.add(map);
    }
    Map<String, Object> bindings = new HashMap<>(specialTokens);
    bindings.put("messages", conversation);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    RenderResult result;
    try {
      result = engine.renderForResult(source, bindings);
    } catch (InterpretException e) {
      throw new IllegalArgumentException(
          "Cannot render the " + name + ": " + oneLine(e.getMessage()), e);
    }
    for (TemplateError error : result.getErrors()) {
      JinjaFunctions.RaisedException raised = raised(error.getException());
      if (raised != null) {
        throw new IllegalArgumentException(
            "The " + name + " rejected the conversation: " + oneLine(raised.getMessage()), raised);
      }
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL
          || error.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
        throw new IllegalArgumentException(
            "Cannot render the "
                + name
                + " at line "
                + error.getLineno()
                + ": "
                + oneLine(error.getMessage()),
            error.getException());
      }
    }
    return result.getOutput();
  }

  /**
   * Returns the template's text as it was given.
   *
   * @return the Jinja template
   */
  public String template() {
    return template;
  }

  /**
   * Returns the special tokens passed to the template.
   *
   * @return the tokens by variable name, for example {@code bos_token}
   */
  public Map<String, String> specialTokens() {
    return specialTokens;
  }

  /**
   * Returns the clock of {@code strftime_now}.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock;
  }

  @Override
  public String toString() {
    return "ChatTemplate[" + name + ", " + template.length() + " chars, " + specialTokens + "]";
  }

  /**
   * What Jinja's lexer does before Jinjava sees the template: newlines read as {@code \n}, one at
   * the very end is dropped, and ({@code lstrip_blocks}) spaces and tabs between the start of a
   * line and a block tag or comment are removed.
   */
  private static String jinjaSource(String template) {
    String source = template.replace("\r\n", "\n").replace('\r', '\n');
    if (source.endsWith("\n")) {
      source = source.substring(0, source.length() - 1);
    }
    source =
        GENERATION_TAG
            .matcher(source)
            .replaceAll(
                m ->
                    "{%"
                        + m.group(1)
                        + (m.group(2) == null ? " if true " : " endif ")
                        + m.group(3)
                        + "%}");
    return LSTRIP_BLOCKS.matcher(source).replaceAll("");
  }

  private static JinjaFunctions.RaisedException raised(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof JinjaFunctions.RaisedException raised) {
        return raised;
      }
    }
    return null;
  }

  private static String oneLine(String text) {
    return text == null ? "" : text.strip().replaceAll("\\s*(\r\n|\r|\n)\\s*", " ");
  }
}
