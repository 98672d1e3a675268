package io.workron.cli;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A new API token, made here as {@code scripts/new-token.sh NAME SCOPES} makes it: {@code wrk_} and
 * 32 random bytes in base64url, printed once with the SHA-256 the gateway is configured with.
 */
@Command(
    name = "token",
    description = {
      "Make a new API token and print it once, with its SHA-256 hash.",
      "Also prints the lines that configure the gateway with the hash (it keeps hashes only).",
      "Calls nothing: the same as scripts/new-token.sh NAME SCOPES."
    })
final class TokenCommand implements Callable<Integer> {

  private static final SecureRandom RANDOM = new SecureRandom();

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "NAME",
      description = "Who uses it (default: admin).")
  String name = "admin";

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "SCOPES",
      description =
          "A comma list of jobs:read, jobs:write, jobs:write:<queue>, admin (default: admin).")
  String scopes = "admin";

  @Override
  public Integer call() {
    CommandLine line = spec.commandLine();
    if (!name.matches("[A-Za-z0-9._@-]{1,64}")) {
      throw new CommandLine.ParameterException(
          line, "NAME must be 1 to 64 of [A-Za-z0-9._@-]: " + name);
    }
    if (scopes.isEmpty()
        || scopes.startsWith(",")
        || scopes.endsWith(",")
        || scopes.contains(",,")) {
      throw new CommandLine.ParameterException(
          line, "SCOPES is a comma list without empty entries: " + scopes);
    }
    for (String scope : scopes.split(",")) {
      boolean known =
          scope.equals("jobs:read")
              || scope.equals("jobs:write")
              || scope.equals("admin")
              || (scope.startsWith("jobs:write:")
                  && scope.length() > "jobs:write:".length()
                  && scope.length() <= "jobs:write:".length() + 128
                  && scope.chars().noneMatch(Character::isWhitespace));
      if (!known) {
        throw new CommandLine.ParameterException(
            line,
            "unknown scope " + scope + ": use jobs:read, jobs:write, jobs:write:<queue>, admin");
      }
    }
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String token = "wrk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    String hash = sha256(token);
    Workron.of(spec)
        .out()
        .print(
            String.join(
                "\n",
                "token:  " + token,
                "name:   " + name,
                "scopes: " + scopes,
                "sha256: " + hash,
                "",
                "This is the only time the token is shown; hand it to whoever uses it. Configure the gateway with",
                "its hash, as token number N (0, 1, ...: one number per token):",
                "",
                "  environment (docker compose, systemd, ...):",
                "    WORKRON_AUTH_TOKENS_N_NAME=" + name,
                "    WORKRON_AUTH_TOKENS_N_SHA256=" + hash,
                "    WORKRON_AUTH_TOKENS_N_SCOPES=" + scopes,
                "",
                "  Kubernetes: add to the api-gateway container's env (k8s/README.md, \"Tokens\")",
                "    - name: WORKRON_AUTH_TOKENS_N_NAME",
                "      value: \"" + name + "\"",
                "    - name: WORKRON_AUTH_TOKENS_N_SHA256",
                "      value: \"" + hash + "\"",
                "    - name: WORKRON_AUTH_TOKENS_N_SCOPES",
                "      value: \"" + scopes + "\"",
                ""));
    Workron.of(spec).out().flush();
    return ExitCodes.OK;
  }

  static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
