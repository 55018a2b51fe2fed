package dev.jbond.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class BytePairTrainerTest {
  private static BytePairVocabulary.Merge merge(String left, String right) {
    return new BytePairVocabulary.Merge(left, right);
  }

  @Test
  void train_trainingText_matchesCommittedTokenizerJson() {
    String committed = TokenizerFixtures.resource(TokenizerFixtures.TOKENIZER_RESOURCE);

    String trained = TokenizerFixtures.trainedVocabulary().toTokenizerJson();

    assertEquals(
        committed,
        trained,
        "The committed tokenizer.json is stale; regenerate it with TokenizerFixtures.main");
  }

  @Test
  void train_tinyCorpus_mergesTheMostFrequentPairsFirst() {
    // Words: "ab", "Ġab" twice, "Ġcd". Pair counts: (a, b) 3, (Ġ, a) 2, (Ġ, c) 1, (c, d) 1.
    // After (a, b): (Ġ, ab) 2; then every pair is seen once, below the minimum frequency 2.
    BytePairVocabulary vocabulary = BytePairTrainer.withMerges(10).train(List.of("ab ab ab cd"));

    assertEquals(List.of(merge("a", "b"), merge("Ġ", "ab")), vocabulary.merges());
    assertEquals(List.of("ab", "Ġab"), vocabulary.tokens().subList(256, 258));
    assertEquals(258 + 3, vocabulary.size());
  }

  @Test
  void train_tiedCounts_prefersTheSmallestIds() {
    // (a, b) and (c, d) are both seen twice; "a" (97) has the smaller id.
    BytePairVocabulary vocabulary =
        BytePairTrainer.withMerges(1).train(List.of("ab", "cd", "ab", "cd"));

    assertEquals(List.of(merge("a", "b")), vocabulary.merges());
  }

  @Test
  void train_mergeLimit_stopsAtTheLimit() {
    BytePairVocabulary vocabulary =
        BytePairTrainer.withMerges(3).train(List.of(TokenizerFixtures.trainingText()));

    assertEquals(3, vocabulary.merges().size());
    assertEquals(256 + 3 + 3, vocabulary.size());
  }

  @Test
  void train_zeroMerges_keepsOnlyBytesAndSpecialTokens() {
    BytePairVocabulary vocabulary = BytePairTrainer.withMerges(0).train(List.of("hello hello"));

    assertEquals(256, vocabulary.tokens().size());
    assertEquals(List.of(), vocabulary.merges());
    assertEquals(BytePairTrainer.DEFAULT_SPECIAL_TOKENS, vocabulary.specialTokens());
    assertEquals("Ġ", vocabulary.tokens().get(' '));
    assertEquals("Ċ", vocabulary.tokens().get('\n'));
  }

  @Test
  void train_textsInAnyOrder_learnsTheSameVocabulary() {
    List<String> lines = new ArrayList<>(List.of(TokenizerFixtures.trainingText().split("\n")));
    BytePairTrainer trainer = BytePairTrainer.withMerges(80);

    BytePairVocabulary forward = trainer.train(lines);
    Collections.reverse(lines);
    BytePairVocabulary backward = trainer.train(lines);

    assertEquals(forward, backward);
  }

  @Test
  void toTokenizer_trainedVocabulary_roundTripsTheTrainingText() {
    String text = TokenizerFixtures.trainingText();
    HuggingFaceTokenizer tokenizer =
        BytePairTrainer.withMerges(60).train(List.of(text)).toTokenizer("trained");

    assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
    assertEquals(256 + 60 + 3, tokenizer.vocabularySize());
    assertEquals("trained", tokenizer.name());
  }

  @Test
  void toTokenizer_prefixSpaceSetting_isWrittenToTheFile() {
    BytePairVocabulary vocabulary =
        new BytePairTrainer(5, 2, List.of("<eos>"), true).train(List.of("the the the"));

    HuggingFaceTokenizer tokenizer = vocabulary.toTokenizer("prefixed");

    assertTrue(vocabulary.toTokenizerJson().contains("\"add_prefix_space\": true, \"trim"));
    assertEquals(tokenizer.encode(" the"), tokenizer.encode("the"));
  }

  @Test
  void constructor_negativeMerges_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new BytePairTrainer(-1, 2, List.of(), false));

    assertEquals("Expected merges >= 0, found -1", e.getMessage());
  }

  @Test
  void constructor_zeroMinimumFrequency_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new BytePairTrainer(1, 0, List.of(), false));

    assertEquals("Expected minimum pair frequency >= 1, found 0", e.getMessage());
  }

  @Test
  void vocabulary_mergeOfMissingToken_throwsNamingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new BytePairVocabulary(
                    List.of("a", "b"), List.of(merge("a", "b")), List.of(), false));

    assertEquals(
        "Expected merge 0 ('a', 'b') to join tokens of the vocabulary, found 'ab' missing",
        e.getMessage());
  }

  @Test
  void vocabulary_specialTokenThatIsAlsoAToken_throwsNamingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new BytePairVocabulary(List.of("a", "<eos>"), List.of(), List.of("<eos>"), false));

    assertEquals(
        "Expected special tokens apart from the ordinary tokens, found '<eos>' in both",
        e.getMessage());
  }
}
