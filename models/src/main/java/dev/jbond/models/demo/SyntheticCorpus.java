package dev.jbond.models.demo;

import dev.jbond.VerificationException;
import dev.jbond.internal.Checks;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A deterministic generator of short English reviews for the demo, built so that a sentiment reward
 * ({@link SentimentLexicon#score(String)}) spreads smoothly over it: most reviews are mixed or
 * neutral, fewer are clearly negative, and few are very positive.
 *
 * <h2>Grammar</h2>
 *
 * <p>A review is about one domain; each domain has objects, aspects (singular or plural nouns) and
 * a tense, which gives the verb {@code BE} (was/were in the past, is/are in the present):
 *
 * <table>
 *   <caption>Domains</caption>
 *   <tr><th>domain</th><th>tense</th><th>objects</th><th>aspects (plural ones marked *)</th></tr>
 *   <tr><td>restaurant</td><td>past</td><td>restaurant, cafe</td>
 *       <td>soup, pasta, pizza, coffee, service, dessert, bread, staff*, fries*, portions*</td></tr>
 *   <tr><td>phone</td><td>present</td><td>phone</td>
 *       <td>battery, screen, camera, charger, case, speakers*, buttons*</td></tr>
 *   <tr><td>movie</td><td>past</td><td>movie, film</td>
 *       <td>plot, acting, ending, soundtrack, dialogue, actors*, jokes*</td></tr>
 *   <tr><td>hotel</td><td>past</td><td>hotel</td>
 *       <td>room, bed, view, breakfast, pool, shower, staff*, towels*</td></tr>
 *   <tr><td>book</td><td>present</td><td>book, novel</td>
 *       <td>story, writing, ending, cover, characters*, chapters*</td></tr>
 * </table>
 *
 * <pre>
 * review     = prompt completion
 * prompt     = "The " ASPECT " " BE            (40%)  completion = " " assessment rest
 *            | "I think the " ASPECT " " BE    (15%)  completion = " " assessment rest
 *            | "Honestly, the " ASPECT " " BE  (15%)  completion = " " assessment rest
 *            | "I think this " OBJECT          (15%)  completion = " " BE " " assessment rest
 *            | "Overall, this " OBJECT         (15%)  completion = " " BE " " assessment rest
 * rest       = more* end [closing]                 (0, 1 or 2 more: 45%, 40%, 15%)
 * more       = ", and the " ASPECT2 " " BE " " assessment   (40%)
 *            | ", but the " ASPECT2 " " BE " " assessment   (30%)
 *            | " and " assessment                           (30%)
 * assessment = [intensifier " "] adjective | "not " [intensifier " "] adjective
 * end        = "." | "!"
 * closing    = " I love it." | " I really love it."                   (grade 2)
 *            | " I like it." | " I would recommend it."               (grade 1)
 *            | " It " BE " " adjective "."                            (grade 0)
 *            | " I dislike it." | " I would not recommend it."        (grade -1)
 *            | " I would never recommend it."
 *            | " I hate it." | " I really hate it."                   (grade -2)
 * </pre>
 *
 * <p>{@code ASPECT2} is an aspect of the same domain that the review has not named yet; the closing
 * is added to 30% of the reviews. Every completion starts with a space and ends with {@code "."} or
 * {@code "!"}.
 *
 * <p>Sentiment. Each review draws a mood {@code m ~ Normal(-0.2, 0.8)}, clipped to {@code [-2.5,
 * 2.5]}. Each assessment draws a grade {@code g = round(m' + Normal(0, 0.6))} clipped to {@code
 * [-2, 2]}, where {@code m' = m}, except after "but", where {@code m' = -0.6 m}; the adjective is
 * drawn uniformly from the lexicon's adjectives of grade {@code g} (see {@link SentimentLexicon}).
 * A graded ({@code g != 0}) assessment is negated with probability 0.12, using an adjective of
 * grade {@code -g} ("not bad" for a mildly positive mood), and intensified with probability 0.4:
 * after "not", and otherwise three times out of four, with an amplifier (very, really, extremely,
 * absolutely, so, quite), else with a downtoner (fairly, somewhat, slightly). The main sentence
 * ends with "!" with probability {@code 0.05 + 0.15 |g|}, {@code g} the grade of its first
 * assessment, otherwise with ".". The closing's grade is {@code round(m + Normal(0, 0.5))},
 * clipped; the closing is drawn uniformly from those of its grade (for grade 0, the adjective from
 * the lexicon's grade-0 adjectives). All choices between alternatives are uniform unless a
 * probability is given.
 *
 * <p>Length. A review is kept when its UTF-8 length lies in {@code [MIN_BYTES, MAX_BYTES]} =
 * [{@value #MIN_BYTES}, {@value #MAX_BYTES}]; otherwise it is drawn again from the same random
 * stream.
 *
 * <p>Determinism. {@code generate(seed, count)} draws review {@code i} from the {@code i}-th {@link
 * SplittableRandom#split()} of {@code new SplittableRandom(seed)}, so the same seed gives the same
 * corpus on every JVM, and a longer corpus extends a shorter one with the same seed.
 */
public final class SyntheticCorpus {
  /** The shortest review, in UTF-8 bytes. */
  public static final int MIN_BYTES = 30;

  /** The longest review, in UTF-8 bytes. */
  public static final int MAX_BYTES = 120;

  private static final int MAX_ATTEMPTS = 1000;

  private static final List<String> AMPLIFIERS =
      List.of("very", "really", "extremely", "absolutely", "so", "quite");
  private static final List<String> DOWNTONERS = List.of("fairly", "somewhat", "slightly");

  /** The closings of grades -2, -1, (0: built from an adjective), 1 and 2. */
  private static final List<List<String>> CLOSINGS =
      List.of(
          List.of(" I hate it.", " I really hate it."),
          List.of(" I dislike it.", " I would not recommend it.", " I would never recommend it."),
          List.of(),
          List.of(" I like it.", " I would recommend it."),
          List.of(" I love it.", " I really love it."));

  private static final List<Domain> DOMAINS =
      List.of(
          new Domain(
              true,
              List.of("restaurant", "cafe"),
              List.of(
                  "soup",
                  "pasta",
                  "pizza",
                  "coffee",
                  "service",
                  "dessert",
                  "bread",
                  "staff*",
                  "fries*",
                  "portions*")),
          new Domain(
              false,
              List.of("phone"),
              List.of("battery", "screen", "camera", "charger", "case", "speakers*", "buttons*")),
          new Domain(
              true,
              List.of("movie", "film"),
              List.of("plot", "acting", "ending", "soundtrack", "dialogue", "actors*", "jokes*")),
          new Domain(
              true,
              List.of("hotel"),
              List.of("room", "bed", "view", "breakfast", "pool", "shower", "staff*", "towels*")),
          new Domain(
              false,
              List.of("book", "novel"),
              List.of("story", "writing", "ending", "cover", "characters*", "chapters*")));

  private SyntheticCorpus() {}

  /**
   * A domain of reviews.
   *
   * @param past whether reviews are in the past tense
   * @param objects what "this ..." can name
   * @param aspects the nouns "the ..." can name; a trailing {@code *} marks a plural
   */
  private record Domain(boolean past, List<String> objects, List<String> aspects) {
    String be(String noun) {
      boolean plural = noun.endsWith("*");
      return past ? (plural ? "were" : "was") : (plural ? "are" : "is");
    }

    String beSingular() {
      return past ? "was" : "is";
    }
  }

  private static String word(String noun) {
    return noun.endsWith("*") ? noun.substring(0, noun.length() - 1) : noun;
  }

  /**
   * Returns {@code count} reviews drawn with {@code seed} (see the class description).
   *
   * @param seed the seed
   * @param count how many reviews, {@code >= 0}
   * @return the reviews, each split into prompt and completion
   * @throws IllegalArgumentException when {@code count < 0}
   */
  public static List<Example> generate(long seed, int count) {
    Checks.checkAtLeast(count, 0, "example count");
    SplittableRandom root = new SplittableRandom(seed);
    List<Example> examples = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      examples.add(review(root.split(), SentimentLexicon.standard()));
    }
    return List.copyOf(examples);
  }

  /**
   * Returns every prompt that the grammar can produce, without repeats, in a fixed order: by
   * domain, then the aspect prompts ("The", "I think the", "Honestly, the") by aspect, then the
   * object prompts ("I think this", "Overall, this") by object.
   *
   * @return the distinct prompts
   */
  public static List<String> prompts() {
    Set<String> prompts = new LinkedHashSet<>();
    for (Domain domain : DOMAINS) {
      for (String opening : List.of("The ", "I think the ", "Honestly, the ")) {
        for (String aspect : domain.aspects()) {
          prompts.add(opening + word(aspect) + " " + domain.be(aspect));
        }
      }
      for (String opening : List.of("I think this ", "Overall, this ")) {
        for (String object : domain.objects()) {
          prompts.add(opening + object);
        }
      }
    }
    return List.copyOf(prompts);
  }

  private static Example review(SplittableRandom random, SentimentLexicon lexicon) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      Example example = draw(random, lexicon);
      int bytes = example.text().getBytes(StandardCharsets.UTF_8).length;
      if (bytes >= MIN_BYTES && bytes <= MAX_BYTES) {
        return example;
      }
    }
    throw new VerificationException(
        String.format(
            "Expected a review of %d..%d bytes within %d draws, found none",
            MIN_BYTES, MAX_BYTES, MAX_ATTEMPTS));
  }

  private static Example draw(SplittableRandom random, SentimentLexicon lexicon) {
    Domain domain = pick(random, DOMAINS);
    double mood = clip(-0.2 + 0.8 * random.nextGaussian(), 2.5);
    String aspect = pick(random, domain.aspects());
    Set<String> used = new HashSet<>();
    String prompt;
    StringBuilder completion = new StringBuilder(" ");
    double frame = random.nextDouble();
    if (frame < 0.70) {
      String opening = frame < 0.40 ? "The " : frame < 0.55 ? "I think the " : "Honestly, the ";
      prompt = opening + word(aspect) + " " + domain.be(aspect);
      used.add(aspect);
    } else {
      String opening = frame < 0.85 ? "I think this " : "Overall, this ";
      prompt = opening + pick(random, domain.objects());
      completion.append(domain.beSingular()).append(' ');
    }
    int firstGrade = assessment(random, lexicon, mood, completion);

    double moreDraw = random.nextDouble();
    int more = moreDraw < 0.45 ? 0 : moreDraw < 0.85 ? 1 : 2;
    for (int k = 0; k < more; k++) {
      double kind = random.nextDouble();
      if (kind < 0.4) {
        String other = otherAspect(random, domain, used);
        completion.append(", and the ").append(word(other)).append(' ');
        completion.append(domain.be(other)).append(' ');
        assessment(random, lexicon, mood, completion);
      } else if (kind < 0.7) {
        String other = otherAspect(random, domain, used);
        completion.append(", but the ").append(word(other)).append(' ');
        completion.append(domain.be(other)).append(' ');
        assessment(random, lexicon, -0.6 * mood, completion);
      } else {
        completion.append(" and ");
        assessment(random, lexicon, mood, completion);
      }
    }
    boolean exclaim = random.nextDouble() < 0.05 + 0.15 * Math.abs(firstGrade);
    completion.append(exclaim ? '!' : '.');

    if (random.nextDouble() < 0.30) {
      int grade = grade(mood + 0.5 * random.nextGaussian());
      completion.append(closing(random, lexicon, domain, grade));
    }
    return new Example(prompt, completion.toString());
  }

  /** Appends an assessment and returns its grade. */
  private static int assessment(
      SplittableRandom random, SentimentLexicon lexicon, double mood, StringBuilder out) {
    int grade = grade(mood + 0.6 * random.nextGaussian());
    boolean negate = grade != 0 && random.nextDouble() < 0.12;
    if (negate) {
      out.append("not ");
    }
    if (grade != 0 && random.nextDouble() < 0.4) {
      boolean amplify = negate || random.nextDouble() < 0.75;
      out.append(pick(random, amplify ? AMPLIFIERS : DOWNTONERS)).append(' ');
    }
    out.append(pick(random, lexicon.adjectivesOfGrade(negate ? -grade : grade)));
    return grade;
  }

  private static String closing(
      SplittableRandom random, SentimentLexicon lexicon, Domain domain, int grade) {
    if (grade == 0) {
      return " It " + domain.beSingular() + " " + pick(random, lexicon.adjectivesOfGrade(0)) + ".";
    }
    return pick(random, CLOSINGS.get(grade + 2));
  }

  /** Returns an aspect that the review has not named yet, and marks it as named. */
  private static String otherAspect(SplittableRandom random, Domain domain, Set<String> used) {
    String other;
    do {
      other = pick(random, domain.aspects());
    } while (!used.add(other));
    return other;
  }

  private static int grade(double value) {
    return (int) Math.max(-2, Math.min(2, Math.round(value)));
  }

  private static double clip(double value, double limit) {
    return Math.max(-limit, Math.min(limit, value));
  }

  private static <T> T pick(SplittableRandom random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }
}
