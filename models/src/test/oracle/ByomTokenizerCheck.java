import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Checks the tokenizers of the bring-your-own-model fixtures against the Hugging Face tokenizers
 * library (the Rust implementation, reached through DJL's JNI binding): for each folder, loads
 * {@code tokenizer.json} and encodes every text of {@code references.json}'s {@code
 * tokenizer_checks}, which the fixture script's own Python encoders wrote; the ids must be equal,
 * and where the script recorded a decoded text, decoding the ids (special tokens kept) must give
 * it. Also prints the tokens. Not part of the build; see README.md next to this file.
 *
 * <p>Usage: {@code java ByomTokenizerCheck BYOM_DIR}; exits with status 1 on a mismatch.
 */
public final class ByomTokenizerCheck {
  private ByomTokenizerCheck() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources/fixtures/byom");
    int failures = 0;
    for (String folder : new String[] {"llama", "gpt2", "reward-bert"}) {
      Path dir = root.resolve(folder);
      JsonObject references =
          JsonParser.parseString(
                  Files.readString(dir.resolve("references.json"), StandardCharsets.UTF_8))
              .getAsJsonObject();
      try (HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of())) {
        System.out.println("== " + folder);
        for (JsonElement element : references.getAsJsonArray("tokenizer_checks")) {
          JsonObject check = element.getAsJsonObject();
          String text = check.get("text").getAsString();
          boolean special = check.get("add_special_tokens").getAsBoolean();
          long[] expected = longs(check.getAsJsonArray("ids"));
          Encoding encoding = tokenizer.encode(text, special, false);
          long[] ids = encoding.getIds();
          String decoded = tokenizer.decode(ids, false);
          boolean idsMatch = Arrays.equals(ids, expected);
          boolean decodedMatch =
              check.get("decoded").isJsonNull() || check.get("decoded").getAsString().equals(decoded);
          System.out.printf(
              "%s %s%n   tokens  %s%n   decoded %s%n",
              idsMatch && decodedMatch ? "ok  " : "FAIL",
              quote(text),
              String.join(" ", encoding.getTokens()).replace("\n", "\\n"),
              quote(decoded));
          if (!idsMatch) {
            System.out.printf(
                "   ids      %s%n   expected %s%n", Arrays.toString(ids), Arrays.toString(expected));
          }
          if (!decodedMatch) {
            System.out.printf("   expected decoded %s%n", quote(check.get("decoded").getAsString()));
          }
          failures += idsMatch && decodedMatch ? 0 : 1;
        }
      }
    }
    System.out.println(failures == 0 ? "all tokenizer checks pass" : failures + " checks fail");
    System.exit(failures == 0 ? 0 : 1);
  }

  private static long[] longs(JsonArray array) {
    long[] values = new long[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).getAsLong();
    }
    return values;
  }

  private static String quote(String text) {
    return "\"" + text.replace("\n", "\\n") + "\"";
  }
}
