package io.workron.gateway.control;

import io.workron.gateway.http.ConflictException;
import io.workron.gateway.http.ForbiddenException;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.http.UnavailableException;
import io.workron.gateway.security.AccessRules;
import io.workron.gateway.security.AuthFailures;
import io.workron.gateway.security.Scopes;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The dashboard's buttons. Each makes the REST API's own call, through its controller, so a button
 * is held to the same scope, per-queue rule and audit event as the API; it then goes back to the
 * job's page with what happened in {@code notice}.
 */
@Controller
class DashboardActions {

  private final JobControlController jobs;
  private final QueueController queues;
  private final ScheduleController schedules;
  private final DeadLetterController deadLetters;
  private final io.workron.gateway.query.WorkerQueryController workers;
  private final AuthFailures failures;

  DashboardActions(
      JobControlController jobs,
      QueueController queues,
      ScheduleController schedules,
      DeadLetterController deadLetters,
      io.workron.gateway.query.WorkerQueryController workers,
      AuthFailures failures) {
    this.jobs = jobs;
    this.queues = queues;
    this.schedules = schedules;
    this.deadLetters = deadLetters;
    this.workers = workers;
    this.failures = failures;
  }

  @PostMapping("/ui/gangs/{id}/cancel")
  CompletableFuture<String> cancelGang(@PathVariable String id) {
    String path = "/gangs/" + id + "/cancel";
    String page = "/ui/gangs/" + id;
    if (!AccessRules.mayCall("POST", path)) {
      return refusedTo(page, path);
    }
    return settle(
        () -> {
          try {
            return jobs.cancelGang(id, InputStream.nullInputStream());
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        },
        page,
        "gang " + id + ": cancel requested");
  }

  @PostMapping("/ui/queues/{name}/{action}")
  CompletableFuture<String> queue(@PathVariable String name, @PathVariable String action) {
    String path = "/queues/" + name + "/" + action;
    String page = "/ui/queues";
    if (!AccessRules.mayCall("POST", path)) {
      return refusedTo(page, path);
    }
    return settle(() -> queues.act(name, action), page, "queue " + name + ": " + done(action));
  }

  @PostMapping("/ui/schedules/{name}/{action}")
  CompletableFuture<String> schedule(@PathVariable String name, @PathVariable String action) {
    String path = "/schedules/" + name + "/" + action;
    String page = "/ui/schedules";
    if (!AccessRules.mayCall("POST", path)) {
      return refusedTo(page, path);
    }
    return settle(
        () -> schedules.act(name, action), page, "schedule " + name + ": " + done(action));
  }

  @PostMapping("/ui/workers/{id}/{action}")
  CompletableFuture<String> worker(@PathVariable String id, @PathVariable String action) {
    String path = "/workers/" + id + "/" + action;
    String page = "/ui/workers";
    if (!AccessRules.mayCall("POST", path)) {
      return refusedTo(page, path);
    }
    if (!action.equals("drain") && !action.equals("resume")) {
      return CompletableFuture.completedFuture(to(page, "not done: unknown action " + action));
    }
    return settle(
        () -> action.equals("drain") ? workers.drain(id) : workers.resume(id),
        page,
        "worker " + id + (action.equals("drain") ? ": drained" : ": takes work again"));
  }

  @PostMapping("/ui/dead-letters/{topic}/{partition}/{offset}/replay")
  CompletableFuture<String> replay(
      @PathVariable String topic, @PathVariable String partition, @PathVariable String offset) {
    String path = "/dead-letters/" + topic + "/" + partition + "/" + offset + "/replay";
    String page = "/ui/dead-letters";
    if (!AccessRules.mayCall("POST", path)) {
      return refusedTo(page, path);
    }
    return settle(
        () -> deadLetters.replay(topic, partition, offset, null),
        page,
        topic + "/" + partition + "@" + offset + ": replayed");
  }

  private static String done(String action) {
    return action.equals("pause") ? "paused" : action.equals("resume") ? "resumed" : action;
  }

  /** Runs a REST controller's call and goes back to {@code page} saying how it went. */
  private static CompletableFuture<String> settle(
      java.util.function.Supplier<? extends CompletableFuture<?>> call,
      String page,
      String success) {
    CompletableFuture<?> started;
    try {
      started = call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(to(page, why(e)));
    }
    return started.handle((answer, error) -> to(page, error != null ? why(error) : success));
  }

  private CompletableFuture<String> refusedTo(String page, String path) {
    String scope = AccessRules.requiredScope("POST", path);
    failures.forbidden(Scopes.callerName(), scope, "POST " + path + " (dashboard)");
    return CompletableFuture.completedFuture(
        to(page, "not allowed: your token lacks the scope " + scope));
  }

  private static String to(String page, String notice) {
    // the page's own path is made of ids the gateway checked; the notice is encoded as a value
    return "redirect:"
        + UriComponentsBuilder.fromUriString(page)
            .queryParam("notice", "{notice}")
            .encode()
            .buildAndExpand(notice)
            .toUriString();
  }

  @PostMapping("/ui/jobs/{id}/cancel")
  CompletableFuture<String> cancel(@PathVariable String id) throws java.io.IOException {
    String path = "/jobs/" + id + "/cancel";
    if (!AccessRules.mayCall("POST", path)) {
      return refused(id, path);
    }
    return jobs.cancel(id, InputStream.nullInputStream())
        .handle(
            (answer, error) ->
                back(
                    id,
                    error != null
                        ? why(error)
                        : answer.getStatusCode().value() == 202
                            ? "cancel requested: the running attempt is being stopped"
                            : "cancelled"));
  }

  @PostMapping("/ui/jobs/{id}/retry")
  CompletableFuture<String> retry(@PathVariable String id) {
    String path = "/jobs/" + id + "/retry";
    if (!AccessRules.mayCall("POST", path)) {
      return refused(id, path);
    }
    return jobs.retry(id, null)
        .handle(
            (ResponseEntity<byte[]> answer, Throwable error) ->
                back(id, error != null ? why(error) : "retried: it runs again"));
  }

  private CompletableFuture<String> refused(String id, String path) {
    String scope = AccessRules.requiredScope("POST", path);
    failures.forbidden(Scopes.callerName(), scope, "POST " + path + " (dashboard)");
    return CompletableFuture.completedFuture(
        back(id, "not allowed: your token lacks the scope " + scope));
  }

  private static String why(Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (e instanceof io.workron.gateway.http.InvalidRequestException) {
      return "not done: " + e.getMessage();
    }
    if (e instanceof ConflictException
        || e instanceof NotFoundException
        || e instanceof ForbiddenException
        || e instanceof UnavailableException) {
      return "not done: " + e.getMessage();
    }
    return "not done: the gateway could not do it (" + e.getClass().getSimpleName() + ")";
  }

  private static String back(String id, String notice) {
    return "redirect:"
        + UriComponentsBuilder.fromPath("/ui/jobs/{id}")
            .queryParam("notice", "{notice}")
            .encode()
            .buildAndExpand(id, notice)
            .toUriString();
  }
}
