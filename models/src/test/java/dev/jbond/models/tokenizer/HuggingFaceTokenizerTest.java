package dev.jbond.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.TokenizerFamilies.Family;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HuggingFaceTokenizerTest {
  /** Ids of the committed test tokenizer's special tokens (after 256 bytes and 150 merges). */
  private static final int EOS = 406;

  private static final int PAD = 407;
  private static final int BOS = 408;

  private static final List<String> VARIED_TEXTS =
      List.of(
          "",
          "The soup was very good!",
          "  spaces,\ttabs\nand\r\nlines  ",
          "It's the keeper's cat; they'll see.",
          "Café naïve €2 灯台 маяк",
          "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇺🇳",
          "numbers 1234567 and -5.25",
          "special <eos> inside <pad>text<bos>",
          "\u0000\u007f\u00ad\u00a0\u3000");

  private static Path tokenizerFile;
  private static HuggingFaceTokenizer tokenizer;
  private static ExecutorService executor;

  @BeforeAll
  static void load() throws IOException, URISyntaxException {
    tokenizerFile =
        Path.of(
            HuggingFaceTokenizerTest.class
                .getResource(TokenizerFixtures.TOKENIZER_RESOURCE)
                .toURI());
    tokenizer = HuggingFaceTokenizer.load(tokenizerFile);
    executor = Executors.newFixedThreadPool(4);
  }

  @AfterAll
  static void shutDown() {
    executor.shutdownNow();
  }

  private static HuggingFaceTokenizer parse(String json) throws TokenizerFormatException {
    return HuggingFaceTokenizer.parse(json, "test.json");
  }

  /** A small hand-written tokenizer over the letters a, b, c with the given merges. */
  private static String tinyTokenizer(String merges) {
    return """
        {"model": {"type": "BPE",
                   "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "aa": 6},
                   "merges": %s},
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false,
                           "trim_offsets": true, "use_regex": true},
         "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                     "use_regex": true}}
        """
        .formatted(merges);
  }

  private static String fixtureJson() throws IOException {
    return Files.readString(tokenizerFile, StandardCharsets.UTF_8);
  }

  @Test
  void encode_referenceTexts_matchesHuggingFaceIds() {
    String lines = TokenizerFixtures.resource("reference-encodings.jsonl");
    int checked = 0;
    for (String line : lines.split("\n")) {
      Map<String, Object> entry = Json.parseObject(line);
      String text = (String) entry.get("text");
      int[] expected =
          ((List<?>) entry.get("ids")).stream().mapToInt(id -> ((Long) id).intValue()).toArray();

      assertArrayEquals(expected, tokenizer.encode(text).toArray(), text);
      assertEquals(text, tokenizer.decode(TokenSequence.of(expected)), text);
      checked++;
    }
    assertEquals(133, checked);
  }

  @Test
  void encodeDecode_variedText_roundTripsExactly() {
    for (String text : VARIED_TEXTS) {
      assertEquals(text, tokenizer.decode(tokenizer.encode(text)), text);
    }
  }

  @Test
  void encode_randomText_idsLieInTheVocabularyAndRoundTrip() {
    SplittableRandom random = new SplittableRandom(3);
    int[] alphabet = "abcdefghij thelo'.,!?\n\t0123é灯😀<>eospad\u00a0".codePoints().toArray();
    for (int i = 0; i < 300; i++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(60);
      for (int j = 0; j < length; j++) {
        text.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
      }
      String original = text.toString();

      TokenSequence ids = tokenizer.encode(original);

      for (int k = 0; k < ids.length(); k++) {
        assertTrue(ids.get(k) >= 0 && ids.get(k) < tokenizer.vocabularySize(), original);
      }
      assertEquals(original, tokenizer.decode(ids));
    }
  }

  @Test
  void encode_trainingText_usesFewerTokensThanBytes() {
    String text = TokenizerFixtures.trainingText();

    int tokens = tokenizer.encode(text).length();

    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    assertTrue(tokens < 0.7 * bytes, tokens + " tokens for " + bytes + " bytes");
  }

  @Test
  void encode_commonWord_followsTheMergesToOneToken() {
    // Merges 0 ("h", "e"), 1 ("Ġ", "t") and 3 ("Ġt", "he") of the committed file: " the" becomes
    // Ġ t he, then Ġt he, then Ġthe.
    OptionalInt the = tokenizer.tokenId("Ġthe");

    assertTrue(the.isPresent());
    assertArrayEquals(new int[] {the.getAsInt()}, tokenizer.encode(" the").toArray());
    assertEquals("Ġthe", tokenizer.token(the.getAsInt()).orElseThrow());
  }

  @Test
  void encode_lowerRankedMergeOnTheRight_mergesItFirst() throws TokenizerFormatException {
    // ("b", "c") has rank 0 and wins over ("a", "b") although it lies further right.
    HuggingFaceTokenizer tiny = parse(tinyTokenizer("[[\"b\", \"c\"], [\"a\", \"b\"]]"));

    assertArrayEquals(new int[] {0, 4}, tiny.encode("abc").toArray());
  }

  @Test
  void encode_mergesInRankOrder_buildTheWholeWord() throws TokenizerFormatException {
    HuggingFaceTokenizer tiny =
        parse(tinyTokenizer("[[\"a\", \"b\"], [\"b\", \"c\"], [\"ab\", \"c\"]]"));

    assertArrayEquals(new int[] {5}, tiny.encode("abc").toArray());
    // a b a b c -> ab a b c -> ab ab c -> ab abc: equal ranks go left to right.
    assertArrayEquals(new int[] {3, 5}, tiny.encode("ababc").toArray());
  }

  @Test
  void encode_repeatedPair_mergesLeftmostFirst() throws TokenizerFormatException {
    HuggingFaceTokenizer tiny = parse(tinyTokenizer("[\"a a\"]"));

    assertArrayEquals(new int[] {6, 0}, tiny.encode("aaa").toArray());
    assertArrayEquals(new int[] {6, 6}, tiny.encode("aaaa").toArray());
  }

  @Test
  void encode_mergesAsStrings_matchesMergesAsArrays() throws IOException {
    String json = fixtureJson();
    Map<String, Object> root = new LinkedHashMap<>(Json.parseObject(json));
    @SuppressWarnings("unchecked")
    Map<String, Object> model = new LinkedHashMap<>((Map<String, Object>) root.get("model"));
    List<String> merges = new ArrayList<>();
    for (Object merge : (List<?>) model.get("merges")) {
      merges.add(((List<?>) merge).get(0) + " " + ((List<?>) merge).get(1));
    }
    model.put("merges", merges);
    root.put("model", model);
    String asStrings = Json.write(root);
    assertTrue(asStrings.contains("\"h e\""));

    HuggingFaceTokenizer fromStrings = parse(asStrings);

    for (String text : VARIED_TEXTS) {
      assertEquals(tokenizer.encode(text), fromStrings.encode(text), text);
    }
  }

  @Test
  void encode_fileAsksForTruncationAndPadding_neverTruncatesOrPads() throws IOException {
    String json =
        fixtureJson()
            .replace(
                "\"truncation\": null",
                "\"truncation\": {\"direction\": \"Right\", \"max_length\": 4,"
                    + " \"strategy\": \"LongestFirst\", \"stride\": 0}")
            .replace(
                "\"padding\": null",
                "\"padding\": {\"strategy\": {\"Fixed\": 64}, \"direction\": \"Right\","
                    + " \"pad_to_multiple_of\": null, \"pad_id\": 407, \"pad_type_id\": 0,"
                    + " \"pad_token\": \"<pad>\"}");
    assertTrue(json.contains("\"max_length\": 4") && json.contains("\"Fixed\": 64"));
    HuggingFaceTokenizer configured = parse(json);
    String text = "The lighthouse keeper counted the ships that passed the harbour.";

    assertEquals(tokenizer.encode(text), configured.encode(text));
    assertEquals(tokenizer.encodeWithSpecialTokens(text), configured.encodeWithSpecialTokens(text));
    assertTrue(configured.encode(text).length() > 4);
    assertEquals(OptionalInt.of(PAD), configured.padId());
  }

  @Test
  void encode_specialTokensInsideText_returnsTheirIds() {
    int[] ids = tokenizer.encode("a<eos>b <pad><bos>").toArray();

    assertArrayEquals(new int[] {'a', EOS, 'b', ' ', PAD, BOS}, ids);
  }

  @Test
  void encode_addPrefixSpace_encodesLikeALeadingSpace() throws IOException {
    String json =
        fixtureJson()
            .replace(
                "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false",
                "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true");
    HuggingFaceTokenizer prefixed = parse(json);

    assertEquals(tokenizer.encode(" the keeper"), prefixed.encode("the keeper"));
    assertEquals(tokenizer.encode(" the keeper"), prefixed.encode(" the keeper"));
    assertEquals(" the keeper", prefixed.decode(prefixed.encode("the keeper")));
  }

  @Test
  void encode_splitPreTokenizerSequence_splitsBeforeByteLevel() throws IOException {
    String json =
        fixtureJson()
            .replace(
                "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
                    + " \"trim_offsets\": true, \"use_regex\": true}",
                "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
                    + "{\"type\": \"Split\", \"pattern\": {\"String\": \"e\"},"
                    + " \"behavior\": \"Isolated\", \"invert\": false},"
                    + " {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
                    + " \"trim_offsets\": true, \"use_regex\": false}]}");
    HuggingFaceTokenizer split = parse(json);

    // "he" is merge 0, but the split puts "h" and "e" into different words.
    assertArrayEquals(new int[] {'h', 'e'}, split.encode("he").toArray());
    assertArrayEquals(
        new int[] {tokenizer.tokenId("he").getAsInt()}, tokenizer.encode("he").toArray());
  }

  @Test
  void specialIds_fromAddedTokenNames() {
    assertEquals(409, tokenizer.vocabularySize());
    assertEquals(OptionalInt.of(EOS), tokenizer.eosId());
    assertEquals(OptionalInt.of(PAD), tokenizer.padId());
    assertEquals(OptionalInt.of(BOS), tokenizer.bosId());
    assertTrue(tokenizer.isSpecial(EOS) && tokenizer.isSpecial(PAD) && tokenizer.isSpecial(BOS));
    assertFalse(tokenizer.isSpecial(0) || tokenizer.isSpecial(409));
  }

  @Test
  void load_nextToTokenizerConfig_takesSpecialTokensFromIt(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.copy(tokenizerFile, file);
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"eos_token\": {\"content\": \"<pad>\"}, \"bos_token\": \"<eos>\", \"pad_token\": null}");

    HuggingFaceTokenizer configured = HuggingFaceTokenizer.load(file);

    assertEquals(OptionalInt.of(PAD), configured.eosId());
    assertEquals(OptionalInt.of(EOS), configured.bosId());
    assertEquals(OptionalInt.empty(), configured.padId());
    assertEquals(file.toString(), configured.name());
  }

  @Test
  void load_configNamingAMissingToken_throwsNamingBothFiles(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.copy(tokenizerFile, file);
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"eos_token\": \"</s>\"}");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> HuggingFaceTokenizer.load(file));

    assertEquals(
        "Expected eos_token '</s>' of "
            + config
            + " to be a token of "
            + file
            + ", found no such token",
        e.getMessage());
  }

  @Test
  void load_fileThatDoesNotParse_throwsNamingFileAndPosition(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, "{\"model\": {\n  \"type\": \"BPE\",, }}");

    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> HuggingFaceTokenizer.load(file));

    assertEquals(
        "Cannot parse "
            + file
            + " as JSON at line 2, column 17: Expected '\"' (a member name) at position 28,"
            + " found ','",
        e.getMessage());
  }

  @Test
  void load_missingFile_throwsNoSuchFile(@TempDir Path dir) {
    assertThrows(
        NoSuchFileException.class, () -> HuggingFaceTokenizer.load(dir.resolve("absent.json")));
  }

  @Test
  void parse_unknownModelType_throwsNamingWhatIsSupported() {
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () -> parse("{\"model\": {\"type\": \"Lattice\", \"vocab\": {}}}"));

    assertEquals(
        "Unsupported model type 'Lattice' in test.json, supported: [BPE, Unigram, WordLevel,"
            + " WordPiece]",
        e.getMessage());
  }

  @Test
  void parse_preTokenizerTheLibraryDoesNotKnow_throwsNamingTheFileAndTheReason() {
    String json =
        tinyTokenizer("[]")
            .replace(
                "\"pre_tokenizer\": {\"type\": \"ByteLevel\"",
                "\"pre_tokenizer\": {\"type\": \"Splitter\"");

    TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> parse(json));

    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read test.json with the Hugging Face tokenizers library: data did not"
                    + " match any variant of untagged enum PreTokenizerUntagged at line "),
        e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void parse_noDecoder_joinsTokensWithSpacesAsTheLibraryDoes() throws TokenizerFormatException {
    HuggingFaceTokenizer tiny =
        parse(tinyTokenizer("[\"a b\"]").replaceAll(",\\s*\"decoder\": \\{[^}]*}", ""));

    assertEquals("ab c a", tiny.decode(TokenSequence.of(3, 2, 0)));
  }

  @Test
  void parse_mergeOfTokenMissingFromVocab_throwsNamingTheToken() {
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class, () -> parse(tinyTokenizer("[\"a b\", \"c a\"]")));

    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read test.json with the Hugging Face tokenizers library: Token `ca` out of"
                    + " vocabulary"),
        e.getMessage());
  }

  @Test
  void parse_noTokens_throwsNamingTheFile() {
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () -> parse("{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}"));

    assertEquals(
        "Expected at least one token in model.vocab or added_tokens of test.json, found none",
        e.getMessage());
  }

  @Test
  void parse_missingModel_throwsNamingTheField() {
    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> parse("{\"decoder\": null}"));

    assertEquals("Expected a field 'model' in test.json, found none", e.getMessage());
  }

  @Test
  void parse_vocabIdOfWrongType_throwsNamingTheToken() {
    String json = tinyTokenizer("[]").replace("\"c\": 2", "\"c\": \"2\"");

    TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> parse(json));

    assertEquals(
        "Expected model.vocab['c'] to be a token id (an integer in [0, 2^31 - 1)) in test.json,"
            + " found the string \"2\"",
        e.getMessage());
  }

  @Test
  void parse_dropout_throwsUnsupported() {
    String json =
        tinyTokenizer("[]").replace("\"type\": \"BPE\",", "\"type\": \"BPE\", \"dropout\": 0.1,");

    TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> parse(json));

    assertEquals(
        "Unsupported model.dropout '0.1' in test.json, supported: [null, 0]", e.getMessage());
  }

  @Test
  void encode_characterOutsideVocabularyWithoutUnknownToken_leavesItOutAsTheLibraryDoes()
      throws TokenizerFormatException {
    HuggingFaceTokenizer tiny = parse(tinyTokenizer("[]"));

    assertArrayEquals(new int[] {0, 1}, tiny.encode("abd").toArray());
  }

  @Test
  void encode_unpairedSurrogate_throwsNamingTheIndex() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encode("x\udc00"));

    assertEquals(
        "Expected well-formed UTF-16 text, found an unpaired surrogate U+DC00 at index 1",
        e.getMessage());
  }

  @Test
  void decode_tokensEndingInsideACharacter_throwsStrictlyAndReplacesLeniently() {
    // Byte 0xC3 alone (token 195) starts a two-byte character that never ends.
    TokenSequence tokens = TokenSequence.of('o', 'k', 195);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(tokens));

    assertEquals(
        "Expected tokens whose bytes are valid UTF-8, found a malformed sequence at byte 2 of 3",
        e.getMessage());
    assertEquals("ok\ufffd", tokenizer.decodeLenient(tokens));
  }

  @Test
  void decode_idOutsideVocabulary_throwsNamingIt() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(TokenSequence.of(409)));

    assertEquals(
        "Expected token ids < vocabulary size 409 in the tokens to decode, found 409 at position 0",
        e.getMessage());
  }

  @Test
  void decode_specialTokens_writesTheirText() {
    assertEquals("hi<eos><pad>", tokenizer.decode(TokenSequence.of('h', 'i', EOS, PAD)));
    assertEquals(
        "hi", tokenizer.decode(tokenizer.withoutSpecialTokens(TokenSequence.of('h', 'i', EOS))));
  }

  @Test
  void encode_fromManyThreads_matchesSequentialResults() throws Exception {
    List<String> texts = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(5);
    String[] words = {"the", " keeper", " ship", "s", " harbour", "!", " 12", "\n", " café"};
    for (int i = 0; i < 200; i++) {
      StringBuilder text = new StringBuilder();
      for (int j = random.nextInt(20); j > 0; j--) {
        text.append(words[random.nextInt(words.length)]);
      }
      texts.add(text.toString());
    }
    HuggingFaceTokenizer fresh = HuggingFaceTokenizer.load(tokenizerFile);
    List<TokenSequence> sequential = new ArrayList<>();
    for (String text : texts) {
      sequential.add(tokenizer.encode(text));
    }

    List<Future<List<TokenSequence>>> results = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      results.add(
          executor.submit(
              () -> {
                List<TokenSequence> out = new ArrayList<>();
                for (String text : texts) {
                  out.add(fresh.encode(text));
                }
                return out;
              }));
    }

    for (Future<List<TokenSequence>> result : results) {
      assertEquals(sequential, result.get());
    }
  }

  // ---- the families: byte-level BPE, Metaspace BPE with byte fallback, Unigram, WordPiece ----

  private static HuggingFaceTokenizer family(Family family) throws IOException, URISyntaxException {
    return HuggingFaceTokenizer.load(
        Path.of(HuggingFaceTokenizerTest.class.getResource(family.tokenizerResource()).toURI()));
  }

  private static int[] ids(Object json) {
    return ((List<?>) json).stream().mapToInt(id -> ((Long) id).intValue()).toArray();
  }

  /**
   * Checks every text of the family's reference encodings (written by Tokenizers.js, an independent
   * implementation): encode, decode, and where recorded encodeWithSpecialTokens and its decoding.
   * Where the library and Tokenizers.js disagree for a known reason, {@code
   * library-differences.jsonl} records both answers: the tokenizer must give the library's, and the
   * reference must still hold the recorded Tokenizers.js answer. Every recorded difference must be
   * met, so a stale entry fails too.
   */
  @ParameterizedTest
  @EnumSource(Family.class)
  void family_referenceEncodings_matchTheIndependentImplementation(Family family) throws Exception {
    HuggingFaceTokenizer tokenizer = family(family);
    Map<String, Map<String, Object>> differences = new HashMap<>();
    String differencesFile =
        TokenizerFixtures.resource(
            family.referenceResource().replace("reference-encodings", "library-differences"));
    for (String line : differencesFile.split("\n")) {
      if (!line.isEmpty()) {
        Map<String, Object> entry = Json.parseObject(line);
        assertFalse(entry.get("cause").equals("unexplained"), "An unexplained difference: " + line);
        differences.put(entry.get("field") + "\u0000" + entry.get("text"), entry);
      }
    }
    int texts = 0;
    int withSpecialTokens = 0;
    int differencesMet = 0;
    for (String line : TokenizerFixtures.resource(family.referenceResource()).split("\n")) {
      Map<String, Object> reference = Json.parseObject(line);
      String text = (String) reference.get("text");
      Map<String, Object> actual = new HashMap<>();
      TokenSequence ids = tokenizer.encode(text);
      actual.put("ids", ids.toArray());
      actual.put("decoded", tokenizer.decode(TokenSequence.of(ids(reference.get("ids")))));
      Map<String, Object> expected = new HashMap<>();
      expected.put("ids", ids(reference.get("ids")));
      expected.put("decoded", reference.getOrDefault("decoded", text));
      if (reference.containsKey("idsWithSpecialTokens")) {
        int[] special = ids(reference.get("idsWithSpecialTokens"));
        actual.put("idsWithSpecialTokens", tokenizer.encodeWithSpecialTokens(text).toArray());
        actual.put("decodedWithSpecialTokens", tokenizer.decode(TokenSequence.of(special)));
        expected.put("idsWithSpecialTokens", special);
        expected.put("decodedWithSpecialTokens", reference.get("decodedWithSpecialTokens"));
        withSpecialTokens++;
      }
      for (String field : expected.keySet()) {
        Object want = expected.get(field);
        Map<String, Object> difference = differences.get(field + "\u0000" + text);
        if (difference != null) {
          assertEquals(
              Json.write(difference.get("oracle")),
              Json.write(want instanceof int[] w ? toList(w) : want),
              field + " of " + text);
          want = difference.get("library");
          want = want instanceof List<?> ? ids(want) : want;
          differencesMet++;
        }
        Object got = actual.get(field);
        if (want instanceof int[] w) {
          assertArrayEquals(w, (int[]) got, field + " of " + Json.write(text));
        } else {
          assertEquals(want, got, field + " of " + Json.write(text));
        }
      }
      texts++;
    }
    assertTrue(texts >= 1000, texts + " texts");
    assertEquals(differences.size(), differencesMet, "recorded differences met");
    if (!family.equals(Family.BYTE_LEVEL_BPE)) {
      assertTrue(withSpecialTokens >= 250, withSpecialTokens + " texts with special tokens");
    }
  }

  private static List<Long> toList(int[] ids) {
    List<Long> out = new ArrayList<>(ids.length);
    for (int id : ids) {
      out.add((long) id);
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void family_committedTokenizer_isWhatTheGeneratorMakes(Family family) {
    assertEquals(
        TokenizerFamilies.json(family),
        TokenizerFixtures.resource(family.tokenizerResource()),
        "The committed "
            + family.tokenizerResource()
            + " is stale; regenerate it with TokenizerFamilies.main, then the reference encodings");
  }

  @Test
  void family_byteLevelBpe_specialAndAddedTokens() throws Exception {
    HuggingFaceTokenizer t = family(Family.BYTE_LEVEL_BPE);
    int endOfText = t.tokenId("<|endoftext|>").getAsInt();
    int think = t.tokenId("<think>").getAsInt();
    int mask = t.tokenId("<mask>").getAsInt();

    assertEquals("BPE", t.modelType());
    assertEquals(think + 2, t.vocabularySize());
    assertEquals(OptionalInt.of(endOfText), t.eosId());
    assertEquals(OptionalInt.empty(), t.bosId());
    assertEquals(OptionalInt.empty(), t.padId());
    assertTrue(t.isSpecial(endOfText) && t.isSpecial(mask));
    assertFalse(t.isSpecial(think) || t.isSpecial(0));
    // <mask> takes the space on its left (lstrip); <think> is matched although not special.
    assertEquals(t.encode("a<mask>"), t.encode("a <mask>"));
    assertArrayEquals(
        new int[] {think, t.tokenId("a").getAsInt(), endOfText},
        t.encode("<think>a<|endoftext|>").toArray());
    assertEquals(t.encode("hello"), t.encodeWithSpecialTokens("hello"));
  }

  @Test
  void family_metaspaceBpe_bytesFallBackAndBosComesFirst() throws Exception {
    HuggingFaceTokenizer t = family(Family.METASPACE_BPE);

    assertEquals(OptionalInt.of(2), t.eosId());
    assertEquals(OptionalInt.of(1), t.bosId());
    assertEquals(OptionalInt.empty(), t.padId());
    assertTrue(t.isSpecial(0) && t.isSpecial(1) && t.isSpecial(2));
    assertFalse(t.isSpecial(3));
    // The snowman is not in the vocabulary: its three UTF-8 bytes E2 98 83 become byte tokens.
    assertTrue(t.tokenId("\u2603").isEmpty());
    int[] snowman = t.encode("\u2603").toArray();
    assertArrayEquals(
        new int[] {
          t.tokenId("\u2581").getAsInt(),
          t.tokenId("<0xE2>").getAsInt(),
          t.tokenId("<0x98>").getAsInt(),
          t.tokenId("<0x83>").getAsInt()
        },
        snowman);
    assertEquals("\u2603", t.decode(TokenSequence.of(snowman)));
    int[] withBos = t.encodeWithSpecialTokens("the keeper").toArray();
    assertEquals(1, withBos[0]);
    assertArrayEquals(
        t.encode("the keeper").toArray(), Arrays.copyOfRange(withBos, 1, withBos.length));
  }

  @Test
  void family_metaspaceBpe_byteTokensEndingInsideACharacter_throwStrictlyAndReplaceLeniently()
      throws Exception {
    HuggingFaceTokenizer t = family(Family.METASPACE_BPE);
    TokenSequence tokens =
        TokenSequence.of(t.tokenId("\u2581the").getAsInt(), t.tokenId("<0xE7>").getAsInt());

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> t.decode(tokens));

    assertEquals(
        "Expected tokens whose bytes are valid UTF-8, found a malformed sequence at byte 6 of 7",
        e.getMessage());
    assertEquals("the\ufffd", t.decodeLenient(tokens));
    // A replacement character that the text itself holds is no error.
    assertEquals("a\ufffd", t.decode(t.encode("a\ufffd")));
  }

  @Test
  void family_unigram_eosAfterTheTextAndPadding() throws Exception {
    HuggingFaceTokenizer t = family(Family.UNIGRAM);

    assertEquals("Unigram", t.modelType());
    assertEquals(OptionalInt.of(1), t.eosId());
    assertEquals(OptionalInt.of(0), t.padId());
    assertEquals(OptionalInt.empty(), t.bosId());
    assertEquals(t.tokenId("<extra_id_2>").getAsInt() + 1, t.vocabularySize());
    int[] ids = t.encodeWithSpecialTokens("the keeper").toArray();
    assertEquals(1, ids[ids.length - 1]);
    assertEquals("the keeper</s>", t.decode(TokenSequence.of(ids)));
    assertEquals("the keeper", t.decode(t.withoutSpecialTokens(TokenSequence.of(ids))));
  }

  @Test
  void family_wordPiece_clsAndSepAroundTheText() throws Exception {
    HuggingFaceTokenizer t = family(Family.WORDPIECE);
    int cls = t.tokenId("[CLS]").getAsInt();
    int sep = t.tokenId("[SEP]").getAsInt();

    assertEquals("WordPiece", t.modelType());
    assertEquals(OptionalInt.of(t.tokenId("[PAD]").getAsInt()), t.padId());
    assertEquals(OptionalInt.empty(), t.eosId());
    int[] plain = t.encode("The Keeper counted").toArray();
    int[] ids = t.encodeWithSpecialTokens("The Keeper counted").toArray();
    assertEquals(plain.length + 2, ids.length);
    assertEquals(cls, ids[0]);
    assertEquals(sep, ids[ids.length - 1]);
    assertEquals("[CLS] the keeper counted [SEP]", t.decode(TokenSequence.of(ids)));
    assertEquals(t.tokenId("[UNK]").getAsInt(), t.encode("\u2603").get(0));
  }

  @Test
  void encodeWithSpecialTokens_byteLevelPostProcessor_addsNothing() {
    assertEquals(tokenizer.encode("a<eos>b"), tokenizer.encodeWithSpecialTokens("a<eos>b"));
  }
}
