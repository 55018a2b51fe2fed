package dev.jbond.models.tokenizer;

import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The hand-written byte-level BPE reader of {@code tokenizer.json} that jbond used before {@link
 * HuggingFaceTokenizer} (the Hugging Face tokenizers library), kept only for {@code bond bench
 * tokenize}, which compares the two; not for other use. Implemented in Java (no native library). It
 * supports byte-level BPE, the scheme of GPT-2, RoBERTa, Llama 3, Qwen 2 and others.
 *
 * <h2>Supported file contents</h2>
 *
 * <ul>
 *   <li>{@code model}: {@code "type": "BPE"} with {@code vocab} (token to id) and {@code merges},
 *       each merge either the string {@code "a b"} or the array {@code ["a", "b"]}; also {@code
 *       unk_token}, {@code fuse_unk} and {@code ignore_merges}. {@code dropout} must be null or 0,
 *       {@code byte_fallback} false, and {@code continuing_subword_prefix} / {@code
 *       end_of_word_suffix} null or empty.
 *   <li>{@code pre_tokenizer}: {@code ByteLevel} ({@code add_prefix_space}, default true; {@code
 *       use_regex}, default true, splits with the GPT-2 pattern: the contractions {@code 's 't 're
 *       've 'm 'll 'd}, {@code " ?\p{L}+"}, {@code " ?\p{N}+"}, {@code " ?[^\s\p{L}\p{N}]+"},
 *       {@code "\s+(?!\S)"}, {@code "\s+"}), or a {@code Sequence} of {@code Split} steps ({@code
 *       Regex} or {@code String} pattern, any {@code behavior}, {@code invert}) that ends with
 *       {@code ByteLevel}. Regular expressions are compiled with {@link java.util.regex.Pattern}
 *       and Unicode character classes.
 *   <li>{@code decoder}: {@code ByteLevel}.
 *   <li>{@code normalizer}: null, {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD}, {@code
 *       Lowercase}, or a {@code Sequence} of these.
 *   <li>{@code added_tokens}: matched in the (normalized) text before pre-tokenization, leftmost
 *       first and longest first, honouring {@code single_word}, {@code lstrip} and {@code rstrip};
 *       each keeps the id the file gives it.
 *   <li>{@code post_processor}: null, {@code ByteLevel}, {@code TemplateProcessing}, {@code
 *       RobertaProcessing}, {@code BertProcessing} or {@code Sequence}; accepted but not applied,
 *       because {@link #encode} never inserts special tokens (like Hugging Face's {@code
 *       add_special_tokens=False}). {@code truncation} is ignored; {@code padding.pad_token} names
 *       the padding token.
 * </ul>
 *
 * <p>Anything else fails to load with a {@link TokenizerFormatException} that names what was found
 * and what is supported, for example {@code "Unsupported model type 'WordPiece' in tokenizer.json,
 * supported: [BPE]"}.
 *
 * <h2>Encoding and decoding</h2>
 *
 * <p>{@link #encode}: normalize; split around added tokens; pre-tokenize each other piece into
 * words (prepending a space to a piece that does not start with one when {@code add_prefix_space})
 * and write each word's UTF-8 bytes as byte-level characters (the printable bytes {@code !..~},
 * {@code ¡..¬} and {@code ®..ÿ} as themselves, the other 68 bytes in order as U+0100..U+0143, so
 * the space is {@code Ġ}); then apply the BPE merges to each word, lowest merge rank first. Word
 * results are cached (bounded). {@link #decode}: each token's string is mapped back to bytes
 * through the byte-level alphabet (a token with a character outside it, such as an added token,
 * stands for its own UTF-8 bytes), and the bytes are read as UTF-8.
 *
 * <h2>Special tokens</h2>
 *
 * <p>{@link #load(Path)} takes {@code eos_token}, {@code bos_token} and {@code pad_token} from a
 * {@code tokenizer_config.json} next to the file when there is one. Otherwise each is the first
 * special added token named, for EOS, {@code </s>}, {@code <eos>}, {@code <|endoftext|>} or {@code
 * <|end_of_text|>}; for BOS, {@code <s>}, {@code <bos>}, {@code <|begin_of_text|>} or {@code
 * <|startoftext|>}; for padding, {@code padding.pad_token}, else {@code <pad>}, {@code <|pad|>},
 * {@code [PAD]} or {@code <|padding|>}.
 *
 * <p>Differences from Hugging Face's implementation: every added token is matched after
 * normalization (Hugging Face matches tokens with {@code "normalized": false} in the raw text);
 * offsets, truncation and padding are not implemented. Immutable and thread-safe.
 */
public final class JavaBytePairTokenizer implements Tokenizer {
  private static final List<String> EOS_NAMES =
      List.of("</s>", "<eos>", "<|endoftext|>", "<|end_of_text|>");
  private static final List<String> BOS_NAMES =
      List.of("<s>", "<bos>", "<|begin_of_text|>", "<|startoftext|>");
  private static final List<String> PAD_NAMES = List.of("<pad>", "<|pad|>", "[PAD]", "<|padding|>");
  private static final Pattern POSITION = Pattern.compile("at position (\\d{1,9})");
  private static final Set<String> POST_PROCESSORS =
      Set.of("ByteLevel", "TemplateProcessing", "RobertaProcessing", "BertProcessing", "Sequence");

  private final String name;
  private final UnaryOperator<String> normalizer;
  private final AddedTokenSplitter addedTokens;
  private final PreTokenizer preTokenizer;
  private final BytePairModel model;
  private final String[] idToToken;
  private final boolean[] special;
  private final Map<String, Integer> tokenToId;
  private final int eosId;
  private final int bosId;
  private final int padId;

  private JavaBytePairTokenizer(
      String name,
      UnaryOperator<String> normalizer,
      AddedTokenSplitter addedTokens,
      PreTokenizer preTokenizer,
      BytePairModel model,
      String[] idToToken,
      boolean[] special,
      Map<String, Integer> tokenToId,
      int eosId,
      int bosId,
      int padId) {
    this.name = name;
    this.normalizer = normalizer;
    this.addedTokens = addedTokens;
    this.preTokenizer = preTokenizer;
    this.model = model;
    this.idToToken = idToToken;
    this.special = special;
    this.tokenToId = tokenToId;
    this.eosId = eosId;
    this.bosId = bosId;
    this.padId = padId;
  }

  /**
   * Loads a {@code tokenizer.json} file, and the special tokens from a {@code
   * tokenizer_config.json} in the same directory when there is one.
   *
   * @param file the {@code tokenizer.json} file
   * @return the tokenizer, named after {@code file}
   * @throws TokenizerFormatException when a file is not valid JSON (the message names the file and
   *     the position), lacks a required field, or uses an unsupported feature
   * @throws IOException when a file cannot be read
   */
  public static JavaBytePairTokenizer load(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    String json = Files.readString(file, StandardCharsets.UTF_8);
    JavaBytePairTokenizer tokenizer = parse(json, file.toString());
    Path config = file.resolveSibling("tokenizer_config.json");
    if (Files.isRegularFile(config)) {
      tokenizer = tokenizer.withConfig(config);
    }
    return tokenizer;
  }

  /**
   * Reads a tokenizer from the text of a {@code tokenizer.json} file. Special tokens are found by
   * name (see the class description).
   *
   * @param json the file's text
   * @param name the tokenizer's name, used in messages (for example the file it came from)
   * @return the tokenizer
   * @throws TokenizerFormatException when {@code json} is not valid JSON (the message names {@code
   *     name} and the position), lacks a required field, or uses an unsupported feature
   */
  public static JavaBytePairTokenizer parse(String json, String name)
      throws TokenizerFormatException {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(name, "name");
    return new FileReader(name).read(json);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int vocabularySize() {
    return idToToken.length;
  }

  /**
   * Returns the number of BPE merge rules.
   *
   * @return the merge count
   */
  public int mergeCount() {
    return model.mergeCount();
  }

  /**
   * Returns the id of a vocabulary token or added token.
   *
   * @param token the token's string as the file writes it (byte-level characters for vocabulary
   *     tokens, so a leading space is {@code Ġ})
   * @return its id, or empty when there is no such token
   */
  public OptionalInt tokenId(String token) {
    Integer id = tokenToId.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /**
   * Returns the string of token {@code id} as the file writes it.
   *
   * @param id a token id
   * @return its string, or empty when no token has that id
   */
  public Optional<String> token(int id) {
    return id >= 0 && id < idToToken.length ? Optional.ofNullable(idToToken[id]) : Optional.empty();
  }

  @Override
  public TokenSequence encode(String text) {
    Utf8.checkWellFormed(text);
    IntList ids = new IntList(text.length() / 2 + 4);
    addedTokens.split(
        normalizer.apply(text),
        new AddedTokenSplitter.Sink() {
          @Override
          public void text(String piece) {
            for (String word : preTokenizer.words(piece)) {
              ids.addAll(model.encode(word));
            }
          }

          @Override
          public void token(AddedToken token) {
            ids.add(token.id());
          }
        });
    return TokenSequence.of(ids.toArray());
  }

  @Override
  public String decode(TokenSequence tokens) {
    return decode(tokens, false);
  }

  @Override
  public String decodeLenient(TokenSequence tokens) {
    return decode(tokens, true);
  }

  private String decode(TokenSequence tokens, boolean lenient) {
    tokens.checkVocabulary(idToToken.length, "the tokens to decode");
    int capacity = 0;
    for (int i = 0; i < tokens.length(); i++) {
      String token = idToToken[tokens.get(i)];
      Checks.checkArgument(
          token != null,
          "Expected token ids that name a token of %s, found %d at position %d, which names none",
          name,
          tokens.get(i),
          i);
      capacity += ByteLevelAlphabet.maxBytes(token);
    }
    byte[] bytes = new byte[capacity];
    int length = 0;
    for (int i = 0; i < tokens.length(); i++) {
      length = ByteLevelAlphabet.unmap(idToToken[tokens.get(i)], bytes, length);
    }
    return Utf8.decode(bytes, length, lenient);
  }

  @Override
  public boolean isSpecial(int id) {
    return id >= 0 && id < special.length && special[id];
  }

  @Override
  public OptionalInt eosId() {
    return eosId < 0 ? OptionalInt.empty() : OptionalInt.of(eosId);
  }

  @Override
  public OptionalInt padId() {
    return padId < 0 ? OptionalInt.empty() : OptionalInt.of(padId);
  }

  @Override
  public OptionalInt bosId() {
    return bosId < 0 ? OptionalInt.empty() : OptionalInt.of(bosId);
  }

  @Override
  public String toString() {
    return "JavaBytePairTokenizer[name="
        + name
        + ", vocabularySize="
        + idToToken.length
        + ", merges="
        + model.mergeCount()
        + ", preTokenizer="
        + preTokenizer
        + ", eos="
        + eosId
        + ", bos="
        + bosId
        + ", pad="
        + padId
        + "]";
  }

  private JavaBytePairTokenizer withConfig(Path config) throws IOException {
    FileReader reader = new FileReader(config.toString());
    Map<String, Object> root = reader.root(Files.readString(config, StandardCharsets.UTF_8));
    int eos = configToken(reader, root, "eos_token", eosId);
    int bos = configToken(reader, root, "bos_token", bosId);
    int pad = configToken(reader, root, "pad_token", padId);
    return new JavaBytePairTokenizer(
        name,
        normalizer,
        addedTokens,
        preTokenizer,
        model,
        idToToken,
        special,
        tokenToId,
        eos,
        bos,
        pad);
  }

  /** Returns the id named by {@code key}, -1 when it is null, and {@code fallback} when absent. */
  private int configToken(FileReader reader, Map<String, Object> root, String key, int fallback)
      throws TokenizerFormatException {
    if (!root.containsKey(key)) {
      return fallback;
    }
    Object value = root.get(key);
    if (value == null) {
      return -1;
    }
    String content =
        value instanceof Map<?, ?>
            ? reader.string(reader.object(value, key), "content", key)
            : reader.string(value, key);
    Integer id = tokenToId.get(content);
    if (id == null) {
      throw new TokenizerFormatException(
          String.format(
              "Expected %s '%s' of %s to be a token of %s, found no such token",
              key, content, reader.source, name));
    }
    return id;
  }

  /** A growable list of ints. */
  private static final class IntList {
    private int[] values;
    private int size;

    IntList(int capacity) {
      values = new int[Math.max(4, capacity)];
    }

    void add(int value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    void addAll(int[] more) {
      if (size + more.length > values.length) {
        values = Arrays.copyOf(values, Math.max(size * 2, size + more.length));
      }
      System.arraycopy(more, 0, values, size, more.length);
      size += more.length;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  /** Reads the parsed JSON of one file, with messages that name the file and the field. */
  private static final class FileReader {
    private final String source;

    FileReader(String source) {
      this.source = source;
    }

    JavaBytePairTokenizer read(String json) throws TokenizerFormatException {
      Map<String, Object> root = root(json);
      Map<String, Object> modelJson = object(required(root, "model", ""), "model");
      String type = optString(modelJson, "type", "model");
      if (type == null && modelJson.containsKey("merges")) {
        type = "BPE";
      }
      if (!"BPE".equals(type)) {
        throw unsupported("model type", type, "[BPE]");
      }
      checkBpeOptions(modelJson);

      Map<String, Integer> vocab = vocab(modelJson);
      List<String[]> merges = merges(modelJson, vocab);
      List<AddedToken> added = addedTokens(root, vocab);

      int size = 0;
      for (int id : vocab.values()) {
        size = Math.max(size, id + 1);
      }
      for (AddedToken token : added) {
        size = Math.max(size, token.id() + 1);
      }
      String[] idToToken = new String[size];
      boolean[] special = new boolean[size];
      Map<String, Integer> tokenToId = new HashMap<>(vocab);
      vocab.forEach((token, id) -> idToToken[id] = token);
      for (AddedToken token : added) {
        idToToken[token.id()] = token.content();
        special[token.id()] = token.special();
        tokenToId.put(token.content(), token.id());
      }

      int unknownId = -1;
      String unknown = optString(modelJson, "unk_token", "model");
      if (unknown != null) {
        Integer id = vocab.get(unknown);
        if (id == null) {
          throw new TokenizerFormatException(
              String.format(
                  "Expected model.unk_token '%s' of %s to be in model.vocab, found no such token",
                  unknown, source));
        }
        unknownId = id;
      }
      BytePairModel model =
          new BytePairModel(
              vocab,
              merges,
              unknownId,
              bool(modelJson, "fuse_unk", false, "model"),
              bool(modelJson, "ignore_merges", false, "model"));

      UnaryOperator<String> normalizer = normalizer(root.get("normalizer"), "normalizer");
      PreTokenizer preTokenizer = preTokenizer(root.get("pre_tokenizer"));
      checkDecoder(root.get("decoder"));
      checkPostProcessor(root.get("post_processor"));

      int eos = firstSpecial(added, EOS_NAMES);
      int bos = firstSpecial(added, BOS_NAMES);
      int pad = -1;
      Object padding = root.get("padding");
      if (padding != null) {
        String padToken = optString(object(padding, "padding"), "pad_token", "padding");
        Integer id = padToken == null ? null : tokenToId.get(padToken);
        pad = id == null ? -1 : id;
      }
      if (pad < 0) {
        pad = firstSpecial(added, PAD_NAMES);
      }
      return new JavaBytePairTokenizer(
          source,
          normalizer,
          new AddedTokenSplitter(added),
          preTokenizer,
          model,
          idToToken,
          special,
          Map.copyOf(tokenToId),
          eos,
          bos,
          pad);
    }

    Map<String, Object> root(String json) throws TokenizerFormatException {
      Object root;
      try {
        root = Json.parse(json);
      } catch (IllegalArgumentException e) {
        throw new TokenizerFormatException(
            "Cannot parse "
                + source
                + " as JSON"
                + lineAndColumn(json, e.getMessage())
                + ": "
                + e.getMessage(),
            e);
      }
      return object(root, "the top level");
    }

    /** Returns " at line L, column C" for the "at position N" that a JSON parse error names. */
    private static String lineAndColumn(String json, String message) {
      Matcher m = POSITION.matcher(message);
      if (!m.find()) {
        return "";
      }
      int position = Math.min(Integer.parseInt(m.group(1)), json.length());
      int line = 1;
      int lineStart = 0;
      for (int i = 0; i < position; i++) {
        if (json.charAt(i) == '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      return " at line " + line + ", column " + (position - lineStart + 1);
    }

    private void checkBpeOptions(Map<String, Object> modelJson) throws TokenizerFormatException {
      Object dropout = modelJson.get("dropout");
      if (dropout != null && number(dropout, "model.dropout") != 0.0) {
        throw unsupported("model.dropout", dropout, "[null, 0]");
      }
      if (bool(modelJson, "byte_fallback", false, "model")) {
        throw unsupported("model.byte_fallback", true, "[false]");
      }
      for (String key : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
        String value = optString(modelJson, key, "model");
        if (value != null && !value.isEmpty()) {
          throw unsupported("model." + key, value, "[null, \"\"]");
        }
      }
    }

    private Map<String, Integer> vocab(Map<String, Object> modelJson)
        throws TokenizerFormatException {
      Map<String, Object> json = object(required(modelJson, "vocab", "model"), "model.vocab");
      Map<String, Integer> vocab = new HashMap<>(json.size() * 2);
      Map<Integer, String> seen = new HashMap<>(json.size() * 2);
      for (Map.Entry<String, Object> entry : json.entrySet()) {
        String token = entry.getKey();
        String where = "model.vocab['" + token + "']";
        if (token.isEmpty()) {
          throw new TokenizerFormatException(
              "Expected non-empty tokens in model.vocab of " + source + ", found \"\"");
        }
        checkWellFormed(token, where);
        int id = id(entry.getValue(), where);
        String other = seen.put(id, token);
        if (other != null) {
          throw new TokenizerFormatException(
              String.format(
                  "Expected unique ids in model.vocab of %s, found %d for both '%s' and '%s'",
                  source, id, other, token));
        }
        vocab.put(token, id);
      }
      return vocab;
    }

    private List<String[]> merges(Map<String, Object> modelJson, Map<String, Integer> vocab)
        throws TokenizerFormatException {
      Object json = modelJson.get("merges");
      List<?> list = json == null ? List.of() : list(json, "model.merges");
      List<String[]> merges = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) {
        Object entry = list.get(i);
        String where = "model.merges[" + i + "]";
        String[] pair;
        if (entry instanceof String line) {
          pair = line.split(" ", -1);
          if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty()) {
            throw new TokenizerFormatException(
                String.format(
                    "Expected %s of %s to be two tokens joined by one space, found '%s'",
                    where, source, line));
          }
        } else if (entry instanceof List<?> parts) {
          if (parts.size() != 2
              || !(parts.get(0) instanceof String)
              || !(parts.get(1) instanceof String)) {
            throw new TokenizerFormatException(
                String.format(
                    "Expected %s of %s to be an array of two strings, found %s",
                    where, source, Json.write(parts)));
          }
          pair = new String[] {(String) parts.get(0), (String) parts.get(1)};
        } else {
          throw new TokenizerFormatException(
              String.format(
                  "Expected %s of %s to be a string or an array, found %s",
                  where, source, describe(entry)));
        }
        for (String token : new String[] {pair[0], pair[1], pair[0] + pair[1]}) {
          if (!vocab.containsKey(token)) {
            throw new TokenizerFormatException(
                String.format(
                    "Expected the tokens of %s ('%s', '%s') of %s and their join to be in"
                        + " model.vocab, found '%s' missing",
                    where, pair[0], pair[1], source, token));
          }
        }
        merges.add(pair);
      }
      return merges;
    }

    private List<AddedToken> addedTokens(Map<String, Object> root, Map<String, Integer> vocab)
        throws TokenizerFormatException {
      Object json = root.get("added_tokens");
      List<?> list = json == null ? List.of() : list(json, "added_tokens");
      List<AddedToken> tokens = new ArrayList<>(list.size());
      Map<Integer, String> byId = new HashMap<>();
      vocab.forEach((token, id) -> byId.put(id, token));
      Map<Integer, String> addedIds = new HashMap<>();
      for (int i = 0; i < list.size(); i++) {
        String where = "added_tokens[" + i + "]";
        Map<String, Object> entry = object(list.get(i), where);
        int id = id(required(entry, "id", where), where + ".id");
        String content = string(required(entry, "content", where), where + ".content");
        if (content.isEmpty()) {
          throw new TokenizerFormatException(
              "Expected a non-empty " + where + ".content in " + source + ", found \"\"");
        }
        checkWellFormed(content, where + ".content");
        String inVocab = byId.get(id);
        if (inVocab != null && !inVocab.equals(content)) {
          throw new TokenizerFormatException(
              String.format(
                  "Expected %s '%s' of %s to have an id of its own, found %d, which model.vocab"
                      + " gives to '%s'",
                  where, content, source, id, inVocab));
        }
        String previous = addedIds.put(id, content);
        if (previous != null) {
          throw new TokenizerFormatException(
              String.format(
                  "Expected unique ids in added_tokens of %s, found %d for both '%s' and '%s'",
                  source, id, previous, content));
        }
        tokens.add(
            new AddedToken(
                id,
                content,
                bool(entry, "single_word", false, where),
                bool(entry, "lstrip", false, where),
                bool(entry, "rstrip", false, where),
                bool(entry, "special", false, where)));
      }
      return tokens;
    }

    private UnaryOperator<String> normalizer(Object json, String where)
        throws TokenizerFormatException {
      if (json == null) {
        return UnaryOperator.identity();
      }
      Map<String, Object> normalizer = object(json, where);
      String type = optString(normalizer, "type", where);
      String supported = "[null, NFC, NFD, NFKC, NFKD, Lowercase, Sequence]";
      if (type == null) {
        throw unsupported(where, null, supported);
      }
      switch (type) {
        case "NFC":
          return s -> Normalizer.normalize(s, Normalizer.Form.NFC);
        case "NFD":
          return s -> Normalizer.normalize(s, Normalizer.Form.NFD);
        case "NFKC":
          return s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
        case "NFKD":
          return s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
        case "Lowercase":
          return s -> s.toLowerCase(Locale.ROOT);
        case "Sequence":
          List<?> steps = list(required(normalizer, "normalizers", where), where + ".normalizers");
          List<UnaryOperator<String>> chain = new ArrayList<>();
          for (int i = 0; i < steps.size(); i++) {
            chain.add(normalizer(steps.get(i), where + ".normalizers[" + i + "]"));
          }
          return s -> {
            String out = s;
            for (UnaryOperator<String> step : chain) {
              out = step.apply(out);
            }
            return out;
          };
        default:
          throw unsupported(where, type, supported);
      }
    }

    private PreTokenizer preTokenizer(Object json) throws TokenizerFormatException {
      String supported = "[ByteLevel, Sequence of Split steps ending with ByteLevel]";
      if (json == null) {
        throw unsupported("pre_tokenizer", null, supported);
      }
      List<Map<String, Object>> steps = new ArrayList<>();
      flatten(object(json, "pre_tokenizer"), "pre_tokenizer", steps);
      List<PreTokenizer.Split> splits = new ArrayList<>();
      for (int i = 0; i < steps.size(); i++) {
        Map<String, Object> step = steps.get(i);
        String type = optString(step, "type", "pre_tokenizer");
        boolean last = i == steps.size() - 1;
        if ("ByteLevel".equals(type) && last) {
          return new PreTokenizer(
              splits,
              bool(step, "add_prefix_space", true, "pre_tokenizer"),
              bool(step, "use_regex", true, "pre_tokenizer"));
        } else if ("Split".equals(type) && !last) {
          splits.add(split(step));
        } else {
          throw unsupported("pre_tokenizer", type, supported);
        }
      }
      throw unsupported("pre_tokenizer", "empty Sequence", supported);
    }

    private void flatten(Map<String, Object> json, String where, List<Map<String, Object>> out)
        throws TokenizerFormatException {
      if ("Sequence".equals(optString(json, "type", where))) {
        List<?> steps = list(required(json, "pretokenizers", where), where + ".pretokenizers");
        for (int i = 0; i < steps.size(); i++) {
          String at = where + ".pretokenizers[" + i + "]";
          flatten(object(steps.get(i), at), at, out);
        }
      } else {
        out.add(json);
      }
    }

    private PreTokenizer.Split split(Map<String, Object> json) throws TokenizerFormatException {
      String where = "pre_tokenizer Split";
      Map<String, Object> pattern = object(required(json, "pattern", where), where + ".pattern");
      Pattern compiled;
      if (pattern.get("Regex") instanceof String regex) {
        try {
          compiled = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
          throw new TokenizerFormatException(
              String.format(
                  "Expected a Java-compatible regular expression in %s.pattern of %s, found '%s'"
                      + " (%s)",
                  where, source, regex, e.getDescription()),
              e);
        }
      } else if (pattern.get("String") instanceof String literal) {
        compiled = Pattern.compile(Pattern.quote(literal));
      } else {
        throw new TokenizerFormatException(
            String.format(
                "Expected %s.pattern of %s to hold a 'Regex' or 'String', found %s",
                where, source, Json.write(pattern)));
      }
      String behavior = string(required(json, "behavior", where), where + ".behavior");
      PreTokenizer.Behavior parsed;
      switch (behavior) {
        case "Removed" -> parsed = PreTokenizer.Behavior.REMOVED;
        case "Isolated" -> parsed = PreTokenizer.Behavior.ISOLATED;
        case "MergedWithPrevious" -> parsed = PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
        case "MergedWithNext" -> parsed = PreTokenizer.Behavior.MERGED_WITH_NEXT;
        case "Contiguous" -> parsed = PreTokenizer.Behavior.CONTIGUOUS;
        default ->
            throw unsupported(
                where + ".behavior",
                behavior,
                "[Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous]");
      }
      return new PreTokenizer.Split(compiled, parsed, bool(json, "invert", false, where));
    }

    private void checkDecoder(Object json) throws TokenizerFormatException {
      String type = json == null ? null : optString(object(json, "decoder"), "type", "decoder");
      if (!"ByteLevel".equals(type)) {
        throw unsupported("decoder", type, "[ByteLevel]");
      }
    }

    private void checkPostProcessor(Object json) throws TokenizerFormatException {
      if (json == null) {
        return;
      }
      String type = optString(object(json, "post_processor"), "type", "post_processor");
      if (!POST_PROCESSORS.contains(type)) {
        throw unsupported(
            "post_processor",
            type,
            "[null, ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence]");
      }
    }

    private static int firstSpecial(List<AddedToken> added, List<String> names) {
      for (String candidate : names) {
        for (AddedToken token : added) {
          if (token.special() && token.content().equals(candidate)) {
            return token.id();
          }
        }
      }
      return -1;
    }

    private TokenizerFormatException unsupported(String what, Object found, String supported) {
      String shown = found == null ? "null" : "'" + found + "'";
      return new TokenizerFormatException(
          String.format("Unsupported %s %s in %s, supported: %s", what, shown, source, supported));
    }

    private void checkWellFormed(String text, String where) throws TokenizerFormatException {
      try {
        Utf8.checkWellFormed(text);
      } catch (IllegalArgumentException e) {
        throw new TokenizerFormatException(
            "Expected well-formed text in " + where + " of " + source + ": " + e.getMessage(), e);
      }
    }

    private Object required(Map<String, Object> json, String key, String where)
        throws TokenizerFormatException {
      Object value = json.get(key);
      if (value == null) {
        String path = where.isEmpty() ? key : where + "." + key;
        throw new TokenizerFormatException(
            String.format(
                "Expected a field '%s' in %s, found %s",
                path, source, json.containsKey(key) ? "null" : "none"));
      }
      return value;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Object value, String where) throws TokenizerFormatException {
      if (value instanceof Map<?, ?>) {
        return (Map<String, Object>) value;
      }
      throw wrongType(where, "an object", value);
    }

    private List<?> list(Object value, String where) throws TokenizerFormatException {
      if (value instanceof List<?> list) {
        return list;
      }
      throw wrongType(where, "an array", value);
    }

    String string(Object value, String where) throws TokenizerFormatException {
      if (value instanceof String text) {
        return text;
      }
      throw wrongType(where, "a string", value);
    }

    String string(Map<String, Object> json, String key, String where)
        throws TokenizerFormatException {
      return string(required(json, key, where), where + "." + key);
    }

    private String optString(Map<String, Object> json, String key, String where)
        throws TokenizerFormatException {
      Object value = json.get(key);
      return value == null ? null : string(value, where + "." + key);
    }

    private boolean bool(Map<String, Object> json, String key, boolean fallback, String where)
        throws TokenizerFormatException {
      Object value = json.get(key);
      if (value == null) {
        return fallback;
      }
      if (value instanceof Boolean b) {
        return b;
      }
      throw wrongType(where + "." + key, "a boolean", value);
    }

    private double number(Object value, String where) throws TokenizerFormatException {
      if (value instanceof Number n) {
        return n.doubleValue();
      }
      throw wrongType(where, "a number", value);
    }

    private int id(Object value, String where) throws TokenizerFormatException {
      if (value instanceof Long n && n >= 0 && n < Integer.MAX_VALUE) {
        return (int) (long) n;
      }
      throw wrongType(where, "a token id (an integer in [0, 2^31 - 1))", value);
    }

    private TokenizerFormatException wrongType(String where, String expected, Object found) {
      return new TokenizerFormatException(
          String.format(
              "Expected %s to be %s in %s, found %s", where, expected, source, describe(found)));
    }

    private static String describe(Object value) {
      if (value == null) {
        return "null";
      } else if (value instanceof String s) {
        return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
      } else if (value instanceof Map<?, ?>) {
        return "an object";
      } else if (value instanceof List<?>) {
        return "an array";
      } else {
        return String.valueOf(value);
      }
    }
  }
}
