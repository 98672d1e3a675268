package io.workron.scheduler.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Puts the fields of a call to the internal API in the MDC while it is served: {@code request_id}
 * from the gateway's {@code X-Request-ID}, and {@code job_id}, {@code worker_id} or {@code gang_id}
 * when the path is about one job, worker or gang. Every log line of the call (a cancel, a retry by
 * hand, a drain) carries them, as text and as JSON fields.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class LogFieldsFilter extends OncePerRequestFilter {

  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern ABOUT_ONE =
      Pattern.compile("(?:/internal)?/(jobs|workers|gangs)/([^/]+)(?:/.*)?");

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    List<String> keys = new ArrayList<>(2);
    String requestId = request.getHeader("X-Request-ID");
    if (requestId != null && SANE.matcher(requestId).matches()) {
      MDC.put("request_id", requestId);
      keys.add("request_id");
    }
    Matcher about = ABOUT_ONE.matcher(request.getRequestURI());
    if (about.matches()
        && SANE.matcher(about.group(2)).matches()
        && !"existing".equals(about.group(2))) { // POST /internal/jobs/existing reads many
      String key =
          switch (about.group(1)) {
            case "jobs" -> "job_id";
            case "gangs" -> "gang_id";
            default -> "worker_id";
          };
      MDC.put(key, about.group(2));
      keys.add(key);
    }
    try {
      chain.doFilter(request, response);
    } finally {
      keys.forEach(MDC::remove);
    }
  }
}
