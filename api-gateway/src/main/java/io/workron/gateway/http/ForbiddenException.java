package io.workron.gateway.http;

/**
 * The caller's token lacks a scope for this call (403), decided by a controller because it depends
 * on the job: a {@code jobs:write:<queue>} token submitting to or cancelling in another queue.
 */
public class ForbiddenException extends RuntimeException {

  private final String caller;
  private final String scope;

  public ForbiddenException(String caller, String scope, String what) {
    super("token " + caller + " lacks the scope " + scope + " that " + what + " needs");
    this.caller = caller;
    this.scope = scope;
  }

  public String caller() {
    return caller;
  }

  public String scope() {
    return scope;
  }
}
