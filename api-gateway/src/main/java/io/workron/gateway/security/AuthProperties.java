package io.workron.gateway.security;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may call the gateway. With {@code enabled} (the default) every call but health, readiness,
 * the metrics scrape and the OpenAPI document needs {@code Authorization: Bearer <token>}, where
 * the token's SHA-256 is one of {@code tokens}. Only hashes are configured, so the configuration
 * (an environment, a Secret, a log of it) never holds a token that works.
 *
 * <p>Set as {@code workron.auth.tokens[0].name=ci}, {@code ...sha256=<64 hex>}, {@code
 * ...scopes=jobs:read,jobs:write}, or in the environment as {@code WORKRON_AUTH_TOKENS_0_NAME}, and
 * so on. {@code scripts/new-token.sh} prints a new token and these lines.
 *
 * @param enabled false only where nothing else can reach the gateway (standalone binds to 127.0.0.1
 *     and turns this off).
 * @param tokens the accepted tokens: a name (for logs and audit events; never the token), the hex
 *     SHA-256 of the token, and its scopes.
 */
@ConfigurationProperties("workron.auth")
public record AuthProperties(@DefaultValue("true") boolean enabled, List<Token> tokens) {

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");

  public AuthProperties {
    tokens = tokens == null ? List.of() : List.copyOf(tokens);
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> hashes = new HashSet<>();
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      String at = "workron.auth.tokens[" + i + "]";
      if (t.name() == null || !NAME.matcher(t.name()).matches()) {
        problems.add(at + ".name must be 1 to 64 of [A-Za-z0-9._@-]");
      } else if (!names.add(t.name())) {
        problems.add(at + ".name " + t.name() + " is used by another token");
      }
      String hash = t.sha256() == null ? "" : t.sha256().toLowerCase(Locale.ROOT);
      if (!SHA256.matcher(hash).matches()) {
        problems.add(
            at + ".sha256 must be the token's SHA-256 as 64 hex digits (scripts/new-token.sh)");
      } else if (!hashes.add(hash)) {
        problems.add(at + ".sha256 is the hash of another token too");
      }
      if (t.scopes().isEmpty()) {
        problems.add(at + ".scopes is empty; give at least one of " + Scopes.DESCRIPTION);
      }
      for (String scope : t.scopes()) {
        if (!Scopes.isKnown(scope)) {
          problems.add(at + ".scopes has " + scope + ", which is not one of " + Scopes.DESCRIPTION);
        }
      }
    }
    if (enabled && tokens.isEmpty()) {
      problems.add(
          "workron.auth.enabled is true but no token is configured, so nobody could call the"
              + " gateway: create one with scripts/new-token.sh and set"
              + " WORKRON_AUTH_TOKENS_0_NAME, _SHA256 and _SCOPES");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
  }

  /**
   * One accepted token.
   *
   * @param name shown in logs and audit events instead of the token
   * @param sha256 hex SHA-256 of the token's UTF-8 bytes
   * @param scopes {@code jobs:read}, {@code jobs:write}, {@code jobs:write:<queue>}, {@code admin}
   */
  public record Token(String name, String sha256, List<String> scopes) {
    public Token {
      scopes = scopes == null ? List.of() : scopes.stream().map(String::trim).toList();
    }
  }
}
