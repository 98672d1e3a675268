package io.workron.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.server.resource.introspection.BadOpaqueTokenException;

/** A token configuration that cannot work stops the gateway at start, saying what to fix. */
class AuthPropertiesTest {

  private static final String HASH = HashedTokens.sha256("wrk_a");

  private static AuthProperties.Token token(String name, String hash, String... scopes) {
    return new AuthProperties.Token(name, hash, List.of(scopes));
  }

  @Test
  void authOnWithoutATokenIsRefusedNamingTheScript() {
    assertThatThrownBy(() -> new AuthProperties(true, List.of()))
        .hasMessageContaining("no token is configured")
        .hasMessageContaining("scripts/new-token.sh");
    assertThat(new AuthProperties(false, null).tokens()).isEmpty();
  }

  @Test
  void badHashesNamesAndScopesAreNamedByTheirProperty() {
    assertThatThrownBy(
            () -> new AuthProperties(true, List.of(token("ci", "not-a-hash", "jobs:read"))))
        .hasMessageContaining("workron.auth.tokens[0].sha256");
    assertThatThrownBy(
            () ->
                new AuthProperties(
                    true, List.of(token("ci", HASH, "jobs:read"), token("ci", HASH, "jobs:write"))))
        .hasMessageContaining("workron.auth.tokens[1].name ci is used by another token")
        .hasMessageContaining("workron.auth.tokens[1].sha256 is the hash of another token");
    assertThatThrownBy(() -> new AuthProperties(true, List.of(token("ci", HASH, "jobs:delete"))))
        .hasMessageContaining("jobs:delete, which is not one of");
    assertThatThrownBy(() -> new AuthProperties(true, List.of(token("ci", HASH))))
        .hasMessageContaining("workron.auth.tokens[0].scopes is empty");
  }

  @Test
  void aTokenResolvesToItsNameAndScopesAndAdminHoldsTheNarrowerOnes() {
    HashedTokens tokens =
        new HashedTokens(
            List.of(
                token("team", HASH.toUpperCase(), "jobs:write:batch"),
                token("ops", HashedTokens.sha256("wrk_b"), "admin")));
    assertThat(tokens.introspect("wrk_a").getName()).isEqualTo("team");
    assertThat(
            tokens.introspect("wrk_a").getAuthorities().stream()
                .map(GrantedAuthority::getAuthority))
        .containsExactly("SCOPE_jobs:write:batch");
    assertThat(
            tokens.introspect("wrk_b").getAuthorities().stream()
                .map(GrantedAuthority::getAuthority))
        .containsExactlyInAnyOrder("SCOPE_admin", "SCOPE_jobs:read", "SCOPE_jobs:write");
    assertThatThrownBy(() -> tokens.introspect("wrk_c"))
        .isInstanceOf(BadOpaqueTokenException.class);
    // the hash of the hash is not the hash: a leaked configuration is not a token
    assertThatThrownBy(() -> tokens.introspect(HASH)).isInstanceOf(BadOpaqueTokenException.class);
  }

  @Test
  void eachCallNeedsTheScopeTheTableGives() {
    assertThat(AccessRules.requiredScope("GET", "/health")).isNull();
    assertThat(AccessRules.requiredScope("GET", "/actuator/health/readiness")).isNull();
    assertThat(AccessRules.requiredScope("GET", "/jobs/{id}/output")).isEqualTo("jobs:read");
    assertThat(AccessRules.requiredScope("POST", "/jobs")).isEqualTo("jobs:write");
    assertThat(AccessRules.requiredScope("POST", "/gangs/g-1/cancel")).isEqualTo("jobs:write");
    assertThat(AccessRules.requiredScope("POST", "/jobs/j-1/retry")).isEqualTo("admin");
    assertThat(AccessRules.requiredScope("POST", "/health")).isEqualTo("admin");
    assertThat(AccessRules.requiredScope("GET", "/actuator/env")).isEqualTo("admin");
    assertThat(AccessRules.requiredScope("DELETE", "/schedules/n")).isEqualTo("admin");
    // dead letters can hold the commands of every queue
    assertThat(AccessRules.requiredScope("GET", "/dead-letters")).isEqualTo("admin");
    assertThat(AccessRules.requiredScope("GET", "/dead-letters/{topic}/{partition}/{offset}"))
        .isEqualTo("admin");
    assertThat(AccessRules.requiredScope("GET", "/dead-lettersx")).isEqualTo("jobs:read");
  }
}
