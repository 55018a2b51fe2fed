package dev.jbond.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.TokenizerFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
  /** The instant and zone that the oracle (src/test/oracle/chat/render.mjs) renders with. */
  private static final Clock ORACLE_CLOCK =
      Clock.fixed(Instant.parse("2024-07-26T09:05:03Z"), ZoneOffset.UTC);

  private static final List<ChatMessage> SHORT_CHAT =
      List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi"));

  @TempDir Path dir;

  // ---- the fixtures against @huggingface/jinja's rendering (expected.json) ----

  @TestFactory
  Stream<DynamicTest> render_fixtures_matchTheOracleExactly() throws IOException {
    Map<String, Object> templates = resourceObject("templates.json");
    Map<String, List<ChatMessage>> conversations = conversations();
    Map<String, ChatTemplate> loaded = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : templates.entrySet()) {
      Path modelDirectory = Files.createDirectories(dir.resolve(entry.getKey()));
      Files.writeString(
          modelDirectory.resolve(ChatTemplate.CONFIG_FILE),
          Json.write(entry.getValue()),
          StandardCharsets.UTF_8);
      loaded.put(
          entry.getKey(), ChatTemplate.find(modelDirectory).orElseThrow().withClock(ORACLE_CLOCK));
    }
    List<Map<String, Object>> cases = cases();
    return cases.stream()
        .map(
            c -> {
              String template = (String) c.get("template");
              String conversation = (String) c.get("conversation");
              boolean addGenerationPrompt = (Boolean) c.get("add_generation_prompt");
              return DynamicTest.dynamicTest(
                  template
                      + " / "
                      + conversation
                      + " / add_generation_prompt="
                      + addGenerationPrompt,
                  () ->
                      check(
                          loaded.get(template),
                          conversations.get(conversation),
                          addGenerationPrompt,
                          c));
            });
  }

  private static void check(
      ChatTemplate template,
      List<ChatMessage> messages,
      boolean addGenerationPrompt,
      Map<String, Object> expected) {
    if (expected.containsKey("output")) {
      assertEquals(expected.get("output"), template.render(messages, addGenerationPrompt));
    } else {
      String error = (String) expected.get("error");
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> template.render(messages, addGenerationPrompt));
      assertTrue(
          e.getMessage().contains(error),
          () -> "Expected the template's message '" + error + "' in '" + e.getMessage() + "'");
      assertOneLine(e.getMessage());
    }
  }

  @Test
  void oracleOutput_coversEveryTemplateConversationAndFlag() throws IOException {
    Set<String> expected = new LinkedHashSet<>();
    for (String template : resourceObject("templates.json").keySet()) {
      for (String conversation : conversations().keySet()) {
        expected.add(template + "/" + conversation + "/false");
        expected.add(template + "/" + conversation + "/true");
      }
    }
    Set<String> found = new LinkedHashSet<>();
    int errors = 0;
    for (Map<String, Object> c : cases()) {
      found.add(
          c.get("template") + "/" + c.get("conversation") + "/" + c.get("add_generation_prompt"));
      errors += c.containsKey("error") ? 1 : 0;
    }
    assertEquals(expected, found, "expected.json is stale: rerun src/test/oracle/chat/render.mjs");
    assertTrue(errors > 0 && errors < found.size(), "errors: " + errors);
    assertTrue(conversations().size() >= 20, "conversations: " + conversations().size());
  }

  // ---- loading ----

  @Test
  void find_directoryWithoutConfig_isEmpty() throws IOException {
    assertEquals(Optional.empty(), ChatTemplate.find(dir));
  }

  @Test
  void find_configWithoutOrWithNullChatTemplate_isEmpty() throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
    assertEquals(Optional.empty(), ChatTemplate.find(dir));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": null}");
    assertEquals(Optional.empty(), ChatTemplate.find(dir));
  }

  @Test
  void find_malformedJson_isOneLineNamingTheFile() throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(file, "{\"chat_template\": \"{{ x }}\",\n");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.find(dir));

    assertTrue(e.getMessage().startsWith("Cannot parse " + file + ": "), e.getMessage());
    assertOneLine(e.getMessage());
  }

  @Test
  void find_templateListWithoutDefault_throwsListingTheNames() throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(
        file,
        "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"a\"},"
            + " {\"name\": \"rag\", \"template\": \"b\"}]}");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.find(dir));

    assertEquals(
        "Expected a template named 'default' in 'chat_template' of "
            + file
            + ", found [tool_use, rag]",
        e.getMessage());
  }

  @Test
  void find_chatTemplateOfAnotherShape_throwsNamingIt() throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(file, "{\"chat_template\": 42}");
    TokenizerFormatException number =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.find(dir));
    assertEquals(
        "Expected 'chat_template' to be a string or a list of {name, template} objects in "
            + file
            + ", found 42",
        number.getMessage());

    Files.writeString(file, "{\"chat_template\": [{\"name\": \"default\"}]}");
    TokenizerFormatException entry =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.find(dir));
    assertEquals(
        "Expected {\"name\": string, \"template\": string} objects in 'chat_template' of "
            + file
            + ", found an object at position 0",
        entry.getMessage());
  }

  @Test
  void find_specialTokensAsStringsOrObjects_arePassedToTheTemplate() throws IOException {
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{{ bos_token }}|{{ eos_token }}|{{ pad_token }}|{{ unk_token }}\","
            + " \"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\"},"
            + " \"eos_token\": \"</s>\", \"pad_token\": null}");

    ChatTemplate template = ChatTemplate.find(dir).orElseThrow();

    assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>"), template.specialTokens());
    assertEquals("<s>|</s>||", template.render(List.of(), false));
  }

  @Test
  void find_specialTokenOfAnotherShape_throwsNamingIt() throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(file, "{\"chat_template\": \"x\", \"eos_token\": [\"</s>\"]}");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.find(dir));

    assertEquals(
        "Expected 'eos_token' to be a string, an object with a string 'content', or null in "
            + file
            + ", found an array",
        e.getMessage());
  }

  @Test
  void load_configWithoutChatTemplate_throwsNamingTheFile() throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(file, "{}");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> ChatTemplate.load(file));

    assertEquals(
        "Expected a 'chat_template' (a string or a list of {name, template} objects) in "
            + file
            + ", found none",
        e.getMessage());
  }

  @Test
  void of_specialTokenNamedLikeAVariableOfTheTemplate_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ChatTemplate.of("x", Map.of("messages", "<s>")));
    assertEquals(
        "Expected special token names that are template variables (not messages or"
            + " add_generation_prompt), found 'messages'",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> ChatTemplate.of("x", Map.of("bos token", "<s>")));
  }

  // ---- errors ----

  @Test
  void render_raiseException_isOneLineCarryingTheTemplatesMessage() {
    ChatTemplate template =
        ChatTemplate.of(
            "{% if messages[0].role == 'system' %}"
                + "{{ raise_exception('No system role here,\\nsorry: ' + messages[0].content) }}"
                + "{% endif %}after");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> template.render(SHORT_CHAT, true));

    assertEquals(
        "The chat template rejected the conversation: No system role here, sorry: Be brief.",
        e.getMessage());
    assertEquals("after", template.render(List.of(new ChatMessage("user", "Hi")), true));
  }

  @Test
  void render_syntaxError_isOneLineNamingTheLine() {
    ChatTemplate template = ChatTemplate.of("line one\n{% for m in messages %}{{ m.role }}");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> template.render(SHORT_CHAT, true));

    assertTrue(
        e.getMessage().startsWith("Cannot render the chat template at line 2: "), e.getMessage());
    assertTrue(e.getMessage().contains("endfor"), e.getMessage());
    assertOneLine(e.getMessage());
  }

  @Test
  void render_unknownMethodOrLeftOutFilter_isOneLine() {
    IllegalArgumentException method =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChatTemplate.of("{{ 'x'.nosuch() }}").render(SHORT_CHAT, true));
    assertTrue(method.getMessage().contains("nosuch"), method.getMessage());
    assertOneLine(method.getMessage());
    for (String filter : JinjaEngine.UNAVAILABLE_FILTERS) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ChatTemplate.of("{{ 'x' | " + filter + " }}").render(SHORT_CHAT, true));
      assertTrue(e.getMessage().contains("'" + filter + "' is disabled"), e.getMessage());
    }
  }

  // ---- Python Jinja semantics (expected values from Python's jinja2 3.1, set up as Hugging Face
  // sets it up) ----

  @Test
  void render_pythonStringMethods_followPython() {
    assertRenders("Hello World, It'S 3Rd-Party", "{{ 'hELLO wORLD, it\\'s 3rd-party'.title() }}");
    assertRenders("Hello world", "{{ 'hELLO wORLD'.capitalize() }}");
    assertRenders(
        "hi|a  |  a|", "{{ 'xxhixx'.strip('x') }}|{{ '  a  '.lstrip() }}|{{ '  a  '.rstrip() }}|");
    assertRenders(
        "a,b,c|a;b;;c|a;b c|a;b c ",
        "{{ '  a  b\\t\\nc  '.split() | join(',') }}|{{ 'a,b,,c'.split(',') | join(';') }}"
            + "|{{ 'a b c'.split(' ', 1) | join(';') }}|{{ ' a b c '.split(none, 1) | join(';') }}");
    assertRenders("ac|bc|", "{{ 'abc'[0] }}{{ 'abc'[-1] }}|{{ 'abc'[1:] }}|{{ 'abc'[7] }}");
    assertRenders(
        "bba|-a-b-|x-y",
        "{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.replace('', '-') }}|{{ '-'.join(['x', 'y']) }}");
    assertRenders("STRASSE|i\u0307i", "{{ 'Stra\u00dfe'.upper() }}|{{ '\u0130I'.lower() }}");
    assertRenders(
        "yes yes",
        "{% if 'abc'.startswith(('x', 'a')) %}yes{% endif %} {% if 'abc'.endswith('bc') %}yes{% endif %}");
    assertRenders("x|hi", "{{ '\u00a0 x \u3000' | trim }}|{{ 'xxhixx' | trim('x') }}");
    assertRenders("x", "{{ '\u00a0 x \u3000'.strip() }}");
  }

  @Test
  void render_notAndNegativeNumbers_followJinjaPrecedence() {
    assertRenders(
        "1 2 -1 4",
        "{% if not 1 == 2 %}1{% endif %} {% if 'a' in 'abc' and not 'd' in 'abc' %}2{% endif %}"
            + " {{ -1 }} {% if not 'x' in 'xyz' %}3{% else %}4{% endif %}");
    assertRenders(
        "assistant is not user",
        "{% set m = messages[0] %}{% if not m.role == 'user' %}{{ m.role }} is not user{% endif %}",
        List.of(new ChatMessage("assistant", "x")));
  }

  @Test
  void render_tojson_writesLikeJsonDumps() {
    assertRenders(
        "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1,\n  \"c\": \"\u00e9\\n\"\n}",
        "{{ {'b': 1, 'a': [1, 2], 'c': '\u00e9\\n'} | tojson(indent=2, sort_keys=true) }}");
    assertRenders(
        "{\"x\": 0.5, \"y\": 1e-05, \"z\": 1e+20, \"w\": null, \"v\": true}",
        "{{ {'x': 0.5, 'y': 1.0e-5, 'z': 1e20, 'w': none, 'v': true} | tojson }}");
    assertRenders("\"\\u00e9\"", "{{ '\u00e9' | tojson(ensure_ascii=true) }}");
  }

  @Test
  void render_whitespaceControl_followsTrimAndLstripBlocks() {
    assertRenders("a\n  b\nc", "a\n  {% if true %}\n  b\n  {% endif %}\nc\n");
    assertRenders("xyz", "{{ 'x' -}}\n  \n{{- 'y' }} {#- c -#} z");
    assertRenders("a\nb", "a\r\nb\r\n");
    assertRenders("a\n", "a\n\n");
  }

  @Test
  void render_namespaceLoopAndMappingIteration_followJinja() {
    assertRenders(
        "6 ab",
        "{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}"
            + "{{ ns.n }} {% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}");
  }

  @Test
  void render_generationTags_renderAsNothing() {
    assertRenders(
        "Be brief.|Hi|",
        "{% for m in messages %}\n  {%- generation -%}\n  {{ m.content }}|\n  {%- endgeneration %}\n{% endfor %}");
  }

  @Test
  void render_loopFilter_throwsInsteadOfRenderingAnEmptyLoop() {
    ChatTemplate filtered =
        ChatTemplate.of("{% for m in messages if m.role != 'system' %}{{ m.content }}{% endfor %}");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> filtered.render(SHORT_CHAT, true));

    assertEquals(
        "Cannot render the chat template: expected loops without a filter (Jinjava does not"
            + " support 'for ... if'), found {% for m in messages if m.role != 'system' %}",
        e.getMessage());
    assertRenders(
        "Be brief.Hi", "{% for m in (messages if messages else []) %}{{ m.content }}{% endfor %}");
  }

  @Test
  void render_strftimeNow_usesTheClockInItsZone() {
    ChatTemplate template =
        ChatTemplate.of("{{ strftime_now('%Y-%m-%d %H:%M:%S %a %A %b %B %-d %j %p %I %%') }}")
            .withClock(
                Clock.fixed(Instant.parse("2024-02-29T23:30:05Z"), ZoneId.of("Europe/Berlin")));

    assertEquals(
        "2024-03-01 00:30:05 Fri Friday Mar March 1 061 AM 12 %",
        template.render(SHORT_CHAT, false));
  }

  @Test
  void render_messagesAreCopiedPerRender_andTemplatesDoNotShareState() {
    ChatTemplate template =
        ChatTemplate.of(
            "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                + "{% endfor %}{{ ns.n }}:{{ messages[0].content }}");

    assertEquals("2:Be brief.", template.render(SHORT_CHAT, false));
    assertEquals("2:Be brief.", template.render(SHORT_CHAT, false));
  }

  @Test
  void render_concurrentCalls_giveTheSequentialResults() throws Exception {
    Map<String, Object> templates = resourceObject("templates.json");
    Path modelDirectory = Files.createDirectories(dir.resolve("ledger"));
    Files.writeString(
        modelDirectory.resolve(ChatTemplate.CONFIG_FILE), Json.write(templates.get("ledger")));
    ChatTemplate template = ChatTemplate.find(modelDirectory).orElseThrow().withClock(ORACLE_CLOCK);
    List<List<ChatMessage>> chats = new ArrayList<>(conversations().values());
    List<String> sequential = new ArrayList<>();
    for (List<ChatMessage> chat : chats) {
      sequential.add(template.render(chat, true));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> futures = new ArrayList<>();
      for (int round = 0; round < 8; round++) {
        for (List<ChatMessage> chat : chats) {
          futures.add(pool.submit(() -> template.render(chat, true)));
        }
      }
      for (int i = 0; i < futures.size(); i++) {
        assertEquals(sequential.get(i % chats.size()), futures.get(i).get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void toString_namesTheSourceAndTokens() {
    String text = ChatTemplate.of("abc", Map.of("eos_token", "</s>")).toString();
    assertEquals("ChatTemplate[chat template, 3 chars, {eos_token=</s>}]", text);
  }

  // ---- helpers ----

  private static void assertRenders(String expected, String template) {
    assertRenders(expected, template, SHORT_CHAT);
  }

  private static void assertRenders(String expected, String template, List<ChatMessage> messages) {
    assertEquals(expected, ChatTemplate.of(template).render(messages, false), template);
  }

  private static void assertOneLine(String message) {
    assertFalse(message.contains("\n") || message.contains("\r"), message);
  }

  static Map<String, Object> resourceObject(String name) {
    try (InputStream in = ChatTemplateTest.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test resource " + name);
      }
      return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> cases() {
    return (List<Map<String, Object>>) resourceObject("expected.json").get("cases");
  }

  @SuppressWarnings("unchecked")
  static Map<String, List<ChatMessage>> conversations() {
    Object list;
    try (InputStream in = ChatTemplateTest.class.getResourceAsStream("conversations.json")) {
      list = Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, List<ChatMessage>> conversations = new LinkedHashMap<>();
    for (Map<String, Object> c : (List<Map<String, Object>>) list) {
      List<ChatMessage> messages = new ArrayList<>();
      for (Map<String, Object> m : (List<Map<String, Object>>) c.get("messages")) {
        messages.add(new ChatMessage((String) m.get("role"), (String) m.get("content")));
      }
      conversations.put((String) c.get("name"), messages);
    }
    return conversations;
  }
}
