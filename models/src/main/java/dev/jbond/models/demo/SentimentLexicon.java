package dev.jbond.models.demo;

import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The sentiment words of the demo grammar with graded scores, and the sentiment score of a text
 * built from them. The demo reward model is trained to follow {@link #score(String)}, so a reward
 * that prefers positive reviews can be read off the text.
 *
 * <h2>The standard lexicon</h2>
 *
 * <table>
 *   <caption>Adjectives, by grade (the score rounded to the nearest integer)</caption>
 *   <tr><th>grade</th><th>words and scores</th></tr>
 *   <tr><td>-2, very negative</td>
 *       <td>awful -2.0, terrible -2.0, horrible -2.0, dreadful -1.8</td></tr>
 *   <tr><td>-1, negative</td>
 *       <td>disappointing -1.2, bad -1.0, boring -1.0, bland -0.8, mediocre -0.6</td></tr>
 *   <tr><td>0, neutral</td>
 *       <td>ordinary -0.1, average 0.0, okay 0.0, fine 0.2, acceptable 0.2, decent 0.4</td></tr>
 *   <tr><td>1, positive</td>
 *       <td>nice 0.9, solid 0.9, good 1.0, pleasant 1.0, great 1.4, lovely 1.4</td></tr>
 *   <tr><td>2, very positive</td>
 *       <td>excellent 1.8, wonderful 1.9, amazing 2.0, fantastic 2.0, perfect 2.0</td></tr>
 * </table>
 *
 * <p>Verbs: love 2.0, recommend 1.5, like 1.0, dislike -1.0, hate -2.0. Intensifiers (factors):
 * extremely 1.8, absolutely 1.8, very 1.5, really 1.5, so 1.3, quite 1.2, fairly 0.7, somewhat 0.6,
 * slightly 0.5. Negations: not, never.
 *
 * <h2>The score of a text</h2>
 *
 * <p>The text is lower-cased and cut into sentences at {@code . ! ?}, sentences into clauses at
 * {@code , ; :} and at the words {@code and} and {@code but}, and clauses into words (runs of
 * letters). Each sentiment word {@code w} with score {@code s(w)} contributes
 *
 * <pre>  c(w) = s(w) * f1 * f2 * ... * fk          (fk: the intensifiers right before w)
 *   c(w) = -0.5 * c(w)   when a negation is among the 3 words before w in its clause</pre>
 *
 * <p>so {@code "very good"} is 1.5, {@code "not good"} -0.5 and {@code "not very good"} -0.75. A
 * sentence's contributions are summed and multiplied by {@value #EXCLAMATION_FACTOR} when it ends
 * with {@code !}; the text's score is the sum over its sentences. A text without sentiment words
 * scores 0.
 *
 * <p>Immutable and thread-safe.
 */
public final class SentimentLexicon {
  /** The factor of a sentence that ends with an exclamation mark. */
  public static final double EXCLAMATION_FACTOR = 1.2;

  /** The number of words before a sentiment word in which a negation reverses it. */
  public static final int NEGATION_WINDOW = 3;

  /** The factor of a negated contribution. */
  public static final double NEGATION_FACTOR = -0.5;

  private static final SentimentLexicon STANDARD =
      new SentimentLexicon(
          ordered(
              "awful",
              -2.0,
              "terrible",
              -2.0,
              "horrible",
              -2.0,
              "dreadful",
              -1.8,
              "disappointing",
              -1.2,
              "bad",
              -1.0,
              "boring",
              -1.0,
              "bland",
              -0.8,
              "mediocre",
              -0.6,
              "ordinary",
              -0.1,
              "average",
              0.0,
              "okay",
              0.0,
              "fine",
              0.2,
              "acceptable",
              0.2,
              "decent",
              0.4,
              "nice",
              0.9,
              "solid",
              0.9,
              "good",
              1.0,
              "pleasant",
              1.0,
              "great",
              1.4,
              "lovely",
              1.4,
              "excellent",
              1.8,
              "wonderful",
              1.9,
              "amazing",
              2.0,
              "fantastic",
              2.0,
              "perfect",
              2.0),
          ordered("love", 2.0, "recommend", 1.5, "like", 1.0, "dislike", -1.0, "hate", -2.0),
          ordered(
              "extremely",
              1.8,
              "absolutely",
              1.8,
              "very",
              1.5,
              "really",
              1.5,
              "so",
              1.3,
              "quite",
              1.2,
              "fairly",
              0.7,
              "somewhat",
              0.6,
              "slightly",
              0.5),
          Set.of("not", "never"));

  private final Map<String, Double> adjectives;
  private final Map<String, Double> verbs;
  private final Map<String, Double> intensifiers;
  private final Set<String> negations;
  private final Map<String, Double> sentimentWords;

  /**
   * Creates a lexicon.
   *
   * @param adjectives adjective to score, in presentation order
   * @param verbs verb to score, in presentation order
   * @param intensifiers intensifier to its factor, in presentation order
   * @param negations the negation words
   * @throws IllegalArgumentException when a word is not lower-case letters, appears in two roles,
   *     or has a score or factor that is not finite
   */
  public SentimentLexicon(
      Map<String, Double> adjectives,
      Map<String, Double> verbs,
      Map<String, Double> intensifiers,
      Set<String> negations) {
    this.adjectives = unmodifiableCopy(adjectives, "adjective score");
    this.verbs = unmodifiableCopy(verbs, "verb score");
    this.intensifiers = unmodifiableCopy(intensifiers, "intensifier factor");
    this.negations = Set.copyOf(negations);
    Map<String, Double> all = new LinkedHashMap<>(this.adjectives);
    all.putAll(this.verbs);
    this.sentimentWords = Collections.unmodifiableMap(all);
    List<String> every = new ArrayList<>(all.keySet());
    every.addAll(this.intensifiers.keySet());
    every.addAll(this.negations);
    Set<String> seen = new HashSet<>();
    for (String word : every) {
      Checks.checkArgument(
          word.matches("[a-z]+"),
          "Expected lower-case letters as a lexicon word, found '%s'",
          word);
      Checks.checkArgument(
          seen.add(word), "Expected each lexicon word in one role, found '%s' twice", word);
    }
  }

  /**
   * Returns the lexicon of the demo grammar (see the class description).
   *
   * @return the standard lexicon
   */
  public static SentimentLexicon standard() {
    return STANDARD;
  }

  private static Map<String, Double> ordered(Object... wordsAndScores) {
    Map<String, Double> map = new LinkedHashMap<>();
    for (int i = 0; i < wordsAndScores.length; i += 2) {
      map.put((String) wordsAndScores[i], (Double) wordsAndScores[i + 1]);
    }
    return map;
  }

  private static Map<String, Double> unmodifiableCopy(Map<String, Double> map, String what) {
    Map<String, Double> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Double> entry : map.entrySet()) {
      Objects.requireNonNull(entry.getKey(), "word");
      copy.put(entry.getKey(), Checks.checkFinite(entry.getValue(), what));
    }
    return Collections.unmodifiableMap(copy);
  }

  /**
   * Returns the adjectives with their scores, in presentation order (most negative first).
   *
   * @return adjective to score, unmodifiable
   */
  public Map<String, Double> adjectives() {
    return adjectives;
  }

  /**
   * Returns the verbs with their scores.
   *
   * @return verb to score, unmodifiable
   */
  public Map<String, Double> verbs() {
    return verbs;
  }

  /**
   * Returns every sentiment word (adjectives, then verbs) with its score.
   *
   * @return word to score, unmodifiable
   */
  public Map<String, Double> scores() {
    return sentimentWords;
  }

  /**
   * Returns the intensifiers with their factors.
   *
   * @return intensifier to factor, unmodifiable
   */
  public Map<String, Double> intensifiers() {
    return intensifiers;
  }

  /**
   * Returns the negation words.
   *
   * @return the negations, unmodifiable
   */
  public Set<String> negations() {
    return negations;
  }

  /**
   * Returns the score of one sentiment word.
   *
   * @param word a word, in any case
   * @return its score, or empty when it is not a sentiment word
   */
  public OptionalDouble wordScore(String word) {
    Double score = sentimentWords.get(word.toLowerCase(Locale.ROOT));
    return score == null ? OptionalDouble.empty() : OptionalDouble.of(score);
  }

  /**
   * Returns the adjectives of one grade, the score rounded to the nearest integer (halves away from
   * zero), in presentation order.
   *
   * @param grade a grade in {@code [-2, 2]}
   * @return the adjectives of that grade
   * @throws IllegalArgumentException when {@code grade} is outside {@code [-2, 2]}
   */
  public List<String> adjectivesOfGrade(int grade) {
    Checks.checkArgument(grade >= -2 && grade <= 2, "Expected a grade in [-2, 2], found %d", grade);
    List<String> words = new ArrayList<>();
    adjectives.forEach(
        (word, score) -> {
          if (grade(score) == grade) {
            words.add(word);
          }
        });
    return words;
  }

  /**
   * Returns the grade of a score: the nearest integer, halves away from zero.
   *
   * @param score a score
   * @return its grade
   */
  static int grade(double score) {
    return (int) Math.signum(score) * (int) Math.floor(Math.abs(score) + 0.5);
  }

  /**
   * Returns the sentiment score of {@code text} (see the class description for the rule).
   *
   * @param text any text
   * @return the score; positive for a positive text, 0 without sentiment words
   */
  public double score(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    double total = 0;
    int start = 0;
    for (int i = 0; i <= lower.length(); i++) {
      char c = i < lower.length() ? lower.charAt(i) : '.';
      if (c == '.' || c == '!' || c == '?') {
        double sentence = sentenceScore(lower.substring(start, Math.min(i, lower.length())));
        total += c == '!' ? EXCLAMATION_FACTOR * sentence : sentence;
        start = i + 1;
      }
    }
    return total;
  }

  private double sentenceScore(String sentence) {
    double sum = 0;
    List<String> clause = new ArrayList<>();
    int i = 0;
    int n = sentence.length();
    while (i <= n) {
      char c = i < n ? sentence.charAt(i) : ',';
      if (Character.isLetter(c)) {
        int start = i;
        while (i < n && Character.isLetter(sentence.charAt(i))) {
          i++;
        }
        String word = sentence.substring(start, i);
        if (word.equals("and") || word.equals("but")) {
          sum += clauseScore(clause);
          clause.clear();
        } else {
          clause.add(word);
        }
        continue;
      }
      if (c == ',' || c == ';' || c == ':') {
        sum += clauseScore(clause);
        clause.clear();
      }
      i++;
    }
    return sum;
  }

  private double clauseScore(List<String> words) {
    double sum = 0;
    for (int i = 0; i < words.size(); i++) {
      Double score = sentimentWords.get(words.get(i));
      if (score == null) {
        continue;
      }
      double contribution = score;
      for (int j = i - 1; j >= 0 && intensifiers.containsKey(words.get(j)); j--) {
        contribution *= intensifiers.get(words.get(j));
      }
      for (int j = Math.max(0, i - NEGATION_WINDOW); j < i; j++) {
        if (negations.contains(words.get(j))) {
          contribution *= NEGATION_FACTOR;
          break;
        }
      }
      sum += contribution;
    }
    return sum;
  }

  @Override
  public String toString() {
    return "SentimentLexicon[adjectives="
        + adjectives
        + ", verbs="
        + verbs
        + ", intensifiers="
        + intensifiers
        + ", negations="
        + negations
        + ", exclamationFactor="
        + EXCLAMATION_FACTOR
        + ", negationWindow="
        + NEGATION_WINDOW
        + ", negationFactor="
        + NEGATION_FACTOR
        + "]";
  }
}
