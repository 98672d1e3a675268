package io.workron.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.core.DefaultOAuth2AuthenticatedPrincipal;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;
import org.springframework.security.oauth2.server.resource.introspection.BadOpaqueTokenException;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;

/**
 * Resolves a bearer token locally: its SHA-256 is looked up among the configured hashes. This is
 * Spring Security's opaque-token introspection without a remote server, so the rest of the chain
 * (the 401 with {@code WWW-Authenticate}, scopes as {@code SCOPE_} authorities) is the standard
 * one, and a JWT decoder can take this bean's place by configuration.
 *
 * <p>Looking the hash up in a map leaks nothing useful through timing: an attacker learns, at best,
 * how a hash of their own guess compares with a stored hash, which says nothing about the token.
 */
public final class HashedTokens implements OpaqueTokenIntrospector {

  private final Map<String, OAuth2AuthenticatedPrincipal> byHash;

  HashedTokens(List<AuthProperties.Token> tokens) {
    this.byHash =
        tokens.stream()
            .collect(
                Collectors.toUnmodifiableMap(
                    t -> t.sha256().toLowerCase(Locale.ROOT), HashedTokens::principal));
  }

  private static OAuth2AuthenticatedPrincipal principal(AuthProperties.Token token) {
    List<GrantedAuthority> authorities = new ArrayList<>();
    for (String scope : token.scopes()) {
      authorities.add(new SimpleGrantedAuthority(Scopes.authority(scope)));
    }
    if (token.scopes().contains(Scopes.ADMIN)) {
      // admin may do everything the narrower scopes allow
      authorities.add(new SimpleGrantedAuthority(Scopes.authority(Scopes.READ)));
      authorities.add(new SimpleGrantedAuthority(Scopes.authority(Scopes.WRITE)));
    }
    return new DefaultOAuth2AuthenticatedPrincipal(
        token.name(), Map.of("sub", token.name(), "scope", token.scopes()), authorities);
  }

  @Override
  public OAuth2AuthenticatedPrincipal introspect(String token) {
    OAuth2AuthenticatedPrincipal principal = byHash.get(sha256(token));
    if (principal == null) {
      throw new BadOpaqueTokenException("the bearer token is not one of the configured tokens");
    }
    return principal;
  }

  /** Hex SHA-256 of the token's UTF-8 bytes, as {@code scripts/new-token.sh} prints it. */
  public static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
