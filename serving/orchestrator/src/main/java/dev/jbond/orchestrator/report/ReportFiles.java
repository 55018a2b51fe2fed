package dev.jbond.orchestrator.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;

/**
 * Writes the report's files so that a reader never sees half of one: each is written to a hidden
 * temporary file in the same directory and then renamed over the target.
 */
final class ReportFiles {
  private ReportFiles() {}

  /** Something that writes a file's bytes. */
  @FunctionalInterface
  interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  /** Writes {@code text} as UTF-8 to {@code target}, atomically. */
  static void writeString(Path target, String text) throws IOException {
    write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Draws {@code chart} as a PNG of its own size to {@code target}, atomically. */
  static void writePng(Path target, XYChart chart) throws IOException {
    BufferedImage image = BitmapEncoder.getBufferedImage(chart);
    write(
        target,
        out -> {
          if (!ImageIO.write(image, "png", out)) {
            throw new IOException("Expected a PNG writer in javax.imageio, found none");
          }
        });
  }

  /** Writes {@code target} through a temporary file in its directory, then renames it. */
  static void write(Path target, Content content) throws IOException {
    Path temporary =
        target.resolveSibling(
            "." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    try {
      try (OutputStream out =
          Files.newOutputStream(
              temporary,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        content.writeTo(out);
      }
      try {
        Files.move(
            temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
