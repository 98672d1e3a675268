package io.workron.scheduler.schedules;

import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.SCHEDULES;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.db.tables.records.SchedulesRecord;
import io.workron.scheduler.ingest.SubmissionStore;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.support.CronExpression;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Recurring schedules: a cron expression in a time zone, and the job each fire submits. Cron is
 * Spring Framework's {@link CronExpression} (five Unix fields are accepted and mean second 0; six
 * fields start with the second); across daylight-saving changes, as that library defines them, a
 * fire time that does not exist that day (clocks jump forward) is skipped, and one that happens
 * twice (clocks fall back) fires at both instants.
 *
 * <p>Each fire creates one job, {@code schedule-<name>-<fire time, UTC, yyyyMMddTHHmmssZ>}: the
 * fire loop runs on one replica at a time (advisory lock {@value #LOCK_ID}), and an id stored twice
 * is ignored. Runs inside the caller's transaction.
 */
@Component
public class Schedules {

  /** {@code pg_try_advisory_xact_lock} key of the schedule fire loop. */
  public static final long LOCK_ID = 5;

  private static final Logger log = LoggerFactory.getLogger(Schedules.class);
  private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  private static final DateTimeFormatter FIRE_ID =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** Missed and overlapping fires: what a schedule does with them. */
  public static final List<String> MISSED = List.of("skip", "run_once");

  public static final List<String> OVERLAP = List.of("skip", "allow");

  /** A request refused, naming the field. */
  public static final class Invalid extends RuntimeException {
    private final String field;

    Invalid(String field, String detail) {
      super(detail);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  /** A refusal of {@code field}, for callers that check the request's shape. */
  public static Invalid invalid(String field, String detail) {
    return new Invalid(field, detail);
  }

  /** What {@link #create} was asked. */
  public record Definition(
      String name, String cron, String timeZone, JsonNode job, String missed, String overlap) {}

  private final DSLContext db;
  private final WireCodec codec;
  private final SubmissionStore submissions;
  private final Duration misfireGrace;

  Schedules(
      DSLContext db,
      WireCodec codec,
      SubmissionStore submissions,
      io.workron.scheduler.config.SchedulerProperties properties) {
    this.db = db;
    this.codec = codec;
    this.submissions = submissions;
    this.misfireGrace = properties.scheduleMisfireGrace();
  }

  /** Creates a schedule; empty if one with that name exists. */
  public Optional<Map<String, Object>> create(Definition d, OffsetDateTime now) {
    if (d.name() == null || !NAME.matcher(d.name()).matches()) {
      throw new Invalid(
          "name", "name must be 1 to 64 letters, digits, '.', '_' or '-', starting alphanumeric");
    }
    CronExpression cron = cron(d.cron());
    ZoneId zone = zone(d.timeZone());
    String missed = oneOf("missed", d.missed(), MISSED);
    String overlap = oneOf("overlap", d.overlap(), OVERLAP);
    String job = template(d.job(), d.name());
    ZonedDateTime next = cron.next(now.atZoneSameInstant(zone));
    if (next == null) {
      throw new Invalid("cron", "cron expression \"" + d.cron() + "\" never fires");
    }
    int inserted =
        db.insertInto(SCHEDULES)
            .set(SCHEDULES.NAME, d.name())
            .set(SCHEDULES.CRON, d.cron())
            .set(SCHEDULES.TIME_ZONE, zone.getId())
            .set(SCHEDULES.JOB, job)
            .set(SCHEDULES.MISSED, missed)
            .set(SCHEDULES.OVERLAP, overlap)
            .set(SCHEDULES.NEXT_FIRE_AT, next.toOffsetDateTime())
            .set(SCHEDULES.CREATED_AT, now)
            .onConflictDoNothing()
            .execute();
    return inserted == 0 ? Optional.empty() : view(d.name());
  }

  public List<Map<String, Object>> list() {
    return db.selectFrom(SCHEDULES).orderBy(SCHEDULES.NAME).fetch(this::view);
  }

  public Optional<Map<String, Object>> view(String name) {
    return db.selectFrom(SCHEDULES).where(SCHEDULES.NAME.eq(name)).fetchOptional(this::view);
  }

  public boolean delete(String name) {
    return db.deleteFrom(SCHEDULES).where(SCHEDULES.NAME.eq(name)).execute() == 1;
  }

  /**
   * Pauses (no fires) or resumes a schedule; a resumed schedule fires next at its first time after
   * now (the fires while paused are not made up). Empty if there is no such schedule.
   */
  public Optional<Map<String, Object>> pause(String name, boolean paused, OffsetDateTime now) {
    SchedulesRecord r =
        db.selectFrom(SCHEDULES).where(SCHEDULES.NAME.eq(name)).forUpdate().fetchOne();
    if (r == null) {
      return Optional.empty();
    }
    if (paused && r.getPausedAt() == null) {
      r.setPausedAt(now);
    } else if (!paused && r.getPausedAt() != null) {
      r.setPausedAt(null);
      r.setNextFireAt(nextAfter(r, now.toInstant()));
    }
    r.store();
    return view(name);
  }

  /**
   * Fires what is due, if this replica holds the fire loop's lock; returns the jobs submitted. Per
   * due schedule: fire times older than {@code schedule-misfire-grace} were missed (downtime) and
   * are skipped, or with {@code missed: run_once} the latest of them is fired once; a fire while
   * the previous fire's job has not finished is skipped with {@code overlap: skip}, the reason kept
   * in {@code last_skip_reason}.
   */
  public List<String> fireDue(OffsetDateTime now) {
    Boolean locked =
        db.resultQuery("select pg_try_advisory_xact_lock(?)", LOCK_ID)
            .fetchOne(r -> r.get(0, Boolean.class));
    if (!Boolean.TRUE.equals(locked)) {
      return List.of();
    }
    List<SchedulesRecord> due =
        db.selectFrom(SCHEDULES)
            .where(SCHEDULES.PAUSED_AT.isNull())
            .and(SCHEDULES.NEXT_FIRE_AT.le(now))
            .orderBy(SCHEDULES.NAME)
            .forUpdate()
            .fetch();
    List<String> fired = new java.util.ArrayList<>();
    for (SchedulesRecord s : due) {
      fired.addAll(fire(s, now));
    }
    return fired;
  }

  /**
   * Most fires one schedule makes in one tick (a per-second schedule after a pause of the loop).
   */
  static final int MAX_FIRES_PER_TICK = 100;

  /** Most missed fire times counted one by one; past this, the count says "more than". */
  static final int MAX_MISSED_COUNTED = 10_000;

  /**
   * Makes the fires of {@code s} due by now: those due within {@code schedule-misfire-grace} are
   * made (late, but on time); older ones were missed (no replica could make them) and are skipped,
   * or with {@code missed: run_once} the latest of them is made when no fire is on time.
   */
  private List<String> fire(SchedulesRecord s, OffsetDateTime now) {
    CronExpression cron = CronExpression.parse(sixFields(s.getCron()));
    ZoneId zone = ZoneId.of(s.getTimeZone());
    Instant nowI = now.toInstant();
    Instant graceStart = nowI.minus(misfireGrace);
    Instant first = s.getNextFireAt().toInstant();
    int missed = 0;
    Instant latestMissed = null;
    ZonedDateTime t = first.atZone(zone);
    while (t != null && t.toInstant().isBefore(graceStart) && missed < MAX_MISSED_COUNTED) {
      missed++;
      latestMissed = t.toInstant();
      t = cron.next(t);
    }
    boolean countCapped = t != null && t.toInstant().isBefore(graceStart);
    if (countCapped) {
      // a long outage of a frequent schedule: find the latest missed time near the grace window
      ZonedDateTime near = cron.next(graceStart.minus(Duration.ofHours(1)).atZone(zone));
      for (t = near; t != null && t.toInstant().isBefore(graceStart); t = cron.next(t)) {
        latestMissed = t.toInstant();
      }
    }
    List<Instant> onTime = new java.util.ArrayList<>();
    for (;
        t != null && !t.toInstant().isAfter(nowI) && onTime.size() < MAX_FIRES_PER_TICK;
        t = cron.next(t)) {
      onTime.add(t.toInstant());
    }
    s.setNextFireAt(nextAfter(s, nowI));
    if (missed > 0) {
      boolean madeOnce = onTime.isEmpty() && s.getMissed().equals("run_once");
      int skipped = madeOnce ? missed - 1 : missed;
      if (skipped > 0 || countCapped) {
        skip(
            s,
            now,
            "skipped "
                + (countCapped ? "more than " + (skipped) : skipped)
                + (skipped == 1 && !countCapped ? " fire" : " fires")
                + " missed while no scheduler-core could make them (missed: "
                + s.getMissed()
                + "), the first due at "
                + first);
      }
      if (madeOnce) {
        onTime.add(latestMissed);
      }
    }
    List<String> jobs = new java.util.ArrayList<>();
    for (Instant fireTime : onTime) {
      fireAt(s, fireTime, now).ifPresent(jobs::add);
    }
    s.store();
    return jobs;
  }

  private Optional<String> fireAt(SchedulesRecord s, Instant fireTime, OffsetDateTime now) {
    if (s.getOverlap().equals("skip") && s.getLastJobId() != null) {
      String status =
          db.select(JOBS.STATUS)
              .from(JOBS)
              .where(JOBS.ID.eq(s.getLastJobId()))
              .fetchOne(JOBS.STATUS);
      if (status != null && !JobStatus.fromWire(status).isTerminal()) {
        skip(
            s,
            now,
            "the fire at "
                + fireTime
                + " was skipped: the job of the previous fire, "
                + s.getLastJobId()
                + ", is still "
                + status
                + " (overlap: skip)");
        return Optional.empty();
      }
    }
    String id = fireId(s.getName(), fireTime);
    JobSubmission job = submission(s.getJob(), id, fireTime);
    int stored = submissions.storeFired(job, fireTime);
    s.setLastFireAt(fireTime.atOffset(ZoneOffset.UTC));
    s.setLastJobId(id);
    log.info(
        "schedule {} fired at {}: job {}{}",
        s.getName(),
        fireTime,
        id,
        stored == 0 ? " (already stored)" : "");
    return Optional.of(id);
  }

  /** The id of the job a fire of schedule {@code name} at {@code fireTime} creates. */
  static String fireId(String name, Instant fireTime) {
    return "schedule-" + name + "-" + FIRE_ID.format(fireTime);
  }

  private static void skip(SchedulesRecord s, OffsetDateTime now, String reason) {
    s.setLastSkippedAt(now);
    s.setLastSkipReason(reason);
    log.info("schedule {}: {}", s.getName(), reason);
  }

  private OffsetDateTime nextAfter(SchedulesRecord s, Instant after) {
    ZonedDateTime next =
        CronExpression.parse(sixFields(s.getCron())).next(after.atZone(ZoneId.of(s.getTimeZone())));
    // a schedule that never fires again waits far in the future rather than firing now
    return next == null
        ? OffsetDateTime.of(9999, 12, 31, 0, 0, 0, 0, ZoneOffset.UTC)
        : next.toOffsetDateTime();
  }

  private Map<String, Object> view(SchedulesRecord r) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", r.getName());
    v.put("cron", r.getCron());
    v.put("time_zone", r.getTimeZone());
    v.put("job", codec.mapper().readTree(r.getJob()));
    v.put("missed", r.getMissed());
    v.put("overlap", r.getOverlap());
    v.put("paused", r.getPausedAt() != null);
    v.put(
        "next_fire_at", r.getPausedAt() != null ? null : r.getNextFireAt().toInstant().toString());
    put(v, "last_fire_at", r.getLastFireAt());
    put(v, "last_job_id", r.getLastJobId());
    put(v, "last_skipped_at", r.getLastSkippedAt());
    put(v, "last_skip_reason", r.getLastSkipReason());
    put(v, "created_at", r.getCreatedAt());
    return v;
  }

  private static void put(Map<String, Object> v, String key, Object value) {
    if (value instanceof OffsetDateTime t) {
      v.put(key, t.toInstant().toString());
    } else if (value != null) {
      v.put(key, value);
    }
  }

  /** The cron expression, or why not (five Unix fields, six with seconds, or a macro). */
  static CronExpression cron(String text) {
    if (text == null || text.isBlank()) {
      throw new Invalid("cron", "cron is required, for example \"*/5 * * * *\"");
    }
    try {
      return CronExpression.parse(sixFields(text));
    } catch (IllegalArgumentException e) {
      throw new Invalid("cron", "cron expression \"" + text + "\" is not valid: " + e.getMessage());
    }
  }

  /** Five Unix fields mean second 0; six (seconds first) and macros ({@code @daily}) stay. */
  static String sixFields(String text) {
    String trimmed = text.trim();
    if (trimmed.startsWith("@")) {
      return trimmed;
    }
    int fields = trimmed.split("\\s+").length;
    if (fields == 5) {
      return "0 " + trimmed;
    }
    if (fields == 6) {
      return trimmed;
    }
    throw new Invalid(
        "cron",
        "cron expression \""
            + text
            + "\" has "
            + fields
            + " fields; give 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)");
  }

  private static ZoneId zone(String text) {
    if (text == null || text.isBlank()) {
      return ZoneId.of("UTC");
    }
    try {
      return ZoneId.of(text);
    } catch (DateTimeException e) {
      throw new Invalid(
          "time_zone", "time_zone \"" + text + "\" is not a time zone, for example Europe/Paris");
    }
  }

  private static String oneOf(String field, String value, List<String> allowed) {
    if (value == null) {
      return allowed.get(0);
    }
    if (!allowed.contains(value)) {
      throw new Invalid(field, field + " must be one of " + String.join(", ", allowed));
    }
    return value;
  }

  /**
   * The job template as stored: a {@code job.submitted.v1} payload without {@code id}, checked
   * against the schema (so the same rules as for a submission apply, field by field).
   */
  private String template(JsonNode job, String name) {
    if (job == null || !job.isObject()) {
      throw new Invalid(
          "job", "job is required: the job each fire submits, e.g. {\"command\":\"…\"}");
    }
    for (String field : List.of("id", "depends_on", "idempotency_key", "run_at", "delay_seconds")) {
      if (job.has(field)) {
        throw new Invalid("job." + field, "job." + field + " cannot be part of a schedule's job");
      }
    }
    ObjectNode checked = ((ObjectNode) job).deepCopy();
    String text = codec.mapper().writeValueAsString(checked);
    // with an id shaped as the fires' will be, so what passes here passes at every fire
    submission(text, fireId(name, Instant.now()), Instant.now());
    return text;
  }

  private JobSubmission submission(String template, String id, Instant time) {
    ObjectNode payload = (ObjectNode) codec.mapper().readTree(template);
    payload.put("id", id);
    ObjectNode envelope = codec.mapper().createObjectNode();
    envelope.put("type", MessageType.JOB_SUBMITTED.name());
    envelope.put("id", "fire-" + id);
    envelope.put("time", time.toString());
    envelope.set("payload", payload);
    try {
      return codec
          .decode(codec.mapper().writeValueAsBytes(envelope), MessageType.JOB_SUBMITTED)
          .payload();
    } catch (InvalidMessageException e) {
      String pointer = e.field() == null ? "" : e.field();
      String field =
          pointer.startsWith("/payload/")
              ? "job." + pointer.substring("/payload/".length()).replace('/', '.')
              : "job";
      throw new Invalid(field, field + ": " + e.getMessage());
    }
  }
}
