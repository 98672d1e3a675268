package io.workron.gateway.security;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;

/**
 * The scopes a token may have, and what each allows:
 *
 * <ul>
 *   <li>{@code jobs:read}: every {@code GET} (jobs, output, checkpoints, gangs, workers, queues,
 *       schedules);
 *   <li>{@code jobs:write}: submit and cancel jobs and gangs in any queue;
 *   <li>{@code jobs:write:<queue>}: submit and cancel in that queue only. A {@code jobs:write}
 *       token runs any shell command on every worker, so a team's token can be held to its queues;
 *   <li>{@code admin}: everything, including retry, queue limits and pause, schedules, worker drain
 *       and dead letters.
 * </ul>
 */
public final class Scopes {

  public static final String READ = "jobs:read";
  public static final String WRITE = "jobs:write";
  public static final String ADMIN = "admin";

  /** Spring Security's authority for a scope, as its resource-server support names them. */
  static final String AUTHORITY_PREFIX = "SCOPE_";

  static final String DESCRIPTION = "jobs:read, jobs:write, jobs:write:<queue>, admin";

  /** A queue name as the gateway accepts it (SubmissionRules), without commas or spaces. */
  private static final Pattern QUEUE = Pattern.compile("[^,\\s]{1,128}");

  private Scopes() {}

  static boolean isKnown(String scope) {
    if (scope.equals(READ) || scope.equals(WRITE) || scope.equals(ADMIN)) {
      return true;
    }
    return scope.startsWith(WRITE + ":")
        && QUEUE.matcher(scope.substring(WRITE.length() + 1)).matches();
  }

  /** The authorities a token with {@code scope} holds; admin holds every other scope too. */
  static String authority(String scope) {
    return AUTHORITY_PREFIX + scope;
  }

  /**
   * What the caller of the current request may do, taken on the request's thread so that it can be
   * consulted later, in a continuation on another thread.
   */
  public static Grant current() {
    return of(SecurityContextHolder.getContext().getAuthentication());
  }

  /** What {@code caller} may do; {@link Grant#OPEN} when it holds no token (authentication off). */
  static Grant of(Authentication caller) {
    if (caller == null || !(caller.getPrincipal() instanceof OAuth2AuthenticatedPrincipal p)) {
      return Grant.OPEN; // no token was asked for: authentication is off
    }
    Set<String> held = new HashSet<>();
    for (GrantedAuthority a : caller.getAuthorities()) {
      held.add(a.getAuthority());
    }
    return new Grant(p.getName(), Set.copyOf(held), false);
  }

  /**
   * The scopes of one caller.
   *
   * @param name the token's name, for audit events and logs ({@code anonymous} when authentication
   *     is off)
   * @param authorities {@code SCOPE_...} authorities
   * @param open true when authentication is off, which allows everything
   */
  public record Grant(String name, Set<String> authorities, boolean open) {

    static final Grant OPEN = new Grant("anonymous", Set.of(), true);

    /** May submit to or cancel in every queue: {@code admin} or {@code jobs:write}. */
    public boolean mayWriteEveryQueue() {
      return open
          || authorities.contains(authority(ADMIN))
          || authorities.contains(authority(WRITE));
    }

    /** May submit to or cancel in {@code queue}: the above, or {@code jobs:write:<queue>}. */
    public boolean mayWrite(String queue) {
      return mayWriteEveryQueue() || authorities.contains(authority(WRITE + ":" + queue));
    }

    /**
     * Holds {@code scope} (or admin); for {@code jobs:write}, a write scope of one queue is enough
     * here, the controller holding it to that queue.
     */
    boolean holds(String scope) {
      return open
          || authorities.contains(authority(ADMIN))
          || authorities.contains(authority(scope))
          || (scope.equals(WRITE)
              && authorities.stream().anyMatch(a -> a.startsWith(authority(WRITE + ":"))));
    }
  }

  /** Whether a token with these authorities may read jobs ({@code jobs:read} or {@code admin}). */
  public static boolean mayRead(java.util.Collection<? extends GrantedAuthority> authorities) {
    return authorities.stream()
        .map(GrantedAuthority::getAuthority)
        .anyMatch(a -> a.equals(authority(READ)) || a.equals(authority(ADMIN)));
  }

  /** The name of the current request's token; {@code anonymous} when authentication is off. */
  public static String callerName() {
    return current().name();
  }
}
