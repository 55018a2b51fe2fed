package dev.jbond.orchestrator.cli;

import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.tokenizer.HuggingFaceTokenizer;
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
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond bench tokenize}: single-threaded encoding and decoding throughput of {@link
 * HuggingFaceTokenizer} (the Hugging Face tokenizers library) on {@code tokenizer.json} files.
 *
 * <p>For each {@code --tokenizer} file (by default the two byte-level BPE test tokenizers: GPT-2
 * style and Qwen 2 style) and each text set (the reference texts next to the file, the demo's short
 * prompts, and paragraphs of about 2 KB joined from the demo's reviews), it times passes over the
 * set: {@code --warmup} untimed passes, then {@code --rounds} timed ones, each repeated so that it
 * lasts about {@code --pass-ms}. Figures are tokens per second of the median pass; decoding decodes
 * the encoder's ids with {@link HuggingFaceTokenizer#decodeLenient}.
 *
 * <p>Until commit {@code e67774b} the command also measured jbond's former hand-written byte-level
 * BPE side by side and compared the two for exactness; BENCHMARKS.md has those figures and why the
 * library replaced it.
 */
@Command(
    name = "tokenize",
    mixinStandardHelpOptions = true,
    description =
        "Tokenizer throughput of the Hugging Face tokenizers library on tokenizer.json files, one"
            + " thread.")
public final class BenchTokenizeCommand implements Callable<Integer> {
  /** The test tokenizers, relative to the repository root. */
  static final Path FIXTURES = Path.of("models/src/test/resources/dev/jbond/models/tokenizer");

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--tokenizer",
      description =
          "A tokenizer.json; repeat for several (default: the GPT-2-style and the Qwen-2-style"
              + " byte-level BPE test tokenizers).")
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

  @Option(names = "--warmup", description = "Untimed passes (default: ${DEFAULT-VALUE}).")
  int warmup = 5;

  @Option(names = "--rounds", description = "Timed passes (default: ${DEFAULT-VALUE}).")
  int rounds = 15;

  @Option(
      names = "--pass-ms",
      description = "Repeat each pass to last about this long (default: ${DEFAULT-VALUE}).")
  int passMs = 100;

  @Option(names = "--out", description = "Result JSON (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "bench-tokenize.json");

  @Override
  public Integer call() throws Exception {
    Checks.checkArgument(warmup >= 0, "Expected --warmup >= 0, found %d", warmup);
    Checks.checkArgument(rounds >= 1, "Expected --rounds >= 1, found %d", rounds);
    Checks.checkArgument(passMs >= 1, "Expected --pass-ms >= 1, found %d", passMs);
    Checks.checkArgument(paragraphs >= 1, "Expected --paragraphs >= 1, found %d", paragraphs);
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
      HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.load(file);
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
          "%-11s %6s %9s %16s %16s%n",
          "texts",
          "count",
          "tokens",
          "encode tokens/s",
          "decode tokens/s");
      for (Map.Entry<String, List<String>> set : sets.entrySet()) {
        fileResult.put(set.getKey(), measure(set.getKey(), set.getValue(), tokenizer, console));
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
      String name, List<String> texts, Tokenizer tokenizer, PrintWriter console) throws Exception {
    List<TokenSequence> ids = new ArrayList<>(texts.size());
    long tokens = 0;
    for (String text : texts) {
      TokenSequence encoded = tokenizer.encode(text);
      ids.add(encoded);
      tokens += encoded.length();
    }
    InterleavedRounds.Call<Integer> encode =
        round -> {
          int n = 0;
          for (String text : texts) {
            n += tokenizer.encode(text).length();
          }
          return n;
        };
    InterleavedRounds.Call<Integer> decode =
        round -> {
          int n = 0;
          for (TokenSequence sequence : ids) {
            n += tokenizer.decodeLenient(sequence).length();
          }
          return n;
        };
    double encodeRate = rate(encode, tokens);
    double decodeRate = rate(decode, tokens);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("texts", texts.size());
    result.put("tokens", tokens);
    result.put("characters", texts.stream().mapToLong(String::length).sum());
    result.put("encodeTokensPerSecond", encodeRate);
    result.put("decodeTokensPerSecond", decodeRate);
    console.printf(
        Locale.ROOT,
        "%-11s %6d %9d %,16.0f %,16.0f%n",
        name,
        texts.size(),
        tokens,
        encodeRate,
        decodeRate);
    console.flush();
    return result;
  }

  /**
   * Times {@code pass} (one pass over a text set of {@code tokens} tokens) and returns tokens per
   * second of the median timed pass.
   */
  private double rate(InterleavedRounds.Call<Integer> pass, long tokens) throws Exception {
    // Calibrate: repeat the pass so that it lasts about --pass-ms.
    pass.run(0);
    long start = System.nanoTime();
    pass.run(0);
    double once = Math.max((System.nanoTime() - start) / 1e9, 1e-6);
    int repeat = (int) Math.max(1, Math.ceil(passMs / 1e3 / once));
    InterleavedRounds.Call<Integer> repeated =
        round -> {
          int n = 0;
          for (int r = 0; r < repeat; r++) {
            n += pass.run(round);
          }
          return n;
        };
    double[] seconds =
        InterleavedRounds.time(List.of(repeated), warmup, rounds).get(0).stream()
            .mapToDouble(InterleavedRounds.Timed::seconds)
            .toArray();
    Arrays.sort(seconds);
    double median =
        seconds.length % 2 == 1
            ? seconds[seconds.length / 2]
            : (seconds[seconds.length / 2 - 1] + seconds[seconds.length / 2]) / 2;
    return tokens * (double) repeat / median;
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
