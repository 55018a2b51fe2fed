package dev.jbond.models.tokenizer;

import ai.djl.huggingface.tokenizers.jni.LibUtils;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import dev.jbond.BackendException;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer read from a Hugging Face {@code tokenizer.json} file, run by the Hugging Face
 * tokenizers library itself (the Rust implementation, through DJL's JNI binding {@code
 * ai.djl.huggingface:tokenizers}, whose jar carries the native library for Linux x86-64 and
 * aarch64, macOS arm64 and Windows x86-64). It therefore tokenizes every family the library reads
 * exactly as the library does, among them:
 *
 * <ul>
 *   <li>byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen 2): {@code ByteLevel} pre-tokenizer and
 *       decoder, optionally after regex {@code Split} steps;
 *   <li>BPE over characters with byte fallback (Llama 2, Mistral): a {@code Metaspace}
 *       pre-tokenizer, or the normalizer {@code Prepend("▁")} then {@code Replace(" ", "▁")}, the
 *       tokens {@code <0x00>..<0xFF>}, and a {@code ByteFallback}, {@code Fuse}, {@code Strip}
 *       decoder sequence;
 *   <li>Unigram (T5, ALBERT, XLNet): pieces with scores, {@code Metaspace};
 *   <li>WordPiece (BERT and the reward models built on it): {@code BertNormalizer}, {@code
 *       BertPreTokenizer}, {@code ##} continuing subwords, {@code [CLS] $A [SEP]} templates;
 *   <li>WordLevel.
 * </ul>
 *
 * <p>Added tokens (special or not, with their {@code single_word}, {@code lstrip}, {@code rstrip}
 * and {@code normalized} flags) are matched in the text as the library matches them. The file's
 * {@code truncation} and {@code padding} are switched off: jbond never truncates or pads text
 * through the tokenizer. A BPE {@code dropout} other than null or 0 is refused, because it makes
 * encoding random.
 *
 * <h2>Encoding and decoding</h2>
 *
 * <p>{@link #encode} is the library's encoding without special tokens ({@code
 * add_special_tokens=False}); a character that the vocabulary cannot represent becomes the unknown
 * token, or its bytes' {@code <0xNN>} tokens with byte fallback, or is left out when the model has
 * neither, as in the library. {@link #encodeWithSpecialTokens} applies the file's {@code
 * post_processor}, for example BERT's {@code [CLS] ... [SEP]} or Llama's leading {@code <s>}.
 * {@link #decode} and {@link #decodeLenient} return the library's decoding with special tokens kept
 * ({@code skip_special_tokens=False}). The library replaces bytes that are not valid UTF-8 with
 * U+FFFD; {@link #decode} instead fails on them: when the decoded text holds U+FFFD and the file's
 * decoder works on bytes ({@code ByteLevel}: each token's characters stand for bytes, or {@code
 * ByteFallback}: {@code <0xNN>} tokens are bytes), it checks the tokens' bytes and reports the
 * first malformed one.
 *
 * <h2>Vocabulary and special tokens</h2>
 *
 * <p>{@link #vocabularySize} is the highest id of the model's vocabulary and the added tokens, plus
 * one. {@link #isSpecial} is true for the added tokens with {@code "special": true}. {@link
 * #load(Path)} takes {@code eos_token}, {@code bos_token} and {@code pad_token} (a string, or an
 * object with {@code "content"}) from a {@code tokenizer_config.json} next to the file when there
 * is one. Otherwise each is the first special added token named, for EOS, {@code </s>}, {@code
 * <eos>}, {@code <|endoftext|>} or {@code <|end_of_text|>}; for BOS, {@code <s>}, {@code <bos>},
 * {@code <|begin_of_text|>} or {@code <|startoftext|>}; for padding, {@code padding.pad_token},
 * else {@code <pad>}, {@code <|pad|>}, {@code [PAD]} or {@code <|padding|>}.
 *
 * <h2>Native resources</h2>
 *
 * <p>Each instance holds one tokenizer of the library (native memory, no file handles or threads).
 * This class is not {@link AutoCloseable}, unlike jbond's other native-backed objects: a tokenizer
 * is an immutable value that model directories, prompt files, samplers and commands share and hand
 * on without an owner who would know when the last user is done, and what it holds is plain memory
 * that nothing else waits for. The native tokenizer is therefore freed by a {@link Cleaner} once
 * the instance is unreachable; every call keeps the instance reachable until the library returns
 * ({@link Reference#reachabilityFence}). The library's tokenizer is safe for concurrent use, so
 * instances are immutable and thread-safe.
 *
 * <p>The native library is copied out of the jar on first use into DJL's cache folder ({@code
 * ~/.djl.ai/tokenizers}, or the folder named by the {@code DJL_CACHE_DIR} or {@code
 * ENGINE_CACHE_DIR} environment variable); nothing is downloaded.
 */
public final class HuggingFaceTokenizer implements Tokenizer {
  private static final List<String> EOS_NAMES =
      List.of("</s>", "<eos>", "<|endoftext|>", "<|end_of_text|>");
  private static final List<String> BOS_NAMES =
      List.of("<s>", "<bos>", "<|begin_of_text|>", "<|startoftext|>");
  private static final List<String> PAD_NAMES = List.of("<pad>", "<|pad|>", "[PAD]", "<|padding|>");
  private static final List<String> MODEL_TYPES =
      List.of("BPE", "Unigram", "WordLevel", "WordPiece");
  private static final Pattern POSITION = Pattern.compile("at position (\\d{1,9})");
  private static final Pattern BYTE_TOKEN = Pattern.compile("<0x([0-9A-Fa-f]{2})>");

  /** How the file's decoder turns tokens into text; decides what {@link #decode} checks. */
  private enum ByteDecoding {
    /** Tokens are text: the library's decoding is always valid UTF-8. */
    NONE,
    /** {@code ByteLevel}: a token's characters stand for bytes (see {@link ByteLevelAlphabet}). */
    BYTE_LEVEL,
    /** {@code ByteFallback}: the tokens {@code <0xNN>} are single bytes. */
    BYTE_FALLBACK
  }

  private final String name;
  private final NativeTokenizer library;
  private final String modelType;
  private final String[] idToToken;
  private final boolean[] special;
  private final Map<String, Integer> tokenToId;
  private final ByteDecoding byteDecoding;
  private final int eosId;
  private final int bosId;
  private final int padId;

  private HuggingFaceTokenizer(
      String name,
      NativeTokenizer library,
      String modelType,
      String[] idToToken,
      boolean[] special,
      Map<String, Integer> tokenToId,
      ByteDecoding byteDecoding,
      int eosId,
      int bosId,
      int padId) {
    this.name = name;
    this.library = library;
    this.modelType = modelType;
    this.idToToken = idToToken;
    this.special = special;
    this.tokenToId = tokenToId;
    this.byteDecoding = byteDecoding;
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
   *     the position), lacks a required field, names an unsupported model type, or is rejected by
   *     the library (the message names the file and gives the library's reason)
   * @throws IOException when a file cannot be read
   * @throws BackendException with {@link BackendException.Code#UNAVAILABLE} when the library's
   *     native code cannot be loaded on this platform
   */
  public static HuggingFaceTokenizer load(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    String json = Files.readString(file, StandardCharsets.UTF_8);
    HuggingFaceTokenizer tokenizer = parse(json, file.toString());
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
   *     name} and the position), lacks a required field, names an unsupported model type, or is
   *     rejected by the library
   * @throws BackendException with {@link BackendException.Code#UNAVAILABLE} when the library's
   *     native code cannot be loaded on this platform
   */
  public static HuggingFaceTokenizer parse(String json, String name)
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
   * Returns the type of the file's model.
   *
   * @return {@code BPE}, {@code Unigram}, {@code WordLevel} or {@code WordPiece}
   */
  public String modelType() {
    return modelType;
  }

  /**
   * Returns the id of a vocabulary token or added token.
   *
   * @param token the token's string as the file writes it (for byte-level BPE in the byte-level
   *     alphabet, so a leading space is {@code Ġ}; for Metaspace files with {@code ▁})
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
    return encode(text, false);
  }

  /**
   * Returns the token ids of {@code text} with the special tokens of the file's {@code
   * post_processor} for a single sequence, for example {@code [CLS] ... [SEP]} for BERT, {@code <s>
   * ...} for Llama, {@code ... </s>} for T5, and none for GPT-2.
   *
   * @param text well-formed UTF-16 text (no unpaired surrogates)
   * @return the token ids
   * @throws IllegalArgumentException when {@code text} holds an unpaired surrogate
   * @throws BackendException with {@link BackendException.Code#INTERNAL} when the library fails
   */
  @Override
  public TokenSequence encodeWithSpecialTokens(String text) {
    return encode(text, true);
  }

  private TokenSequence encode(String text, boolean addSpecialTokens) {
    Utf8.checkWellFormed(text);
    long[] ids;
    try {
      long encoding = TokenizersLibrary.LIB.encode(library.pointer, text, addSpecialTokens);
      try {
        ids = TokenizersLibrary.LIB.getTokenIds(encoding);
      } finally {
        TokenizersLibrary.LIB.deleteEncoding(encoding);
      }
    } catch (RuntimeException e) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          String.format(
              "Cannot encode a text of %d characters with %s: %s",
              text.length(), name, oneLine(e.getMessage())),
          e);
    } finally {
      Reference.reachabilityFence(library);
    }
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return TokenSequence.of(out);
  }

  /**
   * Returns the text of {@code tokens} as the library decodes them, with special tokens kept.
   *
   * @param tokens token ids below {@link #vocabularySize()}
   * @return the text
   * @throws IllegalArgumentException when an id is outside the vocabulary or names no token, or
   *     when the tokens' bytes are not valid UTF-8 (possible with {@code ByteLevel} and {@code
   *     ByteFallback} decoders)
   */
  @Override
  public String decode(TokenSequence tokens) {
    String text = decodeLenient(tokens);
    if (byteDecoding != ByteDecoding.NONE && text.indexOf('\ufffd') >= 0) {
      checkUtf8(tokens);
    }
    return text;
  }

  @Override
  public String decodeLenient(TokenSequence tokens) {
    tokens.checkVocabulary(idToToken.length, "the tokens to decode");
    long[] ids = new long[tokens.length()];
    for (int i = 0; i < ids.length; i++) {
      int id = tokens.get(i);
      Checks.checkArgument(
          idToToken[id] != null,
          "Expected token ids that name a token of %s, found %d at position %d, which names none",
          name,
          id,
          i);
      ids[i] = id;
    }
    try {
      return TokenizersLibrary.LIB.decode(library.pointer, ids, false);
    } catch (RuntimeException e) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          String.format(
              "Cannot decode %d tokens with %s: %s", ids.length, name, oneLine(e.getMessage())),
          e);
    } finally {
      Reference.reachabilityFence(library);
    }
  }

  /** Throws when the bytes that {@code tokens} stand for are not valid UTF-8. */
  private void checkUtf8(TokenSequence tokens) {
    int capacity = 0;
    for (int i = 0; i < tokens.length(); i++) {
      capacity += ByteLevelAlphabet.maxBytes(idToToken[tokens.get(i)]);
    }
    byte[] bytes = new byte[capacity];
    int length = 0;
    for (int i = 0; i < tokens.length(); i++) {
      String token = idToToken[tokens.get(i)];
      if (byteDecoding == ByteDecoding.BYTE_LEVEL) {
        length = ByteLevelAlphabet.unmap(token, bytes, length);
      } else {
        Matcher m = BYTE_TOKEN.matcher(token);
        if (m.matches()) {
          bytes[length++] = (byte) Integer.parseInt(m.group(1), 16);
        } else {
          byte[] raw = token.getBytes(StandardCharsets.UTF_8);
          System.arraycopy(raw, 0, bytes, length, raw.length);
          length += raw.length;
        }
      }
    }
    Utf8.decode(bytes, length, false);
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
    return "HuggingFaceTokenizer[name="
        + name
        + ", model="
        + modelType
        + ", vocabularySize="
        + idToToken.length
        + ", eos="
        + eosId
        + ", bos="
        + bosId
        + ", pad="
        + padId
        + "]";
  }

  private HuggingFaceTokenizer withConfig(Path config) throws IOException {
    FileReader reader = new FileReader(config.toString());
    Map<String, Object> root = reader.root(Files.readString(config, StandardCharsets.UTF_8));
    int eos = configToken(reader, root, "eos_token", eosId);
    int bos = configToken(reader, root, "bos_token", bosId);
    int pad = configToken(reader, root, "pad_token", padId);
    return new HuggingFaceTokenizer(
        name, library, modelType, idToToken, special, tokenToId, byteDecoding, eos, bos, pad);
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

  private static String oneLine(String message) {
    return message == null ? "(no message)" : message.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  /**
   * The library's tokenizer: a native handle that a {@link Cleaner} deletes once no {@link
   * HuggingFaceTokenizer} refers to this object (instances made by {@link #withConfig} share it).
   */
  private static final class NativeTokenizer {
    private static final Cleaner CLEANER = Cleaner.create();

    private final long pointer;

    private NativeTokenizer(long pointer) {
      this.pointer = pointer;
      CLEANER.register(this, new Delete(pointer));
    }

    /**
     * Loads the native library when needed and creates the library's tokenizer from {@code json},
     * with truncation and padding off.
     */
    static NativeTokenizer create(String json, String source) throws TokenizerFormatException {
      try {
        LibUtils.checkStatus();
      } catch (RuntimeException | LinkageError e) {
        throw new BackendException(
            BackendException.Code.UNAVAILABLE,
            String.format(
                "Cannot load the Hugging Face tokenizers native library (ai.djl.huggingface"
                    + ":tokenizers) on %s %s to read %s: %s",
                System.getProperty("os.name"),
                System.getProperty("os.arch"),
                source,
                oneLine(e.getMessage())),
            e);
      }
      long pointer;
      try {
        pointer = TokenizersLibrary.LIB.createTokenizerFromString(json);
      } catch (RuntimeException e) {
        throw new TokenizerFormatException(
            String.format(
                "Cannot read %s with the Hugging Face tokenizers library: %s",
                source, oneLine(e.getMessage())),
            e);
      }
      NativeTokenizer tokenizer = new NativeTokenizer(pointer);
      TokenizersLibrary.LIB.disableTruncation(pointer);
      TokenizersLibrary.LIB.disablePadding(pointer);
      return tokenizer;
    }
  }

  /** Deletes one native tokenizer; holds no reference to its owner. */
  private record Delete(long pointer) implements Runnable {
    @Override
    public void run() {
      TokenizersLibrary.LIB.deleteTokenizer(pointer);
    }
  }

  /** Reads the parsed JSON of one file, with messages that name the file and the field. */
  private static final class FileReader {
    private final String source;

    FileReader(String source) {
      this.source = source;
    }

    HuggingFaceTokenizer read(String json) throws TokenizerFormatException {
      Map<String, Object> root = root(json);
      Map<String, Object> modelJson = object(required(root, "model", ""), "model");
      String type = optString(modelJson, "type", "model");
      if (type != null && !MODEL_TYPES.contains(type)) {
        throw new TokenizerFormatException(
            String.format(
                "Unsupported model type '%s' in %s, supported: %s", type, source, MODEL_TYPES));
      }
      // BPE dropout would make encoding random, with the library's own unseeded generator.
      Object dropout = modelJson.get("dropout");
      if (dropout != null && !(dropout instanceof Number n && n.doubleValue() == 0.0)) {
        throw new TokenizerFormatException(
            String.format(
                "Unsupported model.dropout '%s' in %s, supported: [null, 0]", dropout, source));
      }
      Object vocabJson = required(modelJson, "vocab", "model");
      Map<String, Integer> tokenToId = new HashMap<>();
      int size = vocab(vocabJson, tokenToId);
      List<?> added =
          root.get("added_tokens") == null
              ? List.of()
              : list(root.get("added_tokens"), "added_tokens");
      for (int i = 0; i < added.size(); i++) {
        String where = "added_tokens[" + i + "]";
        Map<String, Object> entry = object(added.get(i), where);
        size = Math.max(size, id(required(entry, "id", where), where + ".id") + 1);
      }
      if (size == 0) {
        throw new TokenizerFormatException(
            "Expected at least one token in model.vocab or added_tokens of "
                + source
                + ", found none");
      }
      String[] idToToken = new String[size];
      boolean[] special = new boolean[size];
      tokenToId.forEach((token, id) -> idToToken[id] = token);
      for (int i = 0; i < added.size(); i++) {
        String where = "added_tokens[" + i + "]";
        Map<String, Object> entry = object(added.get(i), where);
        int id = id(entry.get("id"), where + ".id");
        String content = string(entry, "content", where);
        idToToken[id] = content;
        special[id] |= bool(entry, "special", where);
        tokenToId.put(content, id);
      }
      ByteDecoding byteDecoding = byteDecoding(root.get("decoder"), "decoder");
      NativeTokenizer library = NativeTokenizer.create(json, source);
      if (type == null) {
        // The library tells the models apart by their fields; name the model the same way.
        type =
            vocabJson instanceof List<?>
                ? "Unigram"
                : modelJson.containsKey("merges")
                    ? "BPE"
                    : modelJson.containsKey("max_input_chars_per_word") ? "WordPiece" : "WordLevel";
      }

      int eos = firstSpecial(idToToken, special, EOS_NAMES);
      int bos = firstSpecial(idToToken, special, BOS_NAMES);
      int pad = -1;
      Object padding = root.get("padding");
      if (padding != null) {
        String padToken = optString(object(padding, "padding"), "pad_token", "padding");
        Integer id = padToken == null ? null : tokenToId.get(padToken);
        pad = id == null ? -1 : id;
      }
      if (pad < 0) {
        pad = firstSpecial(idToToken, special, PAD_NAMES);
      }
      return new HuggingFaceTokenizer(
          source,
          library,
          type,
          idToToken,
          special,
          Map.copyOf(tokenToId),
          byteDecoding,
          eos,
          bos,
          pad);
    }

    /**
     * Reads the model's vocabulary into {@code tokenToId}: an object from token to id (BPE,
     * WordPiece, WordLevel) or an array of {@code [token, score]} pairs whose index is the id
     * (Unigram). Returns the highest id plus one.
     */
    private int vocab(Object json, Map<String, Integer> tokenToId) throws TokenizerFormatException {
      int size = 0;
      if (json instanceof List<?> pieces) {
        for (int i = 0; i < pieces.size(); i++) {
          String where = "model.vocab[" + i + "]";
          List<?> piece = list(pieces.get(i), where);
          if (piece.isEmpty()) {
            throw wrongType(where, "a [token, score] pair", piece);
          }
          tokenToId.putIfAbsent(string(piece.get(0), where + "[0]"), i);
        }
        return pieces.size();
      }
      Map<String, Object> map = object(json, "model.vocab");
      for (Map.Entry<String, Object> entry : map.entrySet()) {
        int id = id(entry.getValue(), "model.vocab['" + entry.getKey() + "']");
        tokenToId.put(entry.getKey(), id);
        size = Math.max(size, id + 1);
      }
      return size;
    }

    /** Finds whether the decoder (or a step of a decoder sequence) works on bytes. */
    private ByteDecoding byteDecoding(Object json, String where) throws TokenizerFormatException {
      if (json == null) {
        return ByteDecoding.NONE;
      }
      Map<String, Object> decoder = object(json, where);
      String type = optString(decoder, "type", where);
      if ("ByteLevel".equals(type)) {
        return ByteDecoding.BYTE_LEVEL;
      } else if ("ByteFallback".equals(type)) {
        return ByteDecoding.BYTE_FALLBACK;
      } else if ("Sequence".equals(type) && decoder.get("decoders") != null) {
        List<?> steps = list(decoder.get("decoders"), where + ".decoders");
        for (int i = 0; i < steps.size(); i++) {
          ByteDecoding step = byteDecoding(steps.get(i), where + ".decoders[" + i + "]");
          if (step != ByteDecoding.NONE) {
            return step;
          }
        }
      }
      return ByteDecoding.NONE;
    }

    private static int firstSpecial(String[] idToToken, boolean[] special, List<String> names) {
      for (String candidate : names) {
        for (int id = 0; id < idToToken.length; id++) {
          if (special[id] && candidate.equals(idToToken[id])) {
            return id;
          }
        }
      }
      return -1;
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

    private boolean bool(Map<String, Object> json, String key, String where)
        throws TokenizerFormatException {
      Object value = json.get(key);
      if (value == null) {
        return false;
      }
      if (value instanceof Boolean b) {
        return b;
      }
      throw wrongType(where + "." + key, "a boolean", value);
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
