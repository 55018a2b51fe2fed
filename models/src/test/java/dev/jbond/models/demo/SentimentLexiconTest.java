package dev.jbond.models.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SentimentLexiconTest {
  private static final double TOLERANCE = 1e-12;
  private final SentimentLexicon lexicon = SentimentLexicon.standard();

  @Test
  void score_documentedExamples_followTheRule() {
    assertEquals(1.5, lexicon.score("very good"), TOLERANCE);
    assertEquals(-0.5, lexicon.score("not good"), TOLERANCE);
    assertEquals(-0.75, lexicon.score("not very good"), TOLERANCE);
    assertEquals(0.5, lexicon.score("not bad"), TOLERANCE);
    assertEquals(-0.75, lexicon.score("I would not recommend it."), TOLERANCE);
    assertEquals(1.2, lexicon.score("Good!"), TOLERANCE);
  }

  @Test
  void score_chainedIntensifiers_multiply() {
    assertEquals(2.0 * 1.5 * 1.8, lexicon.score("really absolutely amazing"), TOLERANCE);
  }

  @Test
  void score_negationScope_endsAtClauseBoundariesAndAfterThreeWords() {
    assertEquals(1.0, lexicon.score("not this, good"), TOLERANCE);
    assertEquals(1.0, lexicon.score("not okay and good"), TOLERANCE);
    assertEquals(1.0, lexicon.score("not one two three good"), TOLERANCE);
    assertEquals(-0.5, lexicon.score("not one two good"), TOLERANCE);
  }

  @Test
  void score_sentencesAndClauses_addUp() {
    String review = "The soup was very good, but the bread was bland! I would recommend it.";

    double expected = 1.2 * (1.5 - 0.8) + 1.5;

    assertEquals(expected, lexicon.score(review), TOLERANCE);
  }

  @Test
  void score_textWithoutSentimentWords_isZero() {
    assertEquals(0.0, lexicon.score("The soup was hot and the bread was warm."), 0.0);
    assertEquals(0.0, lexicon.score(""), 0.0);
  }

  @Test
  void wordScore_anyCase_findsTheWord() {
    assertEquals(OptionalDouble.of(2.0), lexicon.wordScore("Amazing"));
    assertEquals(OptionalDouble.of(-2.0), lexicon.wordScore("hate"));
    assertEquals(OptionalDouble.empty(), lexicon.wordScore("very"));
  }

  @Test
  void adjectivesOfGrade_allGrades_partitionTheAdjectives() {
    List<String> all = new ArrayList<>();
    for (int grade = -2; grade <= 2; grade++) {
      List<String> words = lexicon.adjectivesOfGrade(grade);
      assertTrue(words.size() >= 4, "grade " + grade + ": " + words);
      for (String word : words) {
        assertEquals(grade, Math.round(lexicon.adjectives().get(word)), word);
      }
      all.addAll(words);
    }

    assertEquals(List.copyOf(lexicon.adjectives().keySet()), all);
    assertEquals(
        List.of("awful", "terrible", "horrible", "dreadful"), lexicon.adjectivesOfGrade(-2));
  }

  @Test
  void adjectivesOfGrade_outOfRange_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> lexicon.adjectivesOfGrade(3));

    assertEquals("Expected a grade in [-2, 2], found 3", e.getMessage());
  }

  @Test
  void scores_standardLexicon_holdAdjectivesAndVerbsWithinTwo() {
    assertEquals(lexicon.adjectives().size() + lexicon.verbs().size(), lexicon.scores().size());
    assertTrue(lexicon.scores().values().stream().allMatch(s -> Math.abs(s) <= 2.0));
    assertEquals(Set.of("not", "never"), lexicon.negations());
  }

  @Test
  void constructor_wordInTwoRoles_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new SentimentLexicon(Map.of("good", 1.0), Map.of(), Map.of("good", 1.5), Set.of()));

    assertEquals("Expected each lexicon word in one role, found 'good' twice", e.getMessage());
  }

  @Test
  void constructor_wordWithCapitals_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new SentimentLexicon(Map.of("Good", 1.0), Map.of(), Map.of(), Set.of()));

    assertEquals("Expected lower-case letters as a lexicon word, found 'Good'", e.getMessage());
  }

  @Test
  void constructor_nonFiniteScore_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new SentimentLexicon(Map.of("good", Double.NaN), Map.of(), Map.of(), Set.of()));

    assertEquals("Expected a finite adjective score, found NaN", e.getMessage());
  }
}
