package io.workron.cli;

import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Waiting for a job or a gang to end, by asking the gateway: every 100 ms at first, backing off to
 * one second, so a short job returns at once and a long one costs the gateway one call a second.
 */
final class JobWait {

  static final Set<String> JOB_ENDS = Set.of("done", "failed", "cancelled");
  static final Set<String> GANG_ENDS = Set.of("done", "failed", "cancelled");

  /** How long a job accepted but not yet stored (202) may stay unknown before the wait gives up. */
  private static final long UNKNOWN_FOR_MS = 60_000;

  /** How long a wait rides out a gateway that is away (no connection, 429, 5xx). */
  static final long PATIENCE_MS = 300_000;

  private final Gateway gateway;
  private final Progress progress;
  private long pauseMs = 100;
  private long unknownSince = -1;

  JobWait(Gateway gateway, Progress progress) {
    this.gateway = gateway;
    this.progress = progress;
  }

  /** The job once it has ended. */
  JsonNode job(String id) {
    while (true) {
      JsonNode job = known("/jobs/" + Gateway.encode(id));
      if (job == null) {
        progress.show("accepted, not yet stored", 0, 0);
      } else if (JOB_ENDS.contains(Table.text(job, "status"))) {
        return job;
      } else {
        progress.show(state(job), 0, 0);
      }
      pause();
    }
  }

  /** The gang's summary once it has ended. */
  JsonNode gang(String gangId) {
    while (true) {
      JsonNode gang = known("/gangs/" + Gateway.encode(gangId) + "/summary");
      if (gang == null) {
        progress.show("accepted, not yet stored", 0, 0);
      } else if (GANG_ENDS.contains(Table.text(gang, "status"))) {
        return gang;
      } else {
        long size = gang.path("size").asLong();
        long done = gang.path("counts").path("done").asLong();
        String why = Table.text(gang, "wait_reason");
        progress.show(Table.text(gang, "status") + (why == null ? "" : ": " + why), done, size);
      }
      pause();
    }
  }

  /**
   * What {@code path} answers, or null while it is not found yet: a submission the gateway accepted
   * into Kafka (202) is stored by scheduler-core a moment later. Unknown for longer than a minute,
   * it is not coming.
   */
  JsonNode known(String path) {
    try {
      JsonNode found = patiently(() -> gateway.get(path).json());
      unknownSince = -1;
      return found;
    } catch (CliException e) {
      if (e.exitCode() != ExitCodes.NOT_FOUND) {
        throw e;
      }
      long now = System.nanoTime();
      if (unknownSince < 0) {
        unknownSince = now;
      } else if ((now - unknownSince) / 1_000_000 > UNKNOWN_FOR_MS) {
        throw e;
      }
      return null;
    }
  }

  /**
   * {@code call}'s answer, asked again while the gateway is passingly away (a restart, Kafka or
   * scheduler-core down for a moment: 503, 429, no connection): a wait outlives them, as the job
   * does. Given up after {@link #PATIENCE_MS} of nothing but such answers.
   */
  <T> T patiently(java.util.function.Supplier<T> call) {
    long failingSince = -1;
    while (true) {
      try {
        return call.get();
      } catch (CliException e) {
        long now = System.nanoTime();
        if (!e.passing()) {
          throw e;
        }
        if (failingSince < 0) {
          failingSince = now;
        } else if ((now - failingSince) / 1_000_000 > PATIENCE_MS) {
          throw e;
        }
        progress.show("gateway: " + e.getMessage() + "; asking again", 0, 0);
        pause();
      }
    }
  }

  /** What a waiting job is doing, in a few words. */
  static String state(JsonNode job) {
    String status = Table.text(job, "status");
    String why = Table.text(job, "wait_reason");
    String worker = Table.text(job, "worker_id");
    int attempt = job.path("attempts").asInt();
    StringBuilder s = new StringBuilder(status == null ? "?" : status);
    if (worker != null && ("running".equals(status) || "reserved".equals(status))) {
      s.append(" on ").append(worker);
    }
    if (attempt > 1) {
      s.append(", attempt ").append(attempt);
    }
    if (why != null) {
      s.append(": ").append(why);
    }
    return s.toString();
  }

  /** What {@code workron} exits with for a job that ended. */
  static int exitCode(JsonNode job) {
    String status = Table.text(job, "status");
    if ("done".equals(status)) {
      return ExitCodes.OK;
    }
    if ("cancelled".equals(status)) {
      return ExitCodes.CANCELLED;
    }
    String reason = Table.text(job, "failure_reason");
    if (job.path("attempts").asInt() == 0 && Table.text(job, "gang_id") == null) {
      // the only way a job of its own fails without an attempt: no worker could ever hold it
      return ExitCodes.UNSCHEDULABLE;
    }
    if (reason != null && reason.startsWith("timed out")) {
      return ExitCodes.TIMED_OUT;
    }
    JsonNode code = job.get("exit_code");
    if (code != null && code.isIntegralNumber() && code.asInt() > 0 && code.asInt() <= 255) {
      return code.asInt();
    }
    return ExitCodes.JOB_FAILED;
  }

  /** What {@code workron} exits with for a gang that ended. */
  static int gangExitCode(JsonNode gang) {
    return switch (String.valueOf(Table.text(gang, "status"))) {
      case "done" -> ExitCodes.OK;
      case "cancelled" -> ExitCodes.CANCELLED;
      default ->
          gang.path("admissions").asInt() == 0 && Table.text(gang, "unschedulable_since") != null
              ? ExitCodes.UNSCHEDULABLE
              : ExitCodes.JOB_FAILED;
    };
  }

  void pause() {
    try {
      Thread.sleep(pauseMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.FAILED, "interrupted while waiting");
    }
    pauseMs = Math.min(1000, pauseMs * 3 / 2);
  }
}
