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
  private final AuthFailures failures;

  DashboardActions(JobControlController jobs, AuthFailures failures) {
    this.jobs = jobs;
    this.failures = failures;
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
