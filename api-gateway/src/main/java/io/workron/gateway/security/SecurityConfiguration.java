package io.workron.gateway.security;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.DispatcherType;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Bearer tokens on every call but the open ones ({@link AccessRules}), by Spring Security's
 * resource-server support with a local token lookup ({@link HashedTokens}). Stateless: no session,
 * no cookie, so no CSRF to defend against here. With {@code workron.auth.enabled=false}
 * (standalone, bound to 127.0.0.1) every call is allowed.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(AuthProperties.class)
class SecurityConfiguration {

  private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

  @Bean
  WarmUpToken warmUpToken() {
    return WarmUpToken.random();
  }

  @Bean
  OpaqueTokenIntrospector hashedTokens(AuthProperties auth, WarmUpToken warmUp) {
    List<AuthProperties.Token> tokens = new ArrayList<>(auth.tokens());
    tokens.add(
        new AuthProperties.Token(
            WarmUpToken.NAME, HashedTokens.sha256(warmUp.value()), List.of(Scopes.READ)));
    return new HashedTokens(tokens);
  }

  @Bean
  AuthFailures authFailures(JsonMapper mapper, MeterRegistry meters) {
    return new AuthFailures(mapper, meters);
  }

  @Bean
  @org.springframework.core.annotation.Order(2)
  SecurityFilterChain api(
      HttpSecurity http, AuthProperties auth, OpaqueTokenIntrospector tokens, AuthFailures failures)
      throws Exception {
    http.csrf(AbstractHttpConfigurer::disable)
        .httpBasic(AbstractHttpConfigurer::disable)
        .formLogin(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .requestCache(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS));
    if (!auth.enabled()) {
      log.warn(
          "authentication is off (workron.auth.enabled=false): anyone who reaches this port may"
              + " submit and cancel work");
      http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
      return http.build();
    }
    log.info(
        "authentication is on: {} token(s) configured ({})",
        auth.tokens().size(),
        auth.tokens().stream().map(AuthProperties.Token::name).toList());
    http.authorizeHttpRequests(
            a ->
                a
                    // the request was authorized when it came in; its asynchronous completion and
                    // error rendering are the same request
                    .dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR)
                    .permitAll()
                    .anyRequest()
                    .access(new AccessRules()))
        .oauth2ResourceServer(
            o -> o.opaqueToken(t -> t.introspector(tokens)).authenticationEntryPoint(failures))
        .exceptionHandling(e -> e.authenticationEntryPoint(failures).accessDeniedHandler(failures))
        .addFilterAfter(new CallerLogField(), AuthorizationFilter.class);
    return http.build();
  }
}
