package io.workron.worker;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How this worker presents itself to the scheduler and how it runs and stops commands. Every
 * property can also be set as an environment variable ({@code WORKRON_WORKER_SLOTS}, …).
 *
 * @param id the worker's stable name; its dispatch topic is {@code <prefix>.dispatch.<id>}. Blank
 *     means: the pod's name in Kubernetes ({@code POD_NAME}, else {@code HOSTNAME}), else an id
 *     generated once and kept in {@code state-dir}, so a restart is recognised as the same worker
 *     instead of adding a new one.
 * @param slots how many commands run at once; the scheduler never places more on this worker, and
 *     any extra dispatch waits in a queue here.
 * @param vramMb GPU memory this worker offers to placement, in MiB; 0 offers none.
 * @param memoryMb memory this worker offers to placement, in MiB; 0 offers none; -1 (the default)
 *     offers the machine's physical memory.
 * @param tags labels jobs can ask for (for example {@code gpu}); empty means none.
 * @param execAddr the address peers of a gang job use to reach this machine (for example {@code
 *     10.0.0.7}, or {@code host:port}); empty means the machine's host name. Gang tasks find their
 *     peers' addresses in {@code GANG_PEERS}, and task 0's host in {@code MASTER_ADDR}.
 * @param heartbeatInterval how often the worker reports that it is alive and what it runs; the
 *     scheduler marks a worker offline after a few missed beats (15 s by default).
 * @param stopGrace time a stopped command gets between SIGTERM and SIGKILL to save its work.
 * @param shutdownDeadline how long a graceful shutdown lets running commands finish before stopping
 *     them; the worst-case shutdown is this plus {@code stopGrace} plus a few seconds, so the
 *     orchestrator's kill timeout must be longer.
 * @param workDir working directory of every command; unset means the worker's own working
 *     directory.
 * @param stateDir where the worker keeps its generated id and the ledger of the process groups it
 *     started (so a restart can stop what a crashed run left); unset means {@code .workron} in the
 *     working directory. Keep it on a disk that survives restarts of the worker.
 * @param outputInterval how often a running command's new output is sent ({@code job.output.v1}),
 *     so {@code GET /jobs/{id}/output} shows a long job's progress before it ends; at most one
 *     message per command per interval, only when its output changed
 * @param checkpointInterval how often the checkpoint file of a running command is looked at and,
 *     when it changed, shipped ({@code job.checkpoint.v1}); the result carries its last content
 *     once more
 * @param replicationFactor replication factor of the topics the worker creates when they are
 *     missing (its dispatch and dead-letter topics, heartbeats, results); 3 on a production
 *     cluster.
 */
@ConfigurationProperties("workron.worker")
@Validated
public record WorkerProperties(
    @Pattern(
            regexp = "^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
            message = "must be blank or 1-128 characters of letters, digits, '.', '_' or '-'")
        String id,
    @DefaultValue("4") @Min(1) int slots,
    @DefaultValue("0") @PositiveOrZero long vramMb,
    @DefaultValue("-1") @Min(-1) long memoryMb,
    @DefaultValue @NotNull @Size(max = 100) List<@Size(min = 1, max = 128) String> tags,
    @DefaultValue("") @NotNull @Size(max = 256) String execAddr,
    @DefaultValue("3s") @NotNull @DurationMin(millis = 100) Duration heartbeatInterval,
    @DefaultValue("15s") @NotNull @DurationMin(millis = 0) Duration stopGrace,
    @DefaultValue("30s") @NotNull @DurationMin(millis = 0) Duration shutdownDeadline,
    Path workDir,
    @DefaultValue("1") @Min(1) short replicationFactor,
    Path stateDir,
    @DefaultValue("5s") @NotNull @DurationMin(millis = 100) Duration outputInterval,
    @DefaultValue("2s") @NotNull @DurationMin(millis = 100) Duration checkpointInterval) {

  /** Memory offered to placement: {@code memoryMb}, or the machine's physical memory if -1. */
  public long offeredMemoryMb() {
    if (memoryMb >= 0) {
      return memoryMb;
    }
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getTotalMemorySize() / (1024 * 1024);
    }
    return 0;
  }

  /** The directory commands run in: {@code workDir}, or the worker's own working directory. */
  public Path workingDirectory() {
    return workDir != null ? workDir : Path.of("").toAbsolutePath();
  }

  /** Where the worker keeps its state: {@code stateDir}, or {@code .workron} in the work dir. */
  public Path stateDirectory() {
    return stateDir != null ? stateDir : workingDirectory().resolve(".workron");
  }
}
