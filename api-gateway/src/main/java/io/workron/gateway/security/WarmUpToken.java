package io.workron.gateway.security;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * A token made at start for the gateway's own warm-up read, valid in this process only and for
 * {@code jobs:read} only (as token {@code gateway-warm-up}): it never leaves the JVM, so it cannot
 * be stolen from a configuration, and the warm-up goes through the same checks as every client.
 */
public record WarmUpToken(String value) {

  static final String NAME = "gateway-warm-up";

  static WarmUpToken random() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return new WarmUpToken(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  @Override
  public String toString() {
    return "WarmUpToken[value=...]";
  }
}
