package io.workron.worker;

import io.workron.schemas.Ids;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Who this worker process is: a stable worker id and an incarnation that is new on every start.
 * Dispatches name the incarnation they are for, so a restarted worker can tell its previous life's
 * dispatches from its own.
 */
public record WorkerIdentity(String workerId, String incarnation) {

  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Name of the file in the state dir that keeps a generated id. */
  static final String ID_FILE = "worker-id";

  /**
   * The worker id, in this order: the configured one; in Kubernetes the pod's name ({@code
   * POD_NAME}, set through the downward API, else {@code HOSTNAME}, which is the pod name unless
   * the pod sets a hostname); else the id kept in {@code stateDir}, generated and kept there on the
   * first start. Never a new random id per start, which would leave a new worker row and new topics
   * behind every restart.
   */
  static WorkerIdentity forStart(
      String configuredId,
      Map<String, String> env,
      Path stateDir,
      Clock clock,
      RandomGenerator random) {
    return new WorkerIdentity(
        resolveId(configuredId, env, stateDir, random), Ids.uuidV7(clock).toString());
  }

  static String resolveId(
      String configuredId, Map<String, String> env, Path stateDir, RandomGenerator random) {
    if (configuredId != null && !configuredId.isBlank()) {
      return configuredId;
    }
    if (env.containsKey("KUBERNETES_SERVICE_HOST")) {
      for (String name : new String[] {"POD_NAME", "HOSTNAME"}) {
        String pod = env.get(name);
        if (pod != null && VALID.matcher(pod).matches()) {
          return pod;
        }
      }
    }
    Path file = stateDir.resolve(ID_FILE);
    try {
      if (Files.isRegularFile(file)) {
        String kept = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (VALID.matcher(kept).matches()) {
          return kept;
        }
      }
      String id = "worker-%08x".formatted(random.nextInt());
      Files.createDirectories(stateDir);
      Path tmp = stateDir.resolve(ID_FILE + ".tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot keep the worker id in "
              + file
              + "; set workron.worker.id or a writable workron.worker.state-dir",
          e);
    }
  }
}
