package io.workron.worker.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The file one attempt may write its checkpoint to ({@code WORKRON_CHECKPOINT_FILE}): put back in
 * place before the command starts when the job has a checkpoint, read while it runs and once more
 * when it exits, and deleted with its directory when the attempt ends.
 */
final class CheckpointFile {

  /** Largest checkpoint shipped when the dispatch does not say (a scheduler without the field). */
  static final int DEFAULT_MAX_BYTES = 256 * 1024;

  /** A file bigger than the limit: not shipped, and why. */
  record Refused(String reason) {}

  private final Path dir;
  private final Path path;
  private final int maxBytes;
  private final byte[] restored;
  private byte[] last;
  private boolean refusedSaid;

  private CheckpointFile(Path dir, int maxBytes, byte[] restored) {
    this.dir = dir;
    this.path = dir.resolve("checkpoint");
    this.maxBytes = maxBytes;
    this.restored = restored;
    this.last = restored;
  }

  /**
   * Creates the attempt's directory under {@code root} and writes {@code base64} (the job's last
   * checkpoint, may be null) to the file.
   */
  static CheckpointFile prepare(Path root, Attempt attempt, String base64, Integer maxBytes)
      throws IOException {
    // readable, and distinct even for ids that differ only in characters a file name avoids
    Path dir =
        root.resolve(
            attempt.jobId().replaceAll("[^A-Za-z0-9._-]", "_")
                + "-"
                + Integer.toHexString(attempt.jobId().hashCode())
                + "-"
                + attempt.attempt());
    Files.createDirectories(dir);
    byte[] restored = base64 == null ? null : Base64.getDecoder().decode(base64);
    CheckpointFile file =
        new CheckpointFile(dir, maxBytes == null ? DEFAULT_MAX_BYTES : maxBytes, restored);
    if (restored != null) {
      Files.write(file.path, restored);
    }
    return file;
  }

  Path path() {
    return path;
  }

  /**
   * What the command wrote since the last call that returned it (or since it was restored): its
   * bytes, a {@link Refused} the first time it is too big, or null when nothing changed.
   */
  synchronized Object changed() {
    return read(last);
  }

  /**
   * What the command left when it exited, if it wrote anything new in this attempt (whether or not
   * it was shipped already, since shipping while it runs is best effort): its bytes, a {@link
   * Refused}, or null.
   */
  synchronized Object atExit() {
    refusedSaid = false;
    return read(restored);
  }

  private Object read(byte[] since) {
    byte[] now;
    try {
      long size = Files.size(path);
      if (size > maxBytes) {
        if (refusedSaid) {
          return null;
        }
        refusedSaid = true;
        return new Refused(
            "checkpoint of "
                + size
                + " bytes is larger than the limit of "
                + maxBytes
                + " bytes; not stored (keep it smaller, or write it elsewhere and checkpoint"
                + " its location)");
      }
      now = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (now.length == 0 || Arrays.equals(now, since)) {
      return null;
    }
    last = now;
    refusedSaid = false;
    return now;
  }

  /** Removes the attempt's directory and everything the command left in it. */
  void delete() {
    deleteTree(dir);
  }

  /**
   * Removes what a previous run of the worker left under {@code root} (its attempts are over: a
   * restarted worker's attempts are taken back).
   */
  static void clear(Path root) {
    if (Files.isDirectory(root)) {
      deleteTree(root);
    }
  }

  private static void deleteTree(Path top) {
    try (Stream<Path> all = Files.walk(top)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover in the worker's state directory is harmless
    }
  }
}
