package io.workron.scheduler.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * scheduler-core's internal API ({@code /internal/...}: every read, cancel, retry and queue change
 * the gateway relays) asks for its own shared token, {@code Authorization: Bearer <token>} with
 * {@code workron.internal-api.token} ({@code WORKRON_INTERNAL_API_TOKEN}, the same value on the
 * gateway). Without a token configured it serves only when bound to a loopback address ({@code
 * server.address=127.0.0.1}), where nothing else can reach it; otherwise it refuses to start. Only
 * the actuator (health, metrics) stays open; every other path asks for the token.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class InternalApiGuard extends OncePerRequestFilter {

  private static final Logger log = LoggerFactory.getLogger(InternalApiGuard.class);

  private final byte[] expected;

  InternalApiGuard(
      @Value("${workron.internal-api.token:}") String token,
      @Value("${server.address:}") String address) {
    if (token.isBlank()) {
      if (!isLoopback(address)) {
        throw new IllegalStateException(
            "scheduler-core's internal API has no token and listens on "
                + (address.isBlank() ? "every address" : address)
                + ": set WORKRON_INTERNAL_API_TOKEN (workron.internal-api.token) here and on the"
                + " gateway, or bind it to 127.0.0.1 (server.address)");
      }
      log.info("the internal API needs no token: it listens on {} only", address);
      this.expected = null;
    } else {
      this.expected = ("Bearer " + token.strip()).getBytes(StandardCharsets.UTF_8);
    }
  }

  private static boolean isLoopback(String address) {
    if (address.isBlank()) {
      return false;
    }
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * Everything but the actuator needs the token: decided on the servlet path, which the container
   * has decoded and stripped of {@code ;parameters} as the handler mapping sees it, so that {@code
   * /internal;x/...} or {@code /%69nternal/...} cannot pass as another path.
   */
  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    String path =
        request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    return expected == null || path.equals("/actuator") || path.startsWith("/actuator/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String header = request.getHeader("Authorization");
    // the same time whatever the header holds, so timing does not tell how much of it was right
    boolean ok =
        header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8));
    if (ok) {
      chain.doFilter(request, response);
      return;
    }
    log.atWarn()
        .addKeyValue("reason", header == null ? "missing" : "invalid")
        .log(
            "refused {} {} from {}: {}",
            request.getMethod(),
            request.getRequestURI(),
            request.getRemoteAddr(),
            header == null ? "no internal API token" : "not the internal API token");
    response.setStatus(401);
    response.setHeader("WWW-Authenticate", "Bearer realm=\"workron-internal\"");
    response.setContentType("application/problem+json");
    response
        .getOutputStream()
        .write(
            ("{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,"
                    + "\"detail\":\"the internal API needs the shared token"
                    + " (WORKRON_INTERNAL_API_TOKEN) as Authorization: Bearer\"}")
                .getBytes(StandardCharsets.UTF_8));
  }
}
