package io.workron.worker.execution;

import java.util.Locale;

/**
 * How this JVM starts job processes ({@code jdk.lang.Process.launchMechanism}). On Linux, before
 * Java 25, {@code VFORK} starts a shell 1.15–1.56× as often per second as the default {@code
 * POSIX_SPAWN}, which execs a helper ({@code jspawnhelper}) before the command; Java 25 deprecates
 * VFORK and later versions drop it, so there the default stays. An explicit setting always wins.
 *
 * <p>The JVM reads the property once, when it starts its first process: {@link #prefer()} must run
 * before anything in the JVM starts one (the worker's and the standalone mode's {@code main} call
 * it first).
 */
public final class LaunchMechanism {

  static final String PROPERTY = "jdk.lang.Process.launchMechanism";

  private LaunchMechanism() {}

  /** Chooses VFORK where it is available and faster, unless the property is set; returns it. */
  public static String prefer() {
    String set = System.getProperty(PROPERTY);
    if (set == null && vforkAvailable()) {
      System.setProperty(PROPERTY, "VFORK");
    }
    return current();
  }

  /** The mechanism this JVM uses (or will use, if it has not started a process yet). */
  public static String current() {
    String set = System.getProperty(PROPERTY);
    return set == null ? "POSIX_SPAWN" : set.toUpperCase(Locale.ROOT);
  }

  private static boolean vforkAvailable() {
    return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
        && Runtime.version().feature() < 25;
  }
}
