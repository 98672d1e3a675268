package io.workron.gateway.security;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthentication;
import org.springframework.security.oauth2.server.resource.introspection.OAuth2IntrospectionException;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;

/**
 * The dashboard ({@code /ui}) is behind the same tokens as the API: a person logs in with a token
 * once ({@code /ui/login}), and it is kept in an HTTP-only, {@code SameSite=Strict} cookie scoped
 * to {@code /ui} ({@code Secure} over HTTPS), which each request presents as the API's bearer token
 * is presented: looked up, scopes and all, with nothing kept on the server, so any gateway replica
 * serves any page. Every form that changes something carries a CSRF token (a double-submit cookie,
 * also stateless), with authentication on or off; a page needs {@code jobs:read}, and each button
 * the scope of the API call it makes. With authentication off (standalone, on 127.0.0.1) the pages
 * are open, but still refuse a form posted from another site.
 */
@Configuration(proxyBeanMethods = false)
public class DashboardSecurity {

  /** The cookie that holds the dashboard's token. */
  public static final String TOKEN_COOKIE = "workron_token";

  @Bean
  @Order(1)
  SecurityFilterChain dashboard(
      HttpSecurity http, AuthProperties auth, OpaqueTokenIntrospector tokens, AuthFailures failures)
      throws Exception {
    CookieCsrfTokenRepository csrf = new CookieCsrfTokenRepository();
    csrf.setCookiePath("/ui");
    csrf.setCookieName("workron_csrf");
    csrf.setCookieCustomizer(c -> c.sameSite("Strict").httpOnly(true));
    http.securityMatcher("/ui", "/ui/**")
        .httpBasic(AbstractHttpConfigurer::disable)
        .formLogin(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .requestCache(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .csrf(c -> c.csrfTokenRepository(csrf))
        .headers(
            h ->
                h.contentSecurityPolicy(
                        p ->
                            p.policyDirectives(
                                "default-src 'self'; img-src 'self' data:; object-src 'none';"
                                    + " base-uri 'none'; frame-ancestors 'none';"
                                    + " form-action 'self'"))
                    .referrerPolicy(
                        r -> r.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.SAME_ORIGIN)));
    if (!auth.enabled()) {
      http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
      return http.build();
    }
    http.authorizeHttpRequests(
            a ->
                a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR)
                    .permitAll()
                    .requestMatchers("/ui/login", "/ui/logout", "/ui/static/**")
                    .permitAll()
                    .anyRequest()
                    .access(
                        (caller, context) ->
                            new AuthorizationDecision(allowed(caller.get(), context.getRequest()))))
        .exceptionHandling(
            e ->
                e.authenticationEntryPoint(new LoginUrlAuthenticationEntryPoint("/ui/login"))
                    .accessDeniedHandler(
                        (request, response, denied) -> {
                          boolean forged =
                              denied instanceof org.springframework.security.web.csrf.CsrfException;
                          String scope = scopeFor(request);
                          if (!forged) {
                            failures.forbidden(
                                Scopes.callerName(),
                                scope,
                                request.getMethod() + " " + request.getRequestURI());
                          }
                          response.setStatus(403);
                          response.setContentType("text/html;charset=UTF-8");
                          response
                              .getWriter()
                              .write(
                                  "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                                      + "<title>Not allowed · Workron</title>"
                                      + "<link rel=\"stylesheet\" href=\"/ui/static/workron.css\">"
                                      + "</head><body><main><h1>Not allowed</h1>"
                                      + (forged
                                          ? "<p id=\"forged\">This form came without its CSRF"
                                              + " token, or from another site: nothing was done."
                                              + " Reload the page and try again.</p>"
                                          : "<p id=\"denied\">This needs a token with the scope "
                                              + scope
                                              + ".</p><p><a href=\"/ui/login\">Log in with"
                                              + " another token</a></p>")
                                      + "</main></body></html>");
                        }))
        // not the resource-server support the API uses: it exempts every request that carries its
        // token from CSRF checks, and here the token rides in a cookie any other site's form sends
        .addFilterBefore(new CookieToken(tokens), AuthorizationFilter.class)
        .addFilterAfter(new CallerLogField(), AuthorizationFilter.class);
    return http.build();
  }

  /**
   * Whether the caller may make this dashboard request: each page and button needs the scope of the
   * API call it stands for ({@code GET /ui/jobs} that of {@code GET /jobs}, {@code POST
   * /ui/queues/q/pause} that of {@code POST /queues/q/pause}), and every page at least {@code
   * jobs:read}. Held here, before any controller runs, and again by the controller the button
   * calls.
   */
  static boolean allowed(
      org.springframework.security.core.Authentication who, HttpServletRequest request) {
    if (who == null || !(who.getPrincipal() instanceof OAuth2AuthenticatedPrincipal)) {
      return false;
    }
    Scopes.Grant grant = Scopes.of(who);
    return grant.holds(Scopes.READ) && grant.holds(scopeFor(request));
  }

  /** The scope of the API call a dashboard request stands for; {@code jobs:read} at least. */
  static String scopeFor(HttpServletRequest request) {
    String path =
        request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    String api = path.startsWith("/ui") ? path.substring(3) : path;
    String scope = AccessRules.requiredScope(request.getMethod(), api.isEmpty() ? "/" : api);
    return scope == null ? Scopes.READ : scope;
  }

  /**
   * Looks the cookie's token up as the API looks up a bearer token; a token that is not (or no
   * longer) configured leaves the request anonymous, which the login page answers.
   */
  static final class CookieToken extends org.springframework.web.filter.OncePerRequestFilter {
    private final OpaqueTokenIntrospector tokens;

    CookieToken(OpaqueTokenIntrospector tokens) {
      this.tokens = tokens;
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest request,
        jakarta.servlet.http.HttpServletResponse response,
        jakarta.servlet.FilterChain chain)
        throws jakarta.servlet.ServletException, java.io.IOException {
      String token = token(request);
      if (token != null) {
        try {
          OAuth2AuthenticatedPrincipal principal = tokens.introspect(token);
          var context = SecurityContextHolder.createEmptyContext();
          context.setAuthentication(
              new BearerTokenAuthentication(
                  principal,
                  new OAuth2AccessToken(OAuth2AccessToken.TokenType.BEARER, token, null, null),
                  principal.getAuthorities()));
          SecurityContextHolder.setContext(context);
        } catch (OAuth2IntrospectionException e) {
          // anonymous: the page sends it to the login form
        }
      }
      try {
        chain.doFilter(request, response);
      } finally {
        if (token != null) {
          SecurityContextHolder.clearContext();
        }
      }
    }
  }

  /** The dashboard's token: from its cookie, never from a header or a parameter. */
  static String token(HttpServletRequest request) {
    String path = request.getRequestURI().substring(request.getContextPath().length());
    if (path.equals("/ui/login") || path.startsWith("/ui/static/")) {
      return null; // a stale cookie must not keep anyone from the login page
    }
    Cookie[] cookies = request.getCookies();
    if (cookies == null) {
      return null;
    }
    for (Cookie c : cookies) {
      if (TOKEN_COOKIE.equals(c.getName()) && !c.getValue().isEmpty()) {
        return c.getValue();
      }
    }
    return null;
  }
}
