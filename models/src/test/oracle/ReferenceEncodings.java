import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the reference encodings of the test tokenizer: for a fixed list of texts and seeded random
 * ones, the ids that the Hugging Face tokenizers library (Rust, reached through DJL's JNI binding)
 * gives, without special tokens. Not part of the build; see README.md next to this file.
 *
 * <p>Usage: {@code java ReferenceEncodings TOKENIZER_JSON OUT_JSONL}.
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
}
