package io.workron.gateway.ui;

import io.workron.gateway.security.AuthFailures;
import io.workron.gateway.security.AuthProperties;
import io.workron.gateway.security.DashboardSecurity;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseCookie;
import org.springframework.security.oauth2.server.resource.introspection.OAuth2IntrospectionException;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.ModelAndView;

/**
 * {@code /ui/login}: a token, checked as the API checks one, kept in an HTTP-only {@code
 * SameSite=Strict} cookie for {@code /ui} ({@code Secure} when the request came over HTTPS); {@code
 * /ui/logout} drops it. With authentication off there is nothing to log in to.
 */
@Controller
class LoginController {

  /** How long a login lasts. */
  static final Duration LOGIN = Duration.ofHours(12);

  private final AuthProperties auth;
  private final OpaqueTokenIntrospector tokens;
  private final AuthFailures failures;

  LoginController(AuthProperties auth, OpaqueTokenIntrospector tokens, AuthFailures failures) {
    this.auth = auth;
    this.tokens = tokens;
    this.failures = failures;
  }

  @GetMapping("/ui/login")
  ModelAndView form() {
    if (!auth.enabled()) {
      return new ModelAndView("redirect:/ui/jobs");
    }
    return new ModelAndView("ui/login");
  }

  @PostMapping("/ui/login")
  ModelAndView login(
      @RequestParam(required = false) String token,
      HttpServletRequest request,
      HttpServletResponse response) {
    if (!auth.enabled()) {
      return new ModelAndView("redirect:/ui/jobs");
    }
    String given = token == null ? "" : token.strip();
    try {
      if (given.isEmpty() || given.length() > 4096) {
        throw new OAuth2IntrospectionException("no token");
      }
      if (!io.workron.gateway.security.Scopes.mayRead(tokens.introspect(given).getAuthorities())) {
        ModelAndView refused = new ModelAndView("ui/login", HttpStatus.FORBIDDEN);
        refused.addObject(
            "error", "That token has no jobs:read scope: the dashboard's pages need it.");
        return refused;
      }
    } catch (OAuth2IntrospectionException e) {
      failures.refusedLogin(request);
      ModelAndView again = new ModelAndView("ui/login", HttpStatus.UNAUTHORIZED);
      again.addObject("error", "That token is not valid.");
      return again;
    }
    response.addHeader(HttpHeaders.SET_COOKIE, cookie(request, given, LOGIN).toString());
    return new ModelAndView("redirect:/ui/jobs");
  }

  @PostMapping("/ui/logout")
  String logout(HttpServletRequest request, HttpServletResponse response) {
    response.addHeader(HttpHeaders.SET_COOKIE, cookie(request, "", Duration.ZERO).toString());
    return auth.enabled() ? "redirect:/ui/login" : "redirect:/ui/jobs";
  }

  private static ResponseCookie cookie(HttpServletRequest request, String value, Duration age) {
    return ResponseCookie.from(DashboardSecurity.TOKEN_COOKIE, value)
        .httpOnly(true)
        .secure(request.isSecure())
        .sameSite("Strict")
        .path("/ui")
        .maxAge(age)
        .build();
  }
}
