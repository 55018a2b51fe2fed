package dev.jbond.orchestrator.cli;

import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.tokenizer.HuggingFaceTokenizer;
import dev.jbond.models.tokenizer.JavaBytePairTokenizer;
import dev.jbond.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench tokenize}: single-threaded encoding and decoding throughput of the tokenizers
 * that read {@code tokenizer.json}, side by side in one run on the same texts: jbond's hand-written
 * byte-level BPE ({@link JavaBytePairTokenizer}) and the Hugging Face tokenizers library ({@link
 * HuggingFaceTokenizer}).
 *
 * <p>For each {@code --tokenizer} file (by default the two byte-level BPE test tokenizers: GPT-2
 * style and Qwen 2 style) and each text set (the reference texts next to the file, the demo's short
 * prompts, and paragraphs of about 2 KB joined from the demo's reviews), the command first checks
 * that both give the same ids for every text and the same text for every decoding, and counts the
 * texts where they do not. Then it times passes over the set: {@code --warmup} untimed passes of
 * each, then {@code --rounds} rounds that make one pass of each in turn (rotating which goes
 * first), each pass repeated so that it lasts about {@code --pass-ms}. Figures are tokens per
 * second of the median pass.
 */
@Command(
    name = "tokenize",
    mixinStandardHelpOptions = true,
    description =
        "Tokenizer throughput: the hand-written byte-level BPE vs the Hugging Face tokenizers"
            + " library, one thread, same texts.")
public final class BenchTokenizeCommand implements Callable<Integer> {
  /** The test tokenizers, relative to the repository root. */
  static final Path FIXTURES = Path.of("models/src/test/resources/dev/jbond/models/tokenizer");

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--tokenizer",
      description =
          "A byte-level BPE tokenizer.json; repeat for several (default: the GPT-2-style and the"
              + " Qwen-2-style test tokenizers).")
  List<Path> tokenizers =
      List.of(
          FIXTURES.resolve("tokenizer.json"),
          FIXTURES.resolve("families/byte-level-bpe/tokenizer.json"));

  @Option(
      names = "--demo",
      description = "The demo assets, for prompts and reviews (default: ${DEFAULT-VALUE}).")
  Path demo = Path.of("models", "demo");

  @Option(
      names = "--paragraphs",
      description = "Paragraphs of about 2 KB (default: ${DEFAULT-VALUE}).")
  int paragraphs = 48;

  @Option(names = "--warmup", description = "Untimed passes of each (default: ${DEFAULT-VALUE}).")
  int warmup = 5;

  @Option(names = "--rounds", description = "Timed rounds (default: ${DEFAULT-VALUE}).")
  int rounds = 15;

  @Option(
      names = "--pass-ms",
      description = "Repeat each pass to last about this long (default: ${DEFAULT-VALUE}).")
  int passMs = 100;

  @Option(
      names = "--check-random",
      description =
          "Seeded random texts on which to compare the ids, untimed (default: ${DEFAULT-VALUE}).")
  int checkRandom = 100_000;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-tokenize.json");

  /** One implementation compared. */
  private interface Loader {
    Tokenizer load(Path file) throws IOException;
  }

  private static Map<String, Loader> implementations() {
    Map<String, Loader> all = new LinkedHashMap<>();
    all.put("hand-written", JavaBytePairTokenizer::load);
    all.put("library", HuggingFaceTokenizer::load);
    return all;
  }

  @Override
  public Integer call() throws Exception {
    Checks.checkArgument(warmup >= 0, "Expected --warmup >= 0, found %d", warmup);
    Checks.checkArgument(rounds >= 1, "Expected --rounds >= 1, found %d", rounds);
    Checks.checkArgument(passMs >= 1, "Expected --pass-ms >= 1, found %d", passMs);
    Checks.checkArgument(paragraphs >= 1, "Expected --paragraphs >= 1, found %d", paragraphs);
    Checks.checkArgument(checkRandom >= 0, "Expected --check-random >= 0, found %d", checkRandom);
    PrintWriter console = spec.commandLine().getOut();
    Map<String, List<String>> shared = new LinkedHashMap<>();
    shared.put("prompts", prompts(demo.resolve("prompts.jsonl")));
    shared.put("paragraphs", paragraphs(demo.resolve("corpus.jsonl"), paragraphs));

    Map<String, Object> results = new LinkedHashMap<>();
    results.put("cores", Runtime.getRuntime().availableProcessors());
    results.put("java", System.getProperty("java.version"));
    results.put("warmup", warmup);
    results.put("rounds", rounds);
    results.put("passMs", passMs);
    List<Object> perFile = new ArrayList<>();
    for (Path file : tokenizers) {
      Map<String, Tokenizer> loaded = new LinkedHashMap<>();
      for (Map.Entry<String, Loader> e : implementations().entrySet()) {
        loaded.put(e.getKey(), e.getValue().load(file));
      }
      Map<String, List<String>> sets = new LinkedHashMap<>();
      Path references = file.resolveSibling("reference-encodings.jsonl");
      if (Files.isRegularFile(references)) {
        sets.put("references", referenceTexts(references));
      }
      sets.putAll(shared);
      Map<String, Object> fileResult = new LinkedHashMap<>();
      fileResult.put("tokenizer", file.toString());
      console.printf(Locale.ROOT, "%n%s%n", file);
      console.printf(
          Locale.ROOT,
          "%-11s %6s %9s %-13s %9s %16s %16s%n",
          "texts",
          "count",
          "tokens",
          "tokenizer",
          "differ",
          "encode tokens/s",
          "decode tokens/s");
      for (Map.Entry<String, List<String>> set : sets.entrySet()) {
        fileResult.put(set.getKey(), measure(set.getKey(), set.getValue(), loaded, console));
      }
      if (checkRandom > 0) {
        fileResult.put("random", compare(randomTexts(file, checkRandom), loaded, console));
      }
      perFile.add(fileResult);
    }
    results.put("tokenizers", perFile);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, Json.write(results) + "\n", StandardCharsets.UTF_8);
    console.printf(Locale.ROOT, "%nresults: %s%n", out);
    console.flush();
    return 0;
  }

  private Map<String, Object> measure(
      String name, List<String> texts, Map<String, Tokenizer> tokenizers, PrintWriter console)
      throws Exception {
    List<String> names = new ArrayList<>(tokenizers.keySet());
    Tokenizer reference = tokenizers.get(names.get(names.size() - 1));
    List<TokenSequence> ids = new ArrayList<>(texts.size());
    long tokens = 0;
    for (String text : texts) {
      TokenSequence encoded = reference.encode(text);
      ids.add(encoded);
      tokens += encoded.length();
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("texts", texts.size());
    result.put("tokens", tokens);
    result.put("characters", texts.stream().mapToLong(String::length).sum());

    List<InterleavedRounds.Call<Integer>> encodes = new ArrayList<>();
    List<InterleavedRounds.Call<Integer>> decodes = new ArrayList<>();
    Map<String, Map<String, Object>> figures = new LinkedHashMap<>();
    for (String implementation : names) {
      Tokenizer tokenizer = tokenizers.get(implementation);
      int differ = 0;
      String firstDifference = null;
      for (int i = 0; i < texts.size(); i++) {
        String problem = difference(tokenizer, texts.get(i), ids.get(i), reference);
        if (problem != null) {
          differ++;
          firstDifference = firstDifference == null ? problem : firstDifference;
        }
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("textsThatDiffer", differ);
      if (firstDifference != null) {
        f.put("firstDifference", firstDifference);
      }
      figures.put(implementation, f);
      encodes.add(
          round -> {
            int n = 0;
            for (String text : texts) {
              n += tokenizer.encode(text).length();
            }
            return n;
          });
      decodes.add(
          round -> {
            int n = 0;
            for (TokenSequence sequence : ids) {
              n += tokenizer.decodeLenient(sequence).length();
            }
            return n;
          });
    }
    double[] encodeRates = rates(encodes, tokens);
    double[] decodeRates = rates(decodes, tokens);
    for (int k = 0; k < names.size(); k++) {
      Map<String, Object> f = figures.get(names.get(k));
      f.put("encodeTokensPerSecond", encodeRates[k]);
      f.put("decodeTokensPerSecond", decodeRates[k]);
      console.printf(
          Locale.ROOT,
          "%-11s %6d %9d %-13s %9d %,16.0f %,16.0f%n",
          k == 0 ? name : "",
          texts.size(),
          tokens,
          names.get(k),
          (Integer) f.get("textsThatDiffer"),
          encodeRates[k],
          decodeRates[k]);
      if (f.containsKey("firstDifference")) {
        console.printf(Locale.ROOT, "  first difference: %s%n", f.get("firstDifference"));
      }
    }
    console.flush();
    result.putAll(figures);
    return result;
  }

  /** Compares the implementations with the last one on {@code texts}, without timing. */
  private static Map<String, Object> compare(
      List<String> texts, Map<String, Tokenizer> tokenizers, PrintWriter console) {
    List<String> names = new ArrayList<>(tokenizers.keySet());
    Tokenizer reference = tokenizers.get(names.get(names.size() - 1));
    List<TokenSequence> ids = new ArrayList<>(texts.size());
    for (String text : texts) {
      ids.add(reference.encode(text));
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("texts", texts.size());
    for (String implementation : names.subList(0, names.size() - 1)) {
      int differ = 0;
      String first = null;
      for (int i = 0; i < texts.size(); i++) {
        String problem =
            difference(tokenizers.get(implementation), texts.get(i), ids.get(i), reference);
        if (problem != null) {
          differ++;
          first = first == null ? problem : first;
        }
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("textsThatDiffer", differ);
      if (first != null) {
        f.put("firstDifference", first);
      }
      result.put(implementation, f);
      console.printf(
          Locale.ROOT,
          "%-11s %6d %9s %-13s %9d%n",
          "random",
          texts.size(),
          "",
          implementation,
          differ);
      if (first != null) {
        console.printf(Locale.ROOT, "  first difference: %s%n", first);
      }
    }
    console.flush();
    return result;
  }

  /** Blocks of code points that random texts draw from, as {first, last}. */
  private static final int[][] BLOCKS = {
    {0x61, 0x7a},
    {0x41, 0x5a},
    {0x30, 0x39},
    {0x20, 0x20},
    {0x9, 0xd},
    {0x21, 0x2f},
    {0x3a, 0x40},
    {0x5b, 0x60},
    {0x7b, 0x7e},
    {0x80, 0xff},
    {0x100, 0x24f},
    {0x300, 0x36f},
    {0x370, 0x3ff},
    {0x400, 0x4ff},
    {0x590, 0x5ff},
    {0x600, 0x6ff},
    {0x900, 0x97f},
    {0xe00, 0xe7f},
    {0x1100, 0x11ff},
    {0x1e00, 0x1eff},
    {0x2000, 0x206f},
    {0x2070, 0x218f},
    {0x2190, 0x23ff},
    {0x2460, 0x24ff},
    {0x2500, 0x27bf},
    {0x3000, 0x303f},
    {0x3040, 0x30ff},
    {0x4e00, 0x4fff},
    {0xac00, 0xad00},
    {0xe000, 0xe010},
    {0xfb00, 0xfb4f},
    {0xfe00, 0xfe0f},
    {0xfeff, 0xfeff},
    {0xff00, 0xffef},
    {0xfff0, 0xfffd},
    {0x10000, 0x1007f},
    {0x1d400, 0x1d4ff},
    {0x1f1e6, 0x1f1ff},
    {0x1f300, 0x1f6ff},
    {0x1f900, 0x1f9ff},
    {0x20000, 0x2001f},
    {0xe0000, 0xe007f},
    {0x10fff0, 0x10ffff}
  };

  /** Seeded random texts for the exactness check (see the class description). */
  static List<String> randomTexts(Path tokenizerFile, int count) throws IOException {
    List<String> pieces =
        new ArrayList<>(List.of(" ", "  ", "\n", "\r\n", "\u200d", "\ufe0f", "'s", "'S", "'ll"));
    Object added =
        Json.parseObject(Files.readString(tokenizerFile, StandardCharsets.UTF_8))
            .get("added_tokens");
    if (added instanceof List<?> tokens) {
      for (Object token : tokens) {
        if (token instanceof Map<?, ?> entry && entry.get("content") instanceof String content) {
          pieces.add(content);
        }
      }
    }
    SplittableRandom random = new SplittableRandom(1);
    List<String> texts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      for (int n = random.nextInt(40); n > 0; n--) {
        if (random.nextInt(8) == 0) {
          text.append(pieces.get(random.nextInt(pieces.size())));
        } else {
          int[] block = BLOCKS[random.nextInt(BLOCKS.length)];
          text.appendCodePoint(block[0] + random.nextInt(block[1] - block[0] + 1));
        }
      }
      texts.add(text.toString());
    }
    return texts;
  }

  /** Returns how {@code tokenizer} differs from {@code reference} on {@code text}, or null. */
  private static String difference(
      Tokenizer tokenizer, String text, TokenSequence expected, Tokenizer reference) {
    TokenSequence got;
    try {
      got = tokenizer.encode(text);
    } catch (RuntimeException e) {
      return "encode(" + Json.write(text) + ") failed: " + e.getMessage();
    }
    if (!got.equals(expected)) {
      return "encode(" + Json.write(text) + ") = " + got + ", library: " + expected;
    }
    String decoded = tokenizer.decodeLenient(expected);
    String wanted = reference.decodeLenient(expected);
    if (!decoded.equals(wanted)) {
      return "decode("
          + expected
          + ") = "
          + Json.write(decoded)
          + ", library: "
          + Json.write(wanted);
    }
    return null;
  }

  /**
   * Times the calls (each one pass over the texts) and returns, per call, tokens per second of the
   * median timed pass.
   */
  private double[] rates(List<InterleavedRounds.Call<Integer>> calls, long tokens)
      throws Exception {
    // Calibrate: repeat each pass so that the fastest call's pass lasts about --pass-ms.
    double fastest = Double.MAX_VALUE;
    for (InterleavedRounds.Call<Integer> call : calls) {
      call.run(0);
      long start = System.nanoTime();
      call.run(0);
      fastest = Math.min(fastest, (System.nanoTime() - start) / 1e9);
    }
    int repeat = (int) Math.max(1, Math.ceil(passMs / 1e3 / Math.max(fastest, 1e-6)));
    List<InterleavedRounds.Call<Integer>> repeated = new ArrayList<>();
    for (InterleavedRounds.Call<Integer> call : calls) {
      repeated.add(
          round -> {
            int n = 0;
            for (int r = 0; r < repeat; r++) {
              n += call.run(round);
            }
            return n;
          });
    }
    List<List<InterleavedRounds.Timed<Integer>>> timed =
        InterleavedRounds.time(repeated, warmup, rounds);
    double[] out = new double[calls.size()];
    for (int k = 0; k < out.length; k++) {
      double[] seconds =
          timed.get(k).stream().mapToDouble(InterleavedRounds.Timed::seconds).toArray();
      Arrays.sort(seconds);
      double median =
          seconds.length % 2 == 1
              ? seconds[seconds.length / 2]
              : (seconds[seconds.length / 2 - 1] + seconds[seconds.length / 2]) / 2;
      out[k] = tokens * (double) repeat / median;
    }
    return out;
  }

  /** The {@code text} of every line of a reference-encodings file. */
  static List<String> referenceTexts(Path file) throws IOException {
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        texts.add((String) Json.parseObject(line).get("text"));
      }
    }
    return texts;
  }

  /** The {@code text} of every prompt of the demo's prompts file. */
  static List<String> prompts(Path file) throws IOException {
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      Object text = line.isBlank() ? null : Json.parseObject(line).get("text");
      if (text instanceof String s) {
        texts.add(s);
      }
    }
    Checks.checkArgument(
        !texts.isEmpty(), "Expected prompts with \"text\" in %s, found none", file);
    return texts;
  }

  /**
   * Paragraphs of at least 2,000 characters, each the demo's reviews (prompt and completion, in
   * byte tokens) in file order joined by spaces.
   */
  static List<String> paragraphs(Path corpus, int count) throws IOException {
    ByteTokenizer bytes = new ByteTokenizer();
    List<String> out = new ArrayList<>();
    StringBuilder paragraph = new StringBuilder();
    for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      Map<String, Object> example = Json.parseObject(line);
      String review =
          bytes
              .decodeLenient(
                  bytes.withoutSpecialTokens(ids(example.get("prompt"), example.get("completion"))))
              .strip();
      paragraph.append(paragraph.length() == 0 ? "" : " ").append(review);
      if (paragraph.length() >= 2000) {
        out.add(paragraph.toString());
        paragraph.setLength(0);
        if (out.size() == count) {
          return out;
        }
      }
    }
    Checks.checkArgument(
        !out.isEmpty(), "Expected reviews of at least 2,000 characters in %s, found less", corpus);
    return out;
  }

  private static TokenSequence ids(Object... lists) {
    List<Integer> all = new ArrayList<>();
    for (Object list : lists) {
      for (Object id : (List<?>) list) {
        all.add(((Long) id).intValue());
      }
    }
    return TokenSequence.of(all.stream().mapToInt(Integer::intValue).toArray());
  }
}
