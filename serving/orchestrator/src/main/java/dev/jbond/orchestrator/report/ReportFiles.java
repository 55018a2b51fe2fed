package dev.jbond.orchestrator.report;

import dev.jbond.orchestrator.run.RunDirectory;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;

/**
 * Writes the report's files so that a reader never sees half of one ({@link
 * RunDirectory#writeAtomically}: a temporary file beside the target, renamed over it).
 */
final class ReportFiles {
  private ReportFiles() {}

  /** Writes {@code text} as UTF-8 to {@code target}, atomically. */
  static void writeString(Path target, String text) throws IOException {
    RunDirectory.writeAtomically(target, text);
  }

  /** Draws {@code chart} as a PNG of its own size to {@code target}, atomically. */
  static void writePng(Path target, XYChart chart) throws IOException {
    BufferedImage image = BitmapEncoder.getBufferedImage(chart);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", png)) {
      throw new IOException("Expected a PNG writer in javax.imageio, found none");
    }
    RunDirectory.writeAtomically(target, png.toByteArray());
  }
}
