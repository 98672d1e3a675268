package io.workron.gateway.http;

import java.util.List;

/** The client sent something the gateway will not act on: 400 with the fields named. */
public final class InvalidRequestException extends RuntimeException {

  private final List<FieldProblem> problems;

  public InvalidRequestException(List<FieldProblem> problems) {
    super(problems.isEmpty() ? "invalid request" : problems.get(0).detail());
    this.problems = List.copyOf(problems);
  }

  public InvalidRequestException(String field, String detail) {
    this(List.of(new FieldProblem(field, detail)));
  }

  public List<FieldProblem> problems() {
    return problems;
  }
}
