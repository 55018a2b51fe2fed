package dev.jbond.models.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SyntheticCorpusTest {
  private static final int COUNT = 5000;
  private static List<Example> corpus;

  @BeforeAll
  static void generate() {
    corpus = SyntheticCorpus.generate(2024, COUNT);
  }

  private static int bytes(Example example) {
    return example.text().getBytes(StandardCharsets.UTF_8).length;
  }

  @Test
  void generate_seedZero_matchesRecordedExamples() {
    // A change here changes the demo assets: regenerate them along with this expectation.
    assertEquals(
        List.of(
            new Example("The service was", " terrible, and the staff were bland."),
            new Example("Honestly, the soup was", " okay. It was acceptable."),
            new Example("The breakfast was", " not very pleasant."),
            new Example(
                "The actors were",
                " dreadful, and the plot was not wonderful, but the ending was lovely! I hate"
                    + " it.")),
        SyntheticCorpus.generate(0, 4));
  }

  @Test
  void generate_sameSeed_returnsTheSameCorpus() {
    assertEquals(corpus, SyntheticCorpus.generate(2024, COUNT));
  }

  @Test
  void generate_differentSeeds_returnDifferentCorpora() {
    List<Example> other = SyntheticCorpus.generate(2025, COUNT);

    assertNotEquals(corpus, other);
    long same = 0;
    for (int i = 0; i < COUNT; i++) {
      same += corpus.get(i).equals(other.get(i)) ? 1 : 0;
    }
    assertTrue(same < COUNT / 50, same + " of " + COUNT + " examples agree");
  }

  @Test
  void generate_largerCount_extendsTheSmallerCorpus() {
    assertEquals(corpus.subList(0, 100), SyntheticCorpus.generate(2024, 100));
  }

  @Test
  void generate_zeroCount_returnsNothing() {
    assertEquals(List.of(), SyntheticCorpus.generate(1, 0));
  }

  @Test
  void generate_negativeCount_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SyntheticCorpus.generate(1, -1));

    assertEquals("Expected example count >= 0, found -1", e.getMessage());
  }

  @Test
  void generate_anySeed_lengthsStayInBoundsAndVary() {
    int[] lengths = corpus.stream().mapToInt(SyntheticCorpusTest::bytes).sorted().toArray();

    assertTrue(lengths[0] >= SyntheticCorpus.MIN_BYTES, "shortest " + lengths[0]);
    assertTrue(lengths[COUNT - 1] <= SyntheticCorpus.MAX_BYTES, "longest " + lengths[COUNT - 1]);
    double mean = Arrays.stream(lengths).average().orElseThrow();
    assertTrue(mean > 45 && mean < 80, "mean length " + mean);
    assertTrue(lengths[COUNT / 10] < 40, "10% quantile " + lengths[COUNT / 10]);
    assertTrue(lengths[COUNT * 9 / 10] > 80, "90% quantile " + lengths[COUNT * 9 / 10]);
  }

  @Test
  void generate_anySeed_completionsStartWithASpaceAndEndASentence() {
    for (Example example : corpus) {
      String completion = example.completion();
      assertTrue(completion.startsWith(" "), completion);
      assertTrue(completion.endsWith(".") || completion.endsWith("!"), completion);
      assertTrue(example.text().chars().allMatch(c -> c >= 0x20 && c < 0x7f), example.text());
    }
  }

  @Test
  void generate_anySeed_promptsComeFromThePromptList() {
    Set<String> prompts = new HashSet<>(SyntheticCorpus.prompts());
    Set<String> used = new HashSet<>();

    for (Example example : corpus) {
      assertTrue(prompts.contains(example.prompt()), example.prompt());
      used.add(example.prompt());
    }
    assertEquals(prompts, used);
  }

  @Test
  void prompts_wholeGrammar_areDistinctOpenings() {
    List<String> prompts = SyntheticCorpus.prompts();

    assertEquals(127, prompts.size());
    assertEquals(prompts.size(), new HashSet<>(prompts).size());
    assertEquals("The soup was", prompts.get(0));
    assertTrue(prompts.contains("I think this phone"));
    assertTrue(prompts.contains("Honestly, the characters are"));
    for (String prompt : prompts) {
      assertTrue(!prompt.endsWith(" ") && Character.isUpperCase(prompt.charAt(0)), prompt);
    }
  }

  @Test
  void generate_manyExamples_sentimentIsMostlyMidWithFewVeryPositive() {
    SentimentLexicon lexicon = SentimentLexicon.standard();
    double[] scores = corpus.stream().mapToDouble(e -> lexicon.score(e.text())).sorted().toArray();

    double median = scores[COUNT / 2];
    double mid = Arrays.stream(scores).filter(s -> Math.abs(s) <= 1.5).count() / (double) COUNT;
    double veryPositive = Arrays.stream(scores).filter(s -> s > 3).count() / (double) COUNT;
    double veryNegative = Arrays.stream(scores).filter(s -> s < -3).count() / (double) COUNT;
    double mean = Arrays.stream(scores).average().orElseThrow();
    double sd =
        Math.sqrt(Arrays.stream(scores).map(s -> (s - mean) * (s - mean)).average().orElseThrow());
    long distinct = Arrays.stream(scores).map(s -> Math.round(s * 100)).distinct().count();

    assertTrue(Math.abs(median) <= 0.5, "median " + median);
    assertTrue(mid > 0.45, "share within [-1.5, 1.5]: " + mid);
    assertTrue(veryPositive > 0.02 && veryPositive < 0.10, "share above 3: " + veryPositive);
    assertTrue(veryNegative > veryPositive, "share below -3: " + veryNegative);
    assertTrue(sd > 1.5 && sd < 3, "standard deviation " + sd);
    assertTrue(distinct > 200, distinct + " distinct scores");
  }

  @Test
  void generate_manyExamples_coversTheWholeLexicon() {
    SentimentLexicon lexicon = SentimentLexicon.standard();
    Set<String> words = new TreeSet<>();
    for (Example example : corpus) {
      words.addAll(Arrays.asList(example.text().toLowerCase().split("[^a-z]+")));
    }

    for (String word : lexicon.scores().keySet()) {
      assertTrue(words.contains(word), "sentiment word '" + word + "' never used");
    }
    for (String word : lexicon.intensifiers().keySet()) {
      assertTrue(words.contains(word), "intensifier '" + word + "' never used");
    }
    for (String word : lexicon.negations()) {
      assertTrue(words.contains(word), "negation '" + word + "' never used");
    }
  }
}
