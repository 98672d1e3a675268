package io.workron.gateway.http;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives every request an id before anything else runs: the caller's {@code X-Request-ID} when it is
 * sane (at most 128 of {@code [A-Za-z0-9._-]}), otherwise a fresh UUID. A header that could smuggle
 * log syntax or huge values is replaced rather than rejected: the request still succeeds. A request
 * about one job ({@code /jobs/{id}...}) also puts its {@code job_id} in the MDC, so that every log
 * line of the request carries both.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class RequestIdFilter extends OncePerRequestFilter {

  private static final java.util.regex.Pattern JOB_PATH =
      java.util.regex.Pattern.compile("/jobs/([^/]+)(?:/.*)?");

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String incoming = request.getHeader(RequestId.HEADER);
    String id = RequestId.isSane(incoming) ? incoming : UUID.randomUUID().toString();
    request.setAttribute(RequestId.ATTRIBUTE, id);
    response.setHeader(RequestId.HEADER, id);
    MDC.put(RequestId.MDC_KEY, id);
    java.util.regex.Matcher job = JOB_PATH.matcher(request.getRequestURI());
    boolean aboutAJob = job.matches() && RequestId.isSane(job.group(1));
    if (aboutAJob) {
      MDC.put("job_id", job.group(1));
    }
    try {
      chain.doFilter(request, response);
    } finally {
      MDC.remove(RequestId.MDC_KEY);
      if (aboutAJob) {
        MDC.remove("job_id");
      }
    }
  }
}
