package io.workron.scheduler.audit;

import static io.workron.scheduler.db.Tables.AUDIT_EVENTS;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import java.util.regex.Pattern;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Records every change made through the internal API, once it succeeded (2xx), as an audit event: a
 * log line ({@code audit ...} with {@code actor}, {@code request_id}, {@code action}) and a row of
 * {@code audit_events}, which a job's history shows. The actor is the gateway token's name ({@code
 * X-Workron-Actor}), never the token. Refusals are the gateway's to log (401, 403) and the caller's
 * to see; what was done is recorded here, where it was done.
 *
 * <p>An interceptor's completion runs after the answer is decided, also for a cancel answered
 * asynchronously, so the event records the outcome rather than the attempt.
 */
@Configuration(proxyBeanMethods = false)
public class AuditTrail implements WebMvcConfigurer, HandlerInterceptor {

  /** Request attribute a controller sets when the subject is not in the path (a new schedule). */
  public static final String SUBJECT = AuditTrail.class.getName() + ".subject";

  private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

  private record Rule(String action, String variable, Kind kind) {}

  private enum Kind {
    JOB,
    GANG,
    OTHER
  }

  /**
   * By method and the handler's path pattern, as Spring MVC matched it (so the decoded path, with
   * its template variables, whatever the raw URI looked like).
   */
  private static final Map<String, Rule> RULES =
      Map.ofEntries(
          Map.entry("POST /internal/jobs/{id}/cancel", new Rule("job.cancel", "id", Kind.JOB)),
          Map.entry("POST /internal/jobs/{id}/retry", new Rule("job.retry", "id", Kind.JOB)),
          Map.entry("POST /internal/gangs/{id}/cancel", new Rule("gang.cancel", "id", Kind.GANG)),
          Map.entry("PUT /internal/queues/{name}", new Rule("queue.update", "name", Kind.OTHER)),
          Map.entry(
              "POST /internal/queues/{name}/pause", new Rule("queue.pause", "name", Kind.OTHER)),
          Map.entry(
              "POST /internal/queues/{name}/resume", new Rule("queue.resume", "name", Kind.OTHER)),
          Map.entry("POST /internal/schedules", new Rule("schedule.create", null, Kind.OTHER)),
          Map.entry(
              "DELETE /internal/schedules/{name}", new Rule("schedule.delete", "name", Kind.OTHER)),
          Map.entry(
              "POST /internal/schedules/{name}/pause",
              new Rule("schedule.pause", "name", Kind.OTHER)),
          Map.entry(
              "POST /internal/schedules/{name}/resume",
              new Rule("schedule.resume", "name", Kind.OTHER)),
          Map.entry(
              "POST /internal/workers/{id}/drain", new Rule("worker.drain", "id", Kind.OTHER)),
          Map.entry(
              "POST /internal/workers/{id}/resume", new Rule("worker.resume", "id", Kind.OTHER)),
          Map.entry(
              "POST /internal/dead-letters/{topic}/{partition}/{offset}/replay",
              new Rule("dead_letter.replay", null, Kind.OTHER)));

  private final DSLContext db;

  AuditTrail(DSLContext db) {
    this.db = db;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(this).addPathPatterns("/internal/**");
  }

  @Override
  public void afterCompletion(
      HttpServletRequest request, HttpServletResponse response, Object handler, Exception ex) {
    if (ex != null || response.getStatus() / 100 != 2 || request.getMethod().equals("GET")) {
      return;
    }
    Object pattern = request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
    Rule rule = pattern == null ? null : RULES.get(request.getMethod() + " " + pattern);
    if (rule == null) {
      return;
    }
    Object variables = request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
    String subject =
        rule.variable() == null
            ? String.valueOf(request.getAttribute(SUBJECT))
            : variables instanceof Map<?, ?> m ? String.valueOf(m.get(rule.variable())) : "?";
    record(rule, subject, request);
  }

  private void record(Rule rule, String subject, HttpServletRequest request) {
    String actor = sane(request.getHeader("X-Workron-Actor"), "unknown");
    String requestId = sane(request.getHeader("X-Request-ID"), null);
    log.atInfo()
        .addKeyValue("actor", actor)
        .addKeyValue("action", rule.action())
        .log("audit: {} {} by {} (request {})", rule.action(), subject, actor, requestId);
    try {
      db.insertInto(AUDIT_EVENTS)
          .set(AUDIT_EVENTS.ACTOR, actor)
          .set(AUDIT_EVENTS.REQUEST_ID, requestId)
          .set(AUDIT_EVENTS.ACTION, rule.action())
          .set(AUDIT_EVENTS.SUBJECT, subject)
          .set(AUDIT_EVENTS.JOB_ID, rule.kind() == Kind.JOB ? subject : null)
          .set(AUDIT_EVENTS.GANG_ID, rule.kind() == Kind.GANG ? subject : null)
          .execute();
    } catch (RuntimeException e) {
      // the change is made and answered; its log line above still records it
      log.warn("could not store the audit event {} {}: {}", rule.action(), subject, e.toString());
    }
  }

  private static String sane(String value, String otherwise) {
    return value != null && SANE.matcher(value).matches() ? value : otherwise;
  }
}
