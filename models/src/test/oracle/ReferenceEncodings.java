import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Two tools around the Hugging Face tokenizers library (Rust, reached through DJL's JNI binding),
 * not part of the build; see README.md next to this file.
 *
 * <p>{@code java ReferenceEncodings TOKENIZER_JSON OUT_JSONL} writes the reference encodings of the
 * GPT-2-style test tokenizer: for a fixed list of texts and seeded random ones, the ids that the
 * library gives, without special tokens.
 *
 * <p>{@code java ReferenceEncodings --differences FAMILIES_DIR} compares the library with the
 * reference encodings that Tokenizers.js wrote for each family ({@code reference-encodings.mjs})
 * and writes every field where the two disagree to {@code library-differences.jsonl} next to them:
 * {@code {"text", "field", "oracle", "library", "cause"}}, where {@code field} is {@code ids},
 * {@code decoded}, {@code idsWithSpecialTokens} or {@code decodedWithSpecialTokens}, and {@code
 * cause} the known difference between the implementations that explains it, or {@code
 * "unexplained"}.
 */
public final class ReferenceEncodings {
  private static final List<String> FIXED =
      List.of(
          "",
          "hello",
          "Hello world",
          " leading space",
          "trailing space ",
          "  two  spaces  ",
          "\n",
          "a\nb\n\nc",
          "\t tab",
          "It's the keeper's cat; we've, they'll, I'm, you'd, she's",
          "I'M LOUD 'S",
          "12 on Monday, 1234567 numbers -5 40km/h",
          "Caf\u00e9 na\u00efve \u20ac2 \u706f\u53f0 \u043c\u0430\u044f\u043a",
          "emoji \ud83d\udd8d\ufe0f \u2600\ufe0f \ud83d\ude00\ud83d\ude00 \ud83d\udc4d\ud83c\udffd",
          "<eos>",
          "text<eos>more",
          "a <pad> b<bos>c",
          "<eos><eos>",
          "<eo",
          "x<<eos>>y",
          "NBSP\u00a0here",
          "ideographic\u3000space",
          "next\u0085line",
          "zero\u200bwidth",
          "arabic \u0663\u0664 digits",
          "combining e\u0301 a\u0308",
          "   ",
          "!!!???...",
          "end.\n\n\n",
          "\r\n windows \r\n",
          "mixed 3rd 21st",
          "x  \n  y",
          "The lighthouse keeper counted the ships that passed the harbour every evening.");

  private ReferenceEncodings() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 2 && args[0].equals("--differences")) {
      differences(Path.of(args[1]));
      return;
    }
    List<String> texts = new ArrayList<>(FIXED);
    SplittableRandom random = new SplittableRandom(7);
    int[] alphabet =
        "aeiou thsrnl TH'.,!?-\n\t0123456789\u00e9\u00df\u706f\ud83d\ude00<>eospadb\u00a0\u3000_"
            .codePoints()
            .toArray();
    for (int i = 0; i < 60; i++) {
      StringBuilder text = new StringBuilder();
      int n = random.nextInt(40);
      for (int j = 0; j < n; j++) {
        text.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
      }
      texts.add(text.toString());
    }
    String[] pieces = {"<eos>", "<pad>", "<bos>", " ", "a", "_", "\n", "house", "x", "\u00e9", "1"};
    for (int i = 0; i < 40; i++) {
      StringBuilder text = new StringBuilder();
      int n = random.nextInt(8);
      for (int j = 0; j < n; j++) {
        text.append(pieces[random.nextInt(pieces.length)]);
      }
      texts.add(text.toString());
    }
    Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    try (HuggingFaceTokenizer tokenizer =
            HuggingFaceTokenizer.builder()
                .optTokenizerPath(Path.of(args[0]))
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .build();
        Writer out = Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8)) {
      for (String text : texts) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("text", text);
        line.put("ids", tokenizer.encode(text).getIds());
        out.write(gson.toJson(line));
        out.write('\n');
      }
    }
  }

  private static final String WHITESPACE_SPLIT =
      "WhitespaceSplit: Tokenizers.js splits on JavaScript's \\s, which holds U+FEFF but not"
          + " U+0085; the library on Unicode White_Space, which holds U+0085 but not U+FEFF";
  private static final String BYTE_FALLBACK_BOM =
      "ByteFallback decoder: Tokenizers.js decodes each run of byte tokens with a TextDecoder,"
          + " which drops a U+FEFF (byte order mark) at the start of the run";
  private static final String ASTRAL_CJK =
      "BertNormalizer: Tokenizers.js puts spaces around CJK characters one UTF-16 unit at a time,"
          + " so it misses those outside the Basic Multilingual Plane (U+20000 and up)";

  private static void differences(Path familiesDir) throws IOException {
    Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    List<Path> families = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(familiesDir)) {
      for (Path dir : dirs) {
        if (Files.isRegularFile(dir.resolve("reference-encodings.jsonl"))) {
          families.add(dir);
        }
      }
    }
    families.sort(null);
    for (Path dir : families) {
      String family = dir.getFileName().toString();
      List<String> out = new ArrayList<>();
      Map<String, Integer> causes = new TreeMap<>();
      try (HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(dir.resolve("tokenizer.json"))
              .optAddSpecialTokens(false)
              .optTruncation(false)
              .optPadding(false)
              .build()) {
        for (String line : Files.readAllLines(dir.resolve("reference-encodings.jsonl"))) {
          JsonObject reference = JsonParser.parseString(line).getAsJsonObject();
          String text = reference.get("text").getAsString();
          long[] ids = longs(reference.get("ids"));
          Map<String, Object[]> fields = new LinkedHashMap<>();
          fields.put("ids", new Object[] {ids, tokenizer.encode(text, false, false).getIds()});
          String decoded =
              reference.has("decoded") ? reference.get("decoded").getAsString() : text;
          fields.put("decoded", new Object[] {decoded, tokenizer.decode(ids, false)});
          if (reference.has("idsWithSpecialTokens")) {
            long[] special = longs(reference.get("idsWithSpecialTokens"));
            fields.put(
                "idsWithSpecialTokens",
                new Object[] {special, tokenizer.encode(text, true, false).getIds()});
            fields.put(
                "decodedWithSpecialTokens",
                new Object[] {
                  reference.get("decodedWithSpecialTokens").getAsString(),
                  tokenizer.decode(special, false)
                });
          }
          for (Map.Entry<String, Object[]> field : fields.entrySet()) {
            Object oracle = field.getValue()[0];
            Object library = field.getValue()[1];
            boolean same =
                oracle instanceof long[] o ? Arrays.equals(o, (long[]) library) : oracle.equals(library);
            if (!same) {
              String cause = cause(family, field.getKey(), text);
              causes.merge(cause, 1, Integer::sum);
              Map<String, Object> entry = new LinkedHashMap<>();
              entry.put("text", text);
              entry.put("field", field.getKey());
              entry.put("oracle", oracle);
              entry.put("library", library);
              entry.put("cause", cause);
              out.add(gson.toJson(entry));
            }
          }
        }
      }
      Path file = dir.resolve("library-differences.jsonl");
      Files.writeString(
          file, out.isEmpty() ? "" : String.join("\n", out) + "\n", StandardCharsets.UTF_8);
      System.out.println(family + ": " + out.size() + " differences " + causes + " -> " + file);
    }
  }

  /** The known difference between Tokenizers.js and the library that explains a disagreement. */
  private static String cause(String family, String field, String text) {
    boolean decoded = field.startsWith("decoded");
    if (family.equals("unigram") && !decoded && (text.contains("\u0085") || text.contains("\ufeff"))) {
      return WHITESPACE_SPLIT;
    }
    if (family.startsWith("metaspace-bpe") && decoded && text.contains("\ufeff")) {
      return BYTE_FALLBACK_BOM;
    }
    if (family.equals("wordpiece")
        && !decoded
        && text.codePoints().anyMatch(c -> c >= 0x20000 && c <= 0x3134f)) {
      return ASTRAL_CJK;
    }
    return "unexplained";
  }

  private static long[] longs(JsonElement json) {
    JsonArray array = json.getAsJsonArray();
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).getAsLong();
    }
    return out;
  }
}
