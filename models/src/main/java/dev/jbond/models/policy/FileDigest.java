package dev.jbond.models.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** The SHA-256 of files read one after the other, for {@link PolicyFiles#identity()}. */
public final class FileDigest {
  private FileDigest() {}

  /**
   * Returns the SHA-256 of the files' bytes, concatenated in order.
   *
   * @param files the files
   * @return {@code "sha256:"} and the hex digest
   * @throws IOException when a file cannot be read
   */
  public static String sha256(List<Path> files) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    byte[] buffer = new byte[1 << 16];
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return "sha256:" + HexFormat.of().formatHex(sha.digest());
  }
}
