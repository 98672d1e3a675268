package io.workron.scheduler.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.DispatchPlanner;
import io.workron.scheduler.core.DispatchPlanner.Candidate;
import io.workron.scheduler.core.DispatchPlanner.Placement;
import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.core.QueueBudget;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.scheduler.queues.Queues;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Claims pending jobs and places them on workers with free capacity, a batch per transaction, on
 * every replica. Claiming uses {@code FOR UPDATE SKIP LOCKED} on jobs and on the worker rows being
 * filled, so two replicas never take the same job nor over-book one worker. Each claim increments
 * {@code attempt}; the dispatch goes out through the outbox to the worker's own topic, addressed to
 * the incarnation that announced itself.
 */
@Component
public class DispatchLoop implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(DispatchLoop.class);

  /** Most claim-and-place rounds one transaction makes. */
  private static final int MAX_CLAIM_ROUNDS = 8;

  private final DispatchRepository repository;
  private final DispatchPlanner planner = new DispatchPlanner();
  private final TransactionTemplate tx;
  private final Outbox outbox;
  private final JobTransitions transitions;
  private final WireCodec codec;
  private final Topics topics;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final Counter dispatched;
  private final Queues queues;
  private final int checkpointMaxBytes;
  private final io.workron.scheduler.loops.WakeableLoop loop;

  DispatchLoop(
      DispatchRepository repository,
      TransactionTemplate tx,
      Outbox outbox,
      JobTransitions transitions,
      WireCodec codec,
      Topics topics,
      Clock clock,
      SchedulerProperties properties,
      Queues queues,
      MeterRegistry meters,
      io.workron.scheduler.gangs.GangProperties gangProperties) {
    this.checkpointMaxBytes = gangProperties.checkpointMaxBytes();
    this.queues = queues;
    this.repository = repository;
    this.tx = tx;
    this.outbox = outbox;
    this.transitions = transitions;
    this.codec = codec;
    this.topics = topics;
    this.clock = clock;
    this.properties = properties;
    this.dispatched = meters.counter("workron_jobs_dispatched_total");
    this.loop =
        new io.workron.scheduler.loops.WakeableLoop(
            "dispatch-loop",
            () -> dispatchOnce() > 0,
            properties.dispatchIdleInterval(),
            java.time.Duration.ofSeconds(1),
            e ->
                log.warn(
                    "dispatch round failed; trying again in 1 s: {}",
                    org.springframework.core.NestedExceptionUtils.getMostSpecificCause(e)
                        .toString()));
  }

  /** Jobs were queued or slots freed: after the commit, look again. */
  @TransactionalEventListener(fallbackExecution = true)
  void onMoved(JobTransitions.JobsMoved moved) {
    if (moved.transition().freesOrQueuesWork()) {
      wake();
    }
  }

  /** New jobs were stored: after the commit, look again. */
  @TransactionalEventListener(fallbackExecution = true)
  void onSubmitted(io.workron.scheduler.lifecycle.JobsSubmitted submitted) {
    wake();
  }

  /** New work or new capacity in this replica: look again now instead of at the next tick. */
  public void wake() {
    loop.wake();
  }

  /**
   * What the constrained queues may start in this transaction; their rows stay locked until it
   * ends, so replicas take turns placing their jobs.
   */
  private QueueBudget budget() {
    Map<String, Queues.Limits> constrained = queues.lockConstrained();
    if (constrained.isEmpty()) {
      return new QueueBudget(Map.of(), Map.of(), Map.of());
    }
    Map<String, QueueBudget.Limits> limits = new java.util.HashMap<>();
    constrained.forEach(
        (name, l) ->
            limits.put(
                name, new QueueBudget.Limits(l.maxRunning(), l.maxRunningPerKey(), l.paused())));
    DispatchRepository.Running running = repository.running(limits.keySet());
    return new QueueBudget(limits, running.perQueue(), running.perKey());
  }

  /** Runs one claim-and-place transaction; returns how many jobs were dispatched. */
  public int dispatchOnce() {
    Integer placed = tx.execute(status -> claimAndPlace());
    int n = placed == null ? 0 : placed;
    if (n > 0) {
      dispatched.increment(n);
    }
    return n;
  }

  private int claimAndPlace() {
    OffsetDateTime now = OffsetDateTime.now(clock);
    List<WorkerCapacity> workers =
        repository.lockWorkersWithCapacity(properties.workerOfflineAfter());
    List<Placement> placements = new ArrayList<>();
    List<String> claimedIds = new ArrayList<>();
    if (workers.isEmpty()) {
      return 0;
    }
    QueueBudget budget = budget();
    // Each round claims only jobs that fit a worker's free capacity now, in priority order, then
    // places them; what was placed shrinks the next round's capacity. A job that fits nowhere now
    // is never claimed, so it cannot stop the jobs behind it.
    for (int round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      int free = workers.stream().mapToInt(w -> Math.max(0, w.freeSlots())).sum();
      if (free <= 0) {
        break;
      }
      // more than fits, as jobs that fit one worker alone may not fit once others are placed
      int claim = Math.min(properties.dispatchBatchSize(), Math.max(free * 4, 64));
      List<DispatchRepository.PendingJob> claimed =
          repository.claimPending(
              now,
              claim,
              DispatchPlanner.freeShapes(workers),
              claimedIds,
              budget.closedQueues(),
              budget.fullKeys());
      if (claimed.isEmpty()) {
        break;
      }
      Map<String, QueueBudget.Job> byId = new java.util.HashMap<>();
      for (DispatchRepository.PendingJob j : claimed) {
        claimedIds.add(j.id());
        byId.put(j.id(), new QueueBudget.Job(j.id(), j.queue(), j.key()));
      }
      List<Candidate> candidates = new ArrayList<>(claimed.size());
      for (DispatchRepository.PendingJob j : budget.admit(claimed, p -> byId.get(p.id()))) {
        candidates.add(new Candidate(j.id(), j.vramMb(), j.memoryMb()));
      }
      DispatchPlanner.Plan plan = planner.plan(candidates, workers);
      placements.addAll(plan.placements());
      budget.started(plan.placements().stream().map(p -> byId.get(p.jobId())).toList());
      workers = plan.remaining();
      if (claimed.size() < claim) {
        break;
      }
    }
    if (placements.isEmpty()) {
      return 0;
    }
    List<JobTransitions.Move> claims = new ArrayList<>(placements.size());
    for (Placement p : placements) {
      claims.add(JobTransitions.Move.of(p.jobId()).on(p.workerId(), p.incarnation()));
    }
    // claimPending locked these rows in this transaction, as pending: nothing can move them first
    List<JobTransitions.Moved> started =
        transitions.applyToLocked(Transition.CLAIM, claims, now).moved();
    sendDispatches(started, m -> Map.of(), now);
    return started.size();
  }

  /**
   * Opens the attempt rows of jobs just claimed or reserved and writes their dispatches to the
   * outbox, inside the caller's transaction; {@code env} adds variables to a job's environment (a
   * gang task's {@code GANG_*}).
   */
  public void sendDispatches(
      List<JobTransitions.Moved> started,
      java.util.function.Function<JobTransitions.Moved, Map<String, String>> env,
      OffsetDateTime now) {
    repository.openAttempts(started, now);
    Map<String, String> saved = repository.checkpoints(started);
    List<OutboxMessage> messages = new ArrayList<>(started.size());
    for (JobTransitions.Moved s : started) {
      Map<String, String> vars = new java.util.LinkedHashMap<>(env.apply(s));
      vars.put("WORKRON_JOB_ID", s.jobId());
      vars.put("WORKRON_ATTEMPT", Integer.toString(s.attempt()));
      JobDispatch dispatch =
          new JobDispatch(
              s.jobId(),
              s.attempt(),
              s.workerId(),
              s.incarnation(),
              s.command(),
              vars,
              new Resources(s.vramMb(), s.memoryMb()),
              s.timeoutSeconds(),
              s.epoch(),
              saved.get(s.jobId()),
              checkpointMaxBytes);
      String id = "dispatch-" + s.jobId() + "-" + s.attempt();
      messages.add(
          OutboxMessage.dispatch(
              topics.dispatch(s.workerId()),
              s.jobId(),
              s.attempt(),
              codec.encode(
                  WireCodec.envelope(MessageType.JOB_DISPATCH, id, now.toInstant(), dispatch))));
    }
    outbox.addAll(messages);
  }

  @Override
  public void start() {
    loop.start();
  }

  @Override
  public void stop() {
    loop.stop();
  }

  @Override
  public boolean isRunning() {
    return loop.isRunning();
  }
}
