package io.workron.gateway.security;

import io.workron.gateway.schedulercore.SchedulerCoreClient;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.MDC;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Once the token is known, puts its name in the MDC ({@code token_name}) while the request is
 * served: every log line of the request names who made it, and scheduler-core is told, for its
 * audit events ({@code X-Workron-Actor}). Never the token itself.
 */
final class CallerLogField extends OncePerRequestFilter {

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    Scopes.Grant caller = Scopes.current();
    if (caller.open()) {
      chain.doFilter(request, response);
      return;
    }
    MDC.put(SchedulerCoreClient.ACTOR_MDC_KEY, caller.name());
    try {
      chain.doFilter(request, response);
    } finally {
      MDC.remove(SchedulerCoreClient.ACTOR_MDC_KEY);
    }
  }
}
