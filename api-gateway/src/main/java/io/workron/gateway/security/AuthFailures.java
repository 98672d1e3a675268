package io.workron.gateway.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.gateway.http.ForbiddenException;
import io.workron.gateway.http.RequestId;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers a call without a good token (401, with {@code WWW-Authenticate: Bearer} as RFC 6750 asks)
 * or without the scope it needs (403), as the same problem bodies every other error gets, with the
 * request id. Each refusal is logged at WARN and counted in {@code
 * workron_auth_failures_total{reason=missing|invalid|forbidden}}; neither ever holds the token.
 */
public final class AuthFailures implements AuthenticationEntryPoint, AccessDeniedHandler {

  private static final Logger log = LoggerFactory.getLogger(AuthFailures.class);
  static final String REALM = "workron";

  private final JsonMapper mapper;
  private final Counter missing;
  private final Counter invalid;
  private final Counter forbidden;

  AuthFailures(JsonMapper mapper, MeterRegistry meters) {
    this.mapper = mapper;
    this.missing = counter(meters, "missing");
    this.invalid = counter(meters, "invalid");
    this.forbidden = counter(meters, "forbidden");
  }

  private static Counter counter(MeterRegistry meters, String reason) {
    return Counter.builder("workron_auth_failures")
        .description(
            "calls refused for want of a token (missing), with a token that is not configured"
                + " (invalid) or without the scope the call needs (forbidden)")
        .tag("reason", reason)
        .register(meters);
  }

  @Override
  public void commence(
      HttpServletRequest request, HttpServletResponse response, AuthenticationException e)
      throws IOException {
    boolean sent = request.getHeader(HttpHeaders.AUTHORIZATION) != null;
    (sent ? invalid : missing).increment();
    log.atWarn()
        .addKeyValue("reason", sent ? "invalid" : "missing")
        .log(
            "refused {} {} from {}: {}",
            request.getMethod(),
            request.getRequestURI(),
            request.getRemoteAddr(),
            sent ? "the bearer token is not a configured token" : "no bearer token");
    response.setHeader(
        HttpHeaders.WWW_AUTHENTICATE,
        sent
            ? "Bearer realm=\""
                + REALM
                + "\", error=\"invalid_token\","
                + " error_description=\"the token is not valid\""
            : "Bearer realm=\"" + REALM + "\"");
    write(
        request,
        response,
        401,
        "Unauthorized",
        sent
            ? "the bearer token is not valid"
            : "this call needs an Authorization: Bearer <token> header",
        Map.of());
  }

  @Override
  public void handle(
      HttpServletRequest request, HttpServletResponse response, AccessDeniedException e)
      throws IOException {
    String scope = AccessRules.requiredScope(request);
    String what = request.getMethod() + " " + request.getRequestURI();
    String caller = Scopes.callerName();
    forbidden(caller, scope, what);
    write(
        request,
        response,
        403,
        "Forbidden",
        new ForbiddenException(caller, scope, what).getMessage(),
        Map.of("required_scope", scope));
  }

  /** Counts and logs a dashboard login with a token that is not configured (never the token). */
  public void refusedLogin(HttpServletRequest request) {
    invalid.increment();
    log.atWarn()
        .addKeyValue("reason", "invalid")
        .log(
            "refused a dashboard login from {}: the token is not a configured token",
            request.getRemoteAddr());
  }

  /** Counts and logs a 403: token {@code caller} lacks {@code scope} for {@code what}. */
  public void forbidden(String caller, String scope, String what) {
    forbidden.increment();
    log.atWarn()
        .addKeyValue("reason", "forbidden")
        .addKeyValue("token_name", caller)
        .log("refused {}: token {} lacks scope {}", what, caller, scope);
  }

  private void write(
      HttpServletRequest request,
      HttpServletResponse response,
      int status,
      String title,
      String detail,
      Map<String, Object> extra)
      throws IOException {
    Map<String, Object> problem = new LinkedHashMap<>();
    problem.put("type", "about:blank");
    problem.put("title", title);
    problem.put("status", status);
    problem.put("detail", detail);
    problem.put("instance", request.getRequestURI());
    problem.putAll(extra);
    problem.put("request_id", RequestId.of(request));
    response.setStatus(status);
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    response.getOutputStream().write(mapper.writeValueAsBytes(problem));
  }
}
