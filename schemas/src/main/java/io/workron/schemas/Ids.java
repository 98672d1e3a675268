package io.workron.schemas;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/** Identifiers Workron generates: time-ordered UUIDv7 values, so ids sort by creation time. */
public final class Ids {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  /** A new job id, {@code job-<uuidv7>}. */
  public static String newJobId(Clock clock) {
    return "job-" + uuidV7(clock);
  }

  /** A new message id, {@code <prefix>-<uuidv7>}. */
  public static String newMessageId(String prefix, Clock clock) {
    return prefix + "-" + uuidV7(clock);
  }

  /** The job id a given idempotency key always maps to, so a retried request finds its job. */
  public static String jobIdForIdempotencyKey(String key) {
    return "job-"
        + UUID.nameUUIDFromBytes(
            ("workron-idempotency:" + key).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public static UUID uuidV7(Clock clock) {
    long millis = clock.millis();
    long randA = RANDOM.nextInt(1 << 12);
    long msb = (millis << 16) | (0x7L << 12) | randA;
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }
}
