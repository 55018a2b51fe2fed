package dev.jbond.models.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.demo.Example;
import dev.jbond.models.demo.SentimentLexicon;
import dev.jbond.models.demo.SyntheticCorpus;
import dev.jbond.models.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SentimentRewardGraphTest {
  private static final ByteTokenizer TOKENIZER = new ByteTokenizer();
  private static final ModelVersion MODEL = new ModelVersion("test", 0);
  private static OrtRewardModel reward;

  @BeforeAll
  static void open() throws Exception {
    reward =
        OrtRewardModel.builder(SentimentRewardGraph.build(SentimentLexicon.standard(), 1))
            .optPadTokenId(ByteTokenizer.PAD_ID)
            .optVocabularySize(ByteTokenizer.VOCABULARY_SIZE)
            .build();
  }

  @AfterAll
  static void close() {
    reward.close();
  }

  private static Generation generation(String prompt, String completion) {
    return Generation.of(
        new Prompt("p", TOKENIZER.encode(prompt)),
        TOKENIZER.encode(completion).concat(TokenSequence.of(ByteTokenizer.EOS_ID)),
        MODEL);
  }

  private static double score(String text) {
    return reward.score(List.of(generation(text, " ")))[0];
  }

  @Test
  void score_phrases_followTheLexiconUpToTheSmoothTerm() {
    SentimentLexicon lexicon = SentimentLexicon.standard();
    for (String text :
        List.of(
            "The soup was good.",
            "The soup was very good.",
            "The soup was not good.",
            "The soup was not very good.",
            "The soup was awful, and the bread was so bland.",
            "Honestly, the pizza was solid. I would never recommend it.",
            "I think this phone is absolutely disappointing. I really love it.",
            "The soup was okay.")) {
      double expected = lexicon.score(text);
      assertEquals(expected, score(text), SentimentRewardGraph.EPSILON + 1e-5, text);
    }
  }

  @Test
  void score_wordsInsideOtherWords_doNotCount() {
    // "so" in "soup", "like" in "likely", "bad" in "badge"
    assertEquals(0, score("The soup was likely a badge."), SentimentRewardGraph.EPSILON);
  }

  @Test
  void score_corpus_correlatesWithTheLexiconAndRarelyTies() {
    List<Example> corpus = SyntheticCorpus.generate(11, 1000);
    List<Generation> generations = new ArrayList<>();
    double[] expected = new double[corpus.size()];
    Set<String> texts = new HashSet<>();
    for (int i = 0; i < corpus.size(); i++) {
      Example e = corpus.get(i);
      generations.add(generation(e.prompt(), e.completion()));
      expected[i] = SentimentLexicon.standard().score(e.text());
      texts.add(e.text());
    }
    double[] scores = reward.score(generations);
    double pearson = pearson(scores, expected);
    double spearman = pearson(ranks(scores), ranks(expected));
    long distinct = Arrays.stream(scores).distinct().count();
    System.out.printf(
        "sentiment reward on 1000 corpus reviews: pearson %.4f, spearman %.4f,"
            + " %d distinct scores, %d distinct texts%n",
        pearson, spearman, distinct, texts.size());
    assertTrue(pearson > 0.9, "pearson " + pearson);
    assertTrue(spearman > 0.9, "spearman " + spearman);
    assertTrue(distinct > 950, "distinct scores " + distinct);
  }

  static double pearson(double[] a, double[] b) {
    double ma = Arrays.stream(a).average().orElseThrow();
    double mb = Arrays.stream(b).average().orElseThrow();
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < a.length; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / Math.sqrt(saa * sbb);
  }

  /** Mid-ranks (ties share their average rank). */
  static double[] ranks(double[] x) {
    Integer[] order = new Integer[x.length];
    for (int i = 0; i < x.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (i, j) -> Double.compare(x[i], x[j]));
    double[] r = new double[x.length];
    int i = 0;
    while (i < x.length) {
      int j = i;
      while (j + 1 < x.length && x[order[j + 1]] == x[order[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        r[order[k]] = (i + j) / 2.0;
      }
      i = j + 1;
    }
    return r;
  }
}
