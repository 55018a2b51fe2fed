package dev.jbond.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCheckpointStoreTest {
  @TempDir Path dir;

  @Test
  void save_thenOpen_roundTripsContent() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    byte[] content = randomBytes(200_000, 11);

    store.save(12, out -> out.write(content));

    assertEquals(List.of(12L), store.steps());
    assertEquals(Optional.of(12L), store.latest());
    assertArrayEquals(content, read(store, 12));
  }

  @Test
  void save_emptyContent_roundTrips() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    store.save(0, out -> {});

    assertArrayEquals(new byte[0], read(store, 0));
  }

  @Test
  void save_anyContent_fileHasHeaderAndTrailer() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    store.save(12, out -> out.write(new byte[] {1, 2, 3}));

    byte[] file = Files.readAllBytes(dir.resolve("step-000000000012.ckpt"));
    assertEquals(16 + 3 + 12, file.length);
    assertEquals("JBCK", new String(file, 0, 4, StandardCharsets.US_ASCII));
  }

  @Test
  void open_contentStream_supportsSingleBytesSkipAndAvailable() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(new byte[] {10, 20, (byte) 200, 40}));

    try (InputStream in = store.open(1)) {
      assertEquals(4, in.available());
      assertEquals(10, in.read());
      assertEquals(1, in.skip(1));
      assertEquals(200, in.read());
      assertEquals(1, in.skip(5));
      assertEquals(-1, in.read());
      assertEquals(-1, in.read(new byte[3], 0, 3));
    }
  }

  @Test
  void open_streamUsedAfterClose_throws() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));
    InputStream in = store.open(1);
    in.close();
    in.close();

    IOException e = assertThrows(IOException.class, in::read);
    assertEquals("Checkpoint input stream is closed", e.getMessage());
  }

  @Test
  void steps_variousSaves_sortedNumerically() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir, 10);

    store.save(10, out -> out.write(10));
    store.save(2, out -> out.write(2));
    store.save(1_000_000_000_000L, out -> out.write(3));
    store.save(9, out -> out.write(9));

    assertEquals(List.of(2L, 9L, 10L, 1_000_000_000_000L), store.steps());
    assertEquals(Optional.of(1_000_000_000_000L), store.latest());
    assertArrayEquals(new byte[] {3}, read(store, 1_000_000_000_000L));
  }

  @Test
  void steps_unrelatedFiles_areIgnored() throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "x");
    Files.writeString(dir.resolve("step-12.ckpt"), "x");
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    assertEquals(List.of(), store.steps());
    assertEquals(Optional.empty(), store.latest());
  }

  @Test
  void save_moreThanKeep_keepsTheLastK() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir, 3);

    for (long step = 1; step <= 5; step++) {
      long value = step;
      store.save(step, out -> out.write((int) value));
    }

    assertEquals(List.of(3L, 4L, 5L), store.steps());
    assertEquals(
        List.of("step-000000000003.ckpt", "step-000000000004.ckpt", "step-000000000005.ckpt"),
        fileNames());
  }

  @Test
  void save_defaultKeep_isThree() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    for (long step = 1; step <= 4; step++) {
      store.save(step, out -> out.write(0));
    }

    assertEquals(3, store.keep());
    assertEquals(List.of(2L, 3L, 4L), store.steps());
  }

  @Test
  void save_keepOne_keepsOnlyTheNewest() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir, 1);

    store.save(1, out -> out.write(1));
    store.save(2, out -> out.write(2));

    assertEquals(List.of(2L), store.steps());
  }

  @Test
  void save_olderStepThanNewest_neverDeletesTheOneJustWritten() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir, 2);
    store.save(10, out -> out.write(10));
    store.save(20, out -> out.write(20));

    store.save(5, out -> out.write(5));

    assertEquals(List.of(5L, 20L), store.steps());
    assertArrayEquals(new byte[] {5}, read(store, 5));
  }

  @Test
  void save_sameStepTwice_replacesTheContent() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(4, out -> out.write("first".getBytes(StandardCharsets.UTF_8)));

    store.save(4, out -> out.write("second".getBytes(StandardCharsets.UTF_8)));

    assertEquals(List.of(4L), store.steps());
    assertEquals("second", new String(read(store, 4), StandardCharsets.UTF_8));
    assertEquals(List.of("step-000000000004.ckpt"), fileNames());
  }

  @Test
  void save_writerThrowsHalfway_keepsPreviousAndLeavesNoFile() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write("kept".getBytes(StandardCharsets.UTF_8)));
    IOException diskFull = new IOException("Disk full");

    IOException e =
        assertThrows(
            IOException.class,
            () ->
                store.save(
                    2,
                    out -> {
                      out.write(randomBytes(100_000, 3));
                      throw diskFull;
                    }));

    assertSame(diskFull, e);
    assertEquals(List.of(1L), store.steps());
    assertEquals(List.of("step-000000000001.ckpt"), fileNames());
    assertEquals("kept", new String(read(store, 1), StandardCharsets.UTF_8));
  }

  @Test
  void save_writerThrowsUnchecked_keepsPreviousAndLeavesNoFile() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                store.save(
                    1,
                    out -> {
                      out.write(2);
                      throw new IllegalStateException("Learner is closed");
                    }));

    assertEquals("Learner is closed", e.getMessage());
    assertArrayEquals(new byte[] {1}, read(store, 1));
    assertEquals(List.of("step-000000000001.ckpt"), fileNames());
  }

  @Test
  void save_whileWriting_newCheckpointIsNotVisible() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));

    store.save(
        2,
        out -> {
          out.write(randomBytes(1000, 5));
          try {
            assertEquals(List.of(1L), store.steps());
            assertFalse(Files.exists(dir.resolve("step-000000000002.ckpt")));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          out.write(2);
        });

    assertEquals(List.of(1L, 2L), store.steps());
  }

  @Test
  void save_writerClosesTheStream_thenWritingMoreFails() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    IOException e =
        assertThrows(
            IOException.class,
            () ->
                store.save(
                    1,
                    out -> {
                      out.close();
                      out.write(1);
                    }));

    assertEquals("Checkpoint output stream is closed", e.getMessage());
    assertEquals(List.of(), store.steps());
  }

  @Test
  void save_writerClosesTheStream_checkpointIsComplete() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    store.save(
        1,
        out -> {
          try (OutputStream closing = out) {
            closing.write(new byte[] {7, 8});
          }
        });

    assertArrayEquals(new byte[] {7, 8}, read(store, 1));
  }

  @Test
  void open_staleTemporaryFile_isDeletedAndNotListed() throws IOException {
    Path stale = dir.resolve(".step-000000000007.ckpt.tmp-123456");
    Files.write(stale, new byte[] {1, 2, 3});

    FileCheckpointStore store = FileCheckpointStore.open(dir);

    assertFalse(Files.exists(stale));
    assertEquals(List.of(), store.steps());
  }

  @Test
  void steps_temporaryFileAppearingLater_isIgnored() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));
    Files.write(dir.resolve(".step-000000000002.ckpt.tmp-99"), new byte[] {1});

    assertEquals(List.of(1L), store.steps());
  }

  @Test
  void open_flippedContentByte_throwsCorrupt() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(12, out -> out.write(randomBytes(1000, 9)));
    Path file = dir.resolve("step-000000000012.ckpt");
    byte[] bytes = Files.readAllBytes(file);
    bytes[500] ^= 0x10;
    Files.write(file, bytes);

    IOException e = assertThrows(IOException.class, () -> store.open(12));

    assertTrue(
        e.getMessage()
            .matches(
                "Checkpoint step-000000000012\\.ckpt is corrupt: expected CRC32 0x[0-9a-f]{8},"
                    + " found 0x[0-9a-f]{8}"),
        e.getMessage());
  }

  @Test
  void open_truncatedFile_throwsCorrupt() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(12, out -> out.write(randomBytes(1000, 9)));
    truncate(dir.resolve("step-000000000012.ckpt"), 900);

    IOException e = assertThrows(IOException.class, () -> store.open(12));

    assertTrue(
        e.getMessage().startsWith("Checkpoint step-000000000012.ckpt is corrupt: expected 28 + "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith(" content bytes (from its trailer), found 900 bytes"));
  }

  @Test
  void open_fileShorterThanHeaderAndTrailer_throwsCorrupt() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(12, out -> out.write(randomBytes(100, 9)));
    truncate(dir.resolve("step-000000000012.ckpt"), 10);

    IOException e = assertThrows(IOException.class, () -> store.open(12));

    assertEquals(
        "Checkpoint step-000000000012.ckpt is corrupt: expected at least 28 bytes, found 10",
        e.getMessage());
  }

  @Test
  void open_wrongMagic_throwsCorrupt() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(3, out -> out.write(1));
    Path file = dir.resolve("step-000000000003.ckpt");
    byte[] bytes = Files.readAllBytes(file);
    bytes[0] = 'X';
    Files.write(file, bytes);

    IOException e = assertThrows(IOException.class, () -> store.open(3));

    assertEquals(
        "Checkpoint step-000000000003.ckpt is corrupt: expected magic 0x4a42434b (\"JBCK\"),"
            + " found 0x5842434b",
        e.getMessage());
  }

  @Test
  void open_unknownFormatVersion_throws() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(3, out -> out.write(1));
    Path file = dir.resolve("step-000000000003.ckpt");
    byte[] bytes = Files.readAllBytes(file);
    bytes[7] = 9;
    Files.write(file, bytes);

    IOException e = assertThrows(IOException.class, () -> store.open(3));

    assertEquals(
        "Checkpoint step-000000000003.ckpt is unreadable: expected format version 1, found 9",
        e.getMessage());
  }

  @Test
  void open_fileRenamedToAnotherStep_throwsCorrupt() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));
    Files.copy(dir.resolve("step-000000000001.ckpt"), dir.resolve("step-000000000002.ckpt"));

    IOException e = assertThrows(IOException.class, () -> store.open(2));

    assertEquals(
        "Checkpoint step-000000000002.ckpt is corrupt: expected step 2 in its header, found 1",
        e.getMessage());
  }

  @Test
  void open_missingStep_throwsNoSuchFileListingSteps() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);
    store.save(1, out -> out.write(1));

    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> store.open(9));

    assertEquals("No checkpoint for step 9, available steps: [1]", e.getReason());
    assertEquals(dir.resolve("step-000000000009.ckpt").toString(), e.getFile());
  }

  @Test
  void save_negativeStep_throws() throws IOException {
    FileCheckpointStore store = FileCheckpointStore.open(dir);

    IllegalArgumentException save =
        assertThrows(IllegalArgumentException.class, () -> store.save(-1, out -> {}));
    IllegalArgumentException open =
        assertThrows(IllegalArgumentException.class, () -> store.open(-3));

    assertEquals("Expected a step >= 0, found -1", save.getMessage());
    assertEquals("Expected a step >= 0, found -3", open.getMessage());
  }

  @Test
  void open_keepBelowOne_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FileCheckpointStore.open(dir, 0));

    assertEquals("Expected checkpoints to keep >= 1, found 0", e.getMessage());
  }

  @Test
  void open_missingDirectory_createsIt() throws IOException {
    Path nested = dir.resolve("a").resolve("b");

    FileCheckpointStore store = FileCheckpointStore.open(nested, 2);
    store.save(1, out -> out.write(1));

    assertTrue(Files.isDirectory(nested));
    assertEquals(nested, store.directory());
    assertEquals(List.of(1L), FileCheckpointStore.open(nested).steps());
  }

  @Test
  void fileName_step_isZeroPaddedToTwelveDigits() {
    assertEquals("step-000000000012.ckpt", FileCheckpointStore.fileName(12));
  }

  @Test
  void toString_printsDirectoryAndKeep() throws IOException {
    assertEquals(
        "FileCheckpointStore[directory=" + dir + ", keep=4]",
        FileCheckpointStore.open(dir, 4).toString());
  }

  private static byte[] read(FileCheckpointStore store, long step) throws IOException {
    try (InputStream in = store.open(step)) {
      return in.readAllBytes();
    }
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] bytes = new byte[n];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
  }

  private List<String> fileNames() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
