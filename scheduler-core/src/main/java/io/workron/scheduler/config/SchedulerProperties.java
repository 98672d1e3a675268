package io.workron.scheduler.config;

import jakarta.validation.constraints.Min;
import java.time.Duration;
import java.util.UUID;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * scheduler-core settings ({@code workron.scheduler.*}).
 *
 * @param replicaId names this replica in logs and owns the outbox rows it writes; blank means a
 *     random id per start
 * @param dispatchBatchSize most jobs one dispatch transaction claims
 * @param dispatchIdleInterval how long the dispatch loop waits when there was nothing to place,
 *     unless woken by new work in this replica
 * @param outboxBatchSize most outbox rows the relay publishes in one round
 * @param outboxSweepAge rows older than this are relayed by the sweep whoever wrote them (their
 *     replica may have died)
 * @param outboxSweepInterval how often the sweep looks for such rows
 * @param outboxLease how long rows a relay claimed stay its own; renewed every third of it while
 *     their send is outstanding, so it only bounds how long the rows of a relay that died wait for
 *     another (docs/decisions.md, "Outbox leases are short and renewed")
 * @param workerOfflineAfter a worker whose last heartbeat is older than this gets no new
 *     dispatches, and the reaper marks it offline and re-queues its attempts
 * @param requeueDelay how long a job taken back from a lost, stopped or silent worker waits before
 *     it is dispatched again, so that a result already on its way can still count
 * @param reaperTick how often the reaper looks for lost workers and stale attempts
 * @param dispatchAckTimeout a dispatch its worker has not listed in a heartbeat by then is
 *     re-queued, without using a retry
 * @param jobHeartbeatTimeout a running attempt whose worker stopped listing it this long ago is
 *     re-queued (or failed when it was the last attempt)
 * @param retryBackoffBase first retry delay; doubles per failed attempt, with jitter
 * @param retryBackoffMax longest retry delay
 * @param outboxRelayEnabled whether this replica publishes outbox rows at all (its own and, as
 *     sweep leader, those of others); only ever false in fault-injection tests, to hold a replica
 *     between claiming work and relaying it
 * @param submissionPartitions partitions of the submissions, results and job-events topics when
 *     scheduler-core creates them
 * @param replicationFactor replication factor of the topics scheduler-core creates
 * @param unschedulableTimeout a pending job that no registered worker could ever hold (it asks for
 *     more {@code vram_mb} or {@code memory_mb} than any offers) shows why in {@code wait_reason};
 *     after this long it fails, and its dependents are cancelled. Long enough for an autoscaler to
 *     add a bigger machine.
 * @param tickInterval how often every replica writes a tick to each heartbeats and results
 *     partition, moving their watermarks when no worker writes; keep it well under {@code
 *     worker-offline-after}
 * @param maxFreeRequeues how many times liveness may take an attempt back without counting it
 *     against {@code max_retries} (a dispatch never acknowledged, a worker that stopped); after
 *     that, take-backs count, so a job that keeps vanishing cannot run without limit
 * @param workerRetention a worker offline for longer than this is forgotten: its row and its
 *     dispatch topics are deleted (a worker that comes back later registers anew)
 * @param dependencyWaitTimeout a blocked job waiting for a job id that was never submitted shows it
 *     in {@code wait_reason}; after this long (counted from its own submission) it is cancelled,
 *     and its dependents with it.
 * @param stopConfirmTimeout a running attempt ordered stopped (its job cancelled) whose worker
 *     keeps heartbeating this long after the order without reporting it is taken back, and the job
 *     ends as the stop meant it to; a backstop for workers that cannot read stop orders. Keep it
 *     above the workers' {@code stop-grace}.
 */
@Validated
@ConfigurationProperties("workron.scheduler")
public record SchedulerProperties(
    String replicaId,
    @Min(1) int dispatchBatchSize,
    Duration dispatchIdleInterval,
    @Min(1) int outboxBatchSize,
    Duration outboxSweepAge,
    Duration outboxSweepInterval,
    @org.springframework.boot.context.properties.bind.DefaultValue("true")
        boolean outboxRelayEnabled,
    Duration workerOfflineAfter,
    @org.springframework.boot.context.properties.bind.DefaultValue("2s") Duration requeueDelay,
    Duration reaperTick,
    Duration dispatchAckTimeout,
    Duration jobHeartbeatTimeout,
    Duration retryBackoffBase,
    Duration retryBackoffMax,
    @Min(1) int submissionPartitions,
    @Min(1) short replicationFactor,
    @org.springframework.boot.context.properties.bind.DefaultValue("1h")
        Duration unschedulableTimeout,
    @org.springframework.boot.context.properties.bind.DefaultValue("24h")
        Duration dependencyWaitTimeout,
    @org.springframework.boot.context.properties.bind.DefaultValue("1s") Duration tickInterval,
    @org.springframework.boot.context.properties.bind.DefaultValue("3") @Min(0) int maxFreeRequeues,
    @org.springframework.boot.context.properties.bind.DefaultValue("24h") Duration workerRetention,
    @org.springframework.boot.context.properties.bind.DefaultValue("45s")
        Duration stopConfirmTimeout,
    @org.springframework.boot.context.properties.bind.DefaultValue("7d")
        Duration pendingCancelRetention,
    java.util.Map<String, Queue> queues,
    @org.springframework.boot.context.properties.bind.DefaultValue("1s") Duration scheduleTick,
    @org.springframework.boot.context.properties.bind.DefaultValue("60s")
        Duration scheduleMisfireGrace,
    @org.springframework.boot.context.properties.bind.DefaultValue("7d") Duration retention,
    @org.springframework.boot.context.properties.bind.DefaultValue("30d")
        Duration prunedIdRetention,
    @org.springframework.boot.context.properties.bind.DefaultValue("1000") @Min(1)
        int retentionBatchSize,
    @org.springframework.boot.context.properties.bind.DefaultValue("1m") Duration retentionInterval,
    @org.springframework.boot.context.properties.bind.DefaultValue("3s") Duration outboxLease) {

  /**
   * What configuration says about one queue.
   *
   * @param timeout default time limit of its jobs' attempts (null: none)
   * @param maxRunning most of its jobs running at once (null: no limit), until {@code PUT
   *     /queues/{name}} says otherwise
   * @param maxRunningPerKey most of its running jobs sharing one {@code concurrency_key} (null: no
   *     limit), likewise
   */
  public record Queue(Duration timeout, Integer maxRunning, Integer maxRunningPerKey) {
    public Queue {
      if ((maxRunning != null && maxRunning < 1)
          || (maxRunningPerKey != null && maxRunningPerKey < 1)) {
        throw new IllegalArgumentException(
            "workron.scheduler.queues.*.max-running and max-running-per-key must be at least 1");
      }
    }
  }

  /** The timeout, in whole seconds rounded up, a job of {@code queue} gets by default, or null. */
  public Integer defaultTimeoutSeconds(String queue) {
    Queue q = queues.get(queue);
    if (q == null || q.timeout() == null || q.timeout().isZero() || q.timeout().isNegative()) {
      return null;
    }
    long millis = q.timeout().toMillis();
    return (int) Math.min(Integer.MAX_VALUE, (millis + 999) / 1000);
  }

  public SchedulerProperties {
    if (tickInterval != null
        && workerOfflineAfter != null
        && tickInterval.multipliedBy(4).compareTo(workerOfflineAfter) > 0) {
      // records further apart than half the offline window count as an outage of the partition
      throw new IllegalArgumentException(
          "workron.scheduler.tick-interval ("
              + tickInterval
              + ") must be at most a quarter of worker-offline-after ("
              + workerOfflineAfter
              + ")");
    }
    queues = queues == null ? java.util.Map.of() : java.util.Map.copyOf(queues);
    if (replicaId == null || replicaId.isBlank()) {
      replicaId = "scheduler-" + UUID.randomUUID().toString().substring(0, 8);
    }
  }
}
