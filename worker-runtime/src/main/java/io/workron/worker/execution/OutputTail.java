package io.workron.worker.execution;

import java.nio.charset.StandardCharsets;

/**
 * The last {@code capacity} bytes written to it, in a ring, plus whether anything older was
 * dropped. Thread-safe: the reader thread writes while the job thread may take a snapshot.
 */
final class OutputTail {

  private final byte[] ring;
  private int next;
  private long total;

  OutputTail(int capacity) {
    this.ring = new byte[capacity];
  }

  synchronized void write(byte[] bytes, int offset, int length) {
    total += length;
    int capacity = ring.length;
    if (length >= capacity) {
      System.arraycopy(bytes, offset + length - capacity, ring, 0, capacity);
      next = 0;
      return;
    }
    int first = Math.min(length, capacity - next);
    System.arraycopy(bytes, offset, ring, next, first);
    System.arraycopy(bytes, offset + first, ring, 0, length - first);
    next = (next + length) % capacity;
  }

  synchronized boolean truncated() {
    return total > ring.length;
  }

  /** The kept bytes as UTF-8, starting on a character boundary when older bytes were dropped. */
  synchronized String text() {
    if (total < ring.length) {
      return new String(ring, 0, (int) total, StandardCharsets.UTF_8);
    }
    int capacity = ring.length;
    byte[] ordered = new byte[capacity];
    System.arraycopy(ring, next, ordered, 0, capacity - next);
    System.arraycopy(ring, 0, ordered, capacity - next, next);
    int skip = 0;
    while (truncated() && skip < 3 && (ordered[skip] & 0xC0) == 0x80) {
      skip++; // a character the ring cut in half is dropped rather than shown as garbage
    }
    return new String(ordered, skip, capacity - skip, StandardCharsets.UTF_8);
  }
}
