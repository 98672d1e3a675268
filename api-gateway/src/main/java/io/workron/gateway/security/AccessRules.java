package io.workron.gateway.security;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;

/**
 * Which scope each call needs, in one table, so that the decision and the 403's explanation cannot
 * disagree:
 *
 * <ul>
 *   <li>open: {@code GET /health}, {@code /actuator/health/**} (liveness, readiness), {@code
 *       /actuator/prometheus}, the OpenAPI document and Swagger UI;
 *   <li>{@code jobs:write} (or {@code jobs:write:<queue>}, which the controller then holds to its
 *       queue): {@code POST /jobs}, {@code POST /jobs/{id}/cancel}, {@code POST
 *       /gangs/{id}/cancel};
 *   <li>{@code jobs:read}: every other {@code GET} of the API but dead letters;
 *   <li>{@code admin}: everything else (retry, queues, schedules, worker drain, dead letters, which
 *       can hold any queue's commands, and the other actuator endpoints).
 * </ul>
 */
public final class AccessRules implements AuthorizationManager<RequestAuthorizationContext> {

  private static final List<Pattern> OPEN =
      List.of(
          Pattern.compile("/health"),
          Pattern.compile("/actuator/health(/.*)?"),
          Pattern.compile("/actuator/prometheus"),
          Pattern.compile("/v3/api-docs(/.*)?"),
          Pattern.compile("/swagger-ui\\.html"),
          Pattern.compile("/swagger-ui/.*"));

  private static final List<Pattern> WRITE =
      List.of(
          Pattern.compile("/jobs"),
          Pattern.compile("/jobs/[^/]+/cancel"),
          Pattern.compile("/gangs/[^/]+/cancel"));

  /** The scope a request needs, or null when it is open. */
  static String requiredScope(HttpServletRequest request) {
    // the path as the container decoded it, which is what the handlers are chosen by: a raw URI
    // such as /%61ctuator/metrics must not be judged as something else
    String path =
        request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    return requiredScope(request.getMethod(), path);
  }

  /**
   * The scope {@code method path} needs, or null when it is open; {@code path} may be a template
   * ({@code /jobs/{id}/cancel}).
   */
  public static String requiredScope(String method, String path) {
    boolean read = method.equals("GET") || method.equals("HEAD");
    if (read && OPEN.stream().anyMatch(p -> p.matcher(path).matches())) {
      return null;
    }
    if (method.equals("POST") && WRITE.stream().anyMatch(p -> p.matcher(path).matches())) {
      return Scopes.WRITE;
    }
    if (read && !path.startsWith("/actuator") && !isDeadLetters(path)) {
      return Scopes.READ;
    }
    return Scopes.ADMIN;
  }

  /**
   * Whether the current caller may make the call {@code method path}: what the dashboard asks
   * before it shows a button, and again before the button's action runs.
   */
  public static boolean mayCall(String method, String path) {
    String scope = requiredScope(method, path);
    return scope == null || Scopes.current().holds(scope);
  }

  private static boolean isDeadLetters(String path) {
    return path.equals("/dead-letters") || path.startsWith("/dead-letters/");
  }

  @Override
  public AuthorizationResult authorize(
      Supplier<? extends Authentication> authentication, RequestAuthorizationContext context) {
    String scope = requiredScope(context.getRequest());
    if (scope == null) {
      return new AuthorizationDecision(true);
    }
    Authentication caller = authentication.get();
    if (caller == null
        || !caller.isAuthenticated()
        || !(caller.getPrincipal() instanceof OAuth2AuthenticatedPrincipal)) {
      return new AuthorizationDecision(false); // anonymous: answered 401
    }
    return new AuthorizationDecision(Scopes.of(caller).holds(scope));
  }
}
