package dev.jbond.models.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.chat.ChatTemplate;
import dev.jbond.models.tokenizer.BytePairTrainer;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.tokenizer.HuggingFaceTokenizer;
import dev.jbond.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusFilesTest {
  private final ByteTokenizer bytes = new ByteTokenizer();

  @Test
  void exampleLine_byteTokenizer_writesByteIdsAndEndsTheCompletionWithEos() {
    String line = CorpusFiles.exampleLine(new Example("Hi", " ok."), bytes);

    assertEquals("{\"prompt\":[72,105],\"completion\":[32,111,107,46,256]}", line);
  }

  @Test
  void promptLine_byteTokenizer_writesIdIdsAndText() {
    String line = CorpusFiles.promptLine("p0007", "The \"soup\" was", bytes);

    assertEquals(
        "{\"id\":\"p0007\",\"prompt\":[84,104,101,32,34,115,111,117,112,34,32,119,97,115],"
            + "\"text\":\"The \\\"soup\\\" was\"}",
        line);
  }

  @Test
  void exampleLine_tokenizerWithoutEos_throwsNamingIt() {
    Tokenizer noEos =
        new BytePairTrainer(0, 2, List.of(), false).train(List.of("x")).toTokenizer("no-eos");

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CorpusFiles.exampleLine(new Example("a", " b."), noEos));

    assertEquals(
        "Expected a tokenizer with an EOS token to end completions, found none in no-eos",
        e.getMessage());
  }

  @Test
  void promptId_index_hasAtLeastFourDigits() {
    assertEquals("p0000", CorpusFiles.promptId(0));
    assertEquals("p0042", CorpusFiles.promptId(42));
    assertEquals("p12345", CorpusFiles.promptId(12345));
  }

  @Test
  void writeExamples_generatedCorpus_writesWellFormedLinesThatReadBack(@TempDir Path dir)
      throws IOException {
    List<Example> examples = SyntheticCorpus.generate(5, 300);
    Path file = dir.resolve("corpus.jsonl");

    CorpusFiles.writeExamples(file, examples, bytes);

    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertEquals(examples.size(), lines.size());
    assertTrue(Files.readString(file).endsWith("}\n"));
    for (String line : lines) {
      Map<String, Object> object = Json.parseObject(line);
      assertEquals(Set.of("prompt", "completion"), object.keySet());
    }
    List<TokenizedExample> read = CorpusFiles.readExamples(file);
    assertEquals(examples.size(), read.size());
    for (int i = 0; i < examples.size(); i++) {
      TokenSequence completion = read.get(i).completion();
      assertEquals(ByteTokenizer.EOS_ID, completion.get(completion.length() - 1));
      assertEquals(examples.get(i).prompt(), bytes.decode(read.get(i).prompt()));
      assertEquals(
          examples.get(i).completion(), bytes.decode(bytes.withoutSpecialTokens(completion)));
      assertEquals(
          bytes.encode(examples.get(i).text()),
          read.get(i).prompt().concat(bytes.withoutSpecialTokens(completion)));
    }
  }

  @Test
  void writePrompts_allPrompts_readBackWithIdsAndTokens(@TempDir Path dir) throws IOException {
    List<String> prompts = SyntheticCorpus.prompts();
    Path file = dir.resolve("prompts.jsonl");

    CorpusFiles.writePrompts(file, prompts, bytes);

    List<Prompt> read = CorpusFiles.readPrompts(file);
    assertEquals(prompts.size(), read.size());
    for (int i = 0; i < prompts.size(); i++) {
      assertEquals(CorpusFiles.promptId(i), read.get(i).id());
      assertEquals(bytes.encode(prompts.get(i)), read.get(i).tokens());
    }
    Map<String, Object> first =
        Json.parseObject(Files.readAllLines(file, StandardCharsets.UTF_8).get(0));
    assertEquals("The soup was", first.get("text"));
  }

  @Test
  void writeExamples_trainedBpeTokenizer_roundTripsTheText(@TempDir Path dir) throws IOException {
    List<Example> examples = SyntheticCorpus.generate(9, 200);
    HuggingFaceTokenizer bpe =
        BytePairTrainer.withMerges(120)
            .train(examples.stream().map(Example::text).toList())
            .toTokenizer("corpus-bpe");
    Path file = dir.resolve("corpus.jsonl");

    CorpusFiles.writeExamples(file, examples, bpe);

    List<TokenizedExample> read = CorpusFiles.readExamples(file);
    int tokens = 0;
    int characters = 0;
    for (int i = 0; i < examples.size(); i++) {
      TokenSequence completion = read.get(i).completion();
      assertEquals(bpe.eosId().getAsInt(), completion.get(completion.length() - 1));
      assertEquals(examples.get(i).prompt(), bpe.decode(read.get(i).prompt()));
      assertEquals(examples.get(i).completion(), bpe.decode(bpe.withoutSpecialTokens(completion)));
      tokens += read.get(i).prompt().length() + completion.length();
      characters += examples.get(i).text().length();
    }
    assertTrue(tokens < characters / 2, tokens + " tokens for " + characters + " characters");
  }

  @Test
  void writePrompts_existingFile_isReplaced(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(file, "old content that is much longer than the new file\n".repeat(10));

    CorpusFiles.writePrompts(file, List.of("A"), bytes);

    assertEquals("{\"id\":\"p0000\",\"prompt\":[65],\"text\":\"A\"}\n", Files.readString(file));
    assertEquals(List.of(file), Files.list(dir).toList());
  }

  @Test
  void readPrompts_lineThatDoesNotParse_throwsNamingFileAndLine(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file, "{\"id\": \"a\", \"prompt\": [1]}\n{\"id\": \"b\", \"prompt\": [1,]}\n");

    IOException e = assertThrows(IOException.class, () -> CorpusFiles.readPrompts(file));

    assertEquals(
        "Cannot parse line 2 of " + file + ": Expected a JSON value at position 25, found ']'",
        e.getMessage());
  }

  @Test
  void readPrompts_repeatedId_throwsNamingIt(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file, "{\"id\": \"a\", \"prompt\": [1]}\n\n{\"id\": \"a\", \"prompt\": [2]}\n");

    IOException e = assertThrows(IOException.class, () -> CorpusFiles.readPrompts(file));

    assertEquals(
        "Expected unique prompt ids on line 3 of " + file + ", found 'a' again", e.getMessage());
  }

  @Test
  void readExamples_negativeTokenId_throwsNamingThePosition(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("corpus.jsonl");
    Files.writeString(file, "{\"prompt\": [1, 2], \"completion\": [3, -4]}\n");

    IOException e = assertThrows(IOException.class, () -> CorpusFiles.readExamples(file));

    assertEquals(
        "Expected token ids (integers in [0, 2^31 - 1]) in 'completion' on line 1 of "
            + file
            + ", found -4 at position 1",
        e.getMessage());
  }

  @Test
  void readExamples_missingCompletion_throwsNamingTheField(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("corpus.jsonl");
    Files.writeString(file, "{\"prompt\": [1, 2]}\n");

    IOException e = assertThrows(IOException.class, () -> CorpusFiles.readExamples(file));

    assertEquals(
        "Expected an array of token ids 'completion' on line 1 of " + file + ", found none",
        e.getMessage());
  }

  @Test
  void readPrompts_textPrompts_areEncodedWithThePolicysTokenizer(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"ids\", \"prompt\": [84, 104]}\n"
            + "{\"id\": \"text\", \"prompt\": \"The soup was \u00e9tonnant\"}\n",
        StandardCharsets.UTF_8);
    ByteTokenizer bytes = new ByteTokenizer();

    List<Prompt> read = CorpusFiles.readPrompts(file, java.util.Optional.of(bytes));

    assertEquals(TokenSequence.of(84, 104), read.get(0).tokens());
    assertEquals(bytes.encode("The soup was \u00e9tonnant"), read.get(1).tokens());
    assertEquals("The soup was \u00e9tonnant", bytes.decode(read.get(1).tokens()));
  }

  @Test
  void readPrompts_textWithoutTokenizerOrEmpty_isOneLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(file, "{\"id\": \"a\", \"prompt\": \"Hello\"}\n");
    IOException none = assertThrows(IOException.class, () -> CorpusFiles.readPrompts(file));
    assertEquals(
        "Expected token ids in 'prompt' (the policy has no tokenizer to encode text: add its"
            + " tokenizer.json to the model directory) on line 1 of "
            + file
            + ", found text",
        none.getMessage());
    Files.writeString(file, "{\"id\": \"a\", \"prompt\": \"\"}\n");
    IOException empty =
        assertThrows(
            IOException.class,
            () -> CorpusFiles.readPrompts(file, java.util.Optional.of(new ByteTokenizer())));
    assertEquals(
        "Expected a non-empty text or token ids in 'prompt' on line 1 of " + file + ", found \"\"",
        empty.getMessage());
  }

  // ---- chat prompts ("messages") ----

  private static final String CHAT_TEMPLATE =
      "{{ bos_token }}{% for m in messages %}"
          + "{% if m.role == 'system' and not loop.first %}"
          + "{{ raise_exception('A system message must come first') }}{% endif %}"
          + "<{{ m.role }}>{{ m.content }}<eos>{% endfor %}"
          + "{% if add_generation_prompt %}<assistant>{% endif %}";

  private static ChatTemplate chatTemplate() {
    return ChatTemplate.of(CHAT_TEMPLATE, Map.of("bos_token", "<bos>"));
  }

  private static HuggingFaceTokenizer testTokenizer() throws Exception {
    return HuggingFaceTokenizer.load(
        Path.of(
            CorpusFilesTest.class
                .getResource("/dev/jbond/models/tokenizer/tokenizer.json")
                .toURI()));
  }

  @Test
  void readPrompts_messages_areRenderedWithTheGenerationPromptAndEncodedWithoutAddedTokens(
      @TempDir Path dir) throws Exception {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"chat\", \"messages\": [{\"role\": \"system\", \"content\": \"Be kind.\"},"
            + " {\"role\": \"user\", \"content\": \"The soup was\"}]}\n"
            + "{\"id\": \"text\", \"prompt\": \"The soup was\"}\n",
        StandardCharsets.UTF_8);
    HuggingFaceTokenizer tokenizer = testTokenizer();

    List<Prompt> read =
        CorpusFiles.readPrompts(
            file, java.util.Optional.of(tokenizer), java.util.Optional.of(chatTemplate()));

    String rendered = "<bos><system>Be kind.<eos><user>The soup was<eos><assistant>";
    assertEquals(tokenizer.encode(rendered), read.get(0).tokens());
    assertEquals(rendered, tokenizer.decode(read.get(0).tokens()));
    int bos = tokenizer.tokenId("<bos>").getAsInt();
    assertEquals(bos, read.get(0).tokens().get(0));
    assertTrue(read.get(0).tokens().get(1) != bos, "one BOS, written by the template");
    assertEquals(tokenizer.encode("The soup was"), read.get(1).tokens());
  }

  @Test
  void readPrompts_messagesWithoutTemplateOrTokenizer_isOneLine(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"a\", \"prompt\": [1, 2]}\n"
            + "{\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n");

    IOException noTemplate =
        assertThrows(
            IOException.class,
            () -> CorpusFiles.readPrompts(file, java.util.Optional.of(testTokenizer())));
    assertEquals(
        "Line 2 of "
            + file
            + " has \"messages\" but the policy has no chat template (tokenizer_config.json"
            + " chat_template)",
        noTemplate.getMessage());

    IOException noTokenizer =
        assertThrows(
            IOException.class,
            () ->
                CorpusFiles.readPrompts(
                    file, java.util.Optional.empty(), java.util.Optional.of(chatTemplate())));
    assertEquals(
        "Line 2 of "
            + file
            + " has \"messages\" but the policy has no tokenizer to encode the rendered chat"
            + " (tokenizer.json)",
        noTokenizer.getMessage());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "\"hi\""
            + "| a non-empty array of {\"role\": string, \"content\": string} objects in 'messages'"
            + "| \"hi\"",
        "[]"
            + "| a non-empty array of {\"role\": string, \"content\": string} objects in 'messages'"
            + "| an empty array",
        "[\"user\"]| a {\"role\": ..., \"content\": ...} object| \"user\" at messages[0]",
        "[{\"content\": \"x\"}]| a non-empty string 'role'| none at messages[0]",
        "[{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"user\"}]"
            + "| a string 'content'| none at messages[1]",
        "[{\"role\": \"user\", \"content\": 7}]| a string 'content'| 7 at messages[0]",
        "[{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]"
            + "| a string 'content'| an array at messages[0]",
        "[{\"role\": \"user\", \"content\": \"x\", \"name\": \"bo\"}]"
            + "| only 'role' and 'content' in each message| 'name' at messages[0]",
      })
  void readPrompts_malformedMessages_isOneLineNamingFileAndLine(
      String messages, String expected, String found, @TempDir Path dir) throws Exception {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"a\", \"prompt\": [1]}\n\n{\"id\": \"b\", \"messages\": " + messages + "}\n");

    IOException e =
        assertThrows(
            IOException.class,
            () ->
                CorpusFiles.readPrompts(
                    file,
                    java.util.Optional.of(testTokenizer()),
                    java.util.Optional.of(chatTemplate())));

    assertEquals(
        "Expected " + expected.strip() + " on line 3 of " + file + ", found " + found.strip(),
        e.getMessage());
  }

  @Test
  void readPrompts_promptAndMessagesOnOneLine_isOneLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"a\", \"prompt\": \"Hi\","
            + " \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n");

    IOException e =
        assertThrows(
            IOException.class,
            () ->
                CorpusFiles.readPrompts(
                    file,
                    java.util.Optional.of(testTokenizer()),
                    java.util.Optional.of(chatTemplate())));

    assertEquals(
        "Expected either 'prompt' or 'messages' on line 1 of " + file + ", found both",
        e.getMessage());
  }

  @Test
  void readPrompts_templateRaisesOrRendersNothing_isOneLineNamingFileAndLine(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("prompts.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"},"
            + " {\"role\": \"system\", \"content\": \"Late.\"}]}\n");

    IOException raised =
        assertThrows(
            IOException.class,
            () ->
                CorpusFiles.readPrompts(
                    file,
                    java.util.Optional.of(testTokenizer()),
                    java.util.Optional.of(chatTemplate())));
    assertEquals(
        "Cannot render the chat on line 1 of "
            + file
            + ": The chat template rejected the conversation: A system message must come first",
        raised.getMessage());

    IOException empty =
        assertThrows(
            IOException.class,
            () ->
                CorpusFiles.readPrompts(
                    file,
                    java.util.Optional.of(testTokenizer()),
                    java.util.Optional.of(ChatTemplate.of("{# nothing #}"))));
    assertEquals(
        "Expected a chat that renders to non-empty text on line 1 of " + file + ", found \"\"",
        empty.getMessage());
  }
}
