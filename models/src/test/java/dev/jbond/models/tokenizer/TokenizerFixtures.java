package dev.jbond.models.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The test tokenizer: a byte-level BPE vocabulary that {@link BytePairTrainer} learns from {@code
 * training-text.txt} (a text written for these tests), committed as {@code tokenizer.json} next to
 * it. {@code BytePairTrainerTest} checks that the committed file is what the trainer makes today.
 *
 * <p>To regenerate the file after a deliberate change, run {@link #main} from the {@code models}
 * directory, for example: {@code java -cp target/classes:target/test-classes:<api jar>
 * dev.jbond.models.tokenizer.TokenizerFixtures}.
 */
final class TokenizerFixtures {
  /** The number of merges of the test tokenizer. */
  static final int MERGES = 150;

  /** The classpath resource of the committed tokenizer. */
  static final String TOKENIZER_RESOURCE = "tokenizer.json";

  /** The classpath resource of the training text. */
  static final String TRAINING_TEXT_RESOURCE = "training-text.txt";

  private TokenizerFixtures() {}

  /** Returns the training text. */
  static String trainingText() {
    return resource(TRAINING_TEXT_RESOURCE);
  }

  /** Returns the vocabulary learned from the training text, with the default special tokens. */
  static BytePairVocabulary trainedVocabulary() {
    return BytePairTrainer.withMerges(MERGES).train(List.of(trainingText()));
  }

  /** Returns the text of a resource next to this class. */
  static String resource(String name) {
    try (InputStream in = TokenizerFixtures.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes the test tokenizer.
   *
   * @param args optionally the target file; by default the committed resource path, relative to the
   *     {@code models} directory
   * @throws IOException when the file cannot be written
   */
  public static void main(String[] args) throws IOException {
    Path target =
        Path.of(
            args.length > 0
                ? args[0]
                : "src/test/resources/dev/jbond/models/tokenizer/" + TOKENIZER_RESOURCE);
    trainedVocabulary().write(target);
    System.out.println("Wrote " + target.toAbsolutePath());
  }
}
