package io.workron.gateway.http;

import io.workron.gateway.GatewayProperties;
import io.workron.gateway.security.AuthFailures;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Turns every error into an RFC 9457 problem ({@code application/problem+json}) that carries the
 * request id, so a client's bug report can be matched with the gateway's log lines.
 */
@RestControllerAdvice
class ProblemResponses extends ResponseEntityExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ProblemResponses.class);

  private final GatewayProperties properties;
  private final AuthFailures authFailures;

  ProblemResponses(GatewayProperties properties, AuthFailures authFailures) {
    this.properties = properties;
    this.authFailures = authFailures;
  }

  /** A {@code jobs:write:<queue>} token used on another queue's job. */
  @ExceptionHandler
  ResponseEntity<ProblemDetail> forbidden(ForbiddenException e, HttpServletRequest request) {
    authFailures.forbidden(
        e.caller(), e.scope(), request.getMethod() + " " + request.getRequestURI());
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.FORBIDDEN, e.getMessage());
    problem.setProperty("required_scope", e.scope());
    return respond(problem, request, new HttpHeaders());
  }

  @ExceptionHandler
  ResponseEntity<ProblemDetail> invalidRequest(
      InvalidRequestException e, HttpServletRequest request) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
    if (!e.problems().isEmpty() && e.problems().get(0).field() != null) {
      problem.setProperty("field", e.problems().get(0).field());
    }
    if (e.problems().size() > 1) {
      problem.setProperty("errors", e.problems());
    }
    return respond(problem, request, new HttpHeaders());
  }

  @ExceptionHandler
  ResponseEntity<ProblemDetail> notFound(NotFoundException e, HttpServletRequest request) {
    return respond(
        ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, e.getMessage()),
        request,
        new HttpHeaders());
  }

  @ExceptionHandler
  ResponseEntity<ProblemDetail> conflict(ConflictException e, HttpServletRequest request) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, e.getMessage());
    e.properties().forEach(problem::setProperty);
    return respond(problem, request, new HttpHeaders());
  }

  @ExceptionHandler
  ResponseEntity<ProblemDetail> unavailable(UnavailableException e, HttpServletRequest request) {
    log.atDebug()
        .setMessage("answering 503: {}")
        .addArgument(e::getMessage)
        .setCause(e.getCause())
        .log();
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
    problem.setProperty("dependency", e.dependency());
    HttpHeaders headers = new HttpHeaders();
    headers.set(HttpHeaders.RETRY_AFTER, Long.toString(properties.retryAfterSeconds()));
    return respond(problem, request, headers);
  }

  /** Too many submissions in progress: try again in a second, nothing was done. */
  @ExceptionHandler
  ResponseEntity<ProblemDetail> overloaded(OverloadedException e, HttpServletRequest request) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
    HttpHeaders headers = new HttpHeaders();
    headers.set(HttpHeaders.RETRY_AFTER, "1");
    return respond(problem, request, headers);
  }

  /** A query string the servlet container cannot decode (for example {@code cursor=%%%}). */
  @ExceptionHandler(org.apache.tomcat.util.http.InvalidParameterException.class)
  ResponseEntity<ProblemDetail> undecodableQuery(Exception e, HttpServletRequest request) {
    return respond(
        ProblemDetail.forStatusAndDetail(
            HttpStatus.BAD_REQUEST,
            "the query string is not valid URL encoding; percent-encode its values"),
        request,
        new HttpHeaders());
  }

  /** The unexpected: logged once with its stack trace; the client learns only the request id. */
  @ExceptionHandler
  ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request) {
    log.error("unexpected error serving {} {}", request.getMethod(), request.getRequestURI(), e);
    return respond(
        ProblemDetail.forStatusAndDetail(
            HttpStatus.INTERNAL_SERVER_ERROR,
            "internal error; the gateway's log has the details under this request_id"),
        request,
        new HttpHeaders());
  }

  /** Spring MVC's own errors (unknown path, wrong method, …) get the request id too. */
  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception ex,
      Object body,
      HttpHeaders headers,
      HttpStatusCode statusCode,
      WebRequest request) {
    ResponseEntity<Object> response =
        super.handleExceptionInternal(ex, body, headers, statusCode, request);
    if (response != null
        && response.getBody() instanceof ProblemDetail problem
        && request instanceof ServletWebRequest servlet) {
      problem.setProperty("request_id", RequestId.of(servlet.getRequest()));
    }
    return response;
  }

  private static ResponseEntity<ProblemDetail> respond(
      ProblemDetail problem, HttpServletRequest request, HttpHeaders headers) {
    problem.setProperty("request_id", RequestId.of(request));
    return ResponseEntity.status(problem.getStatus())
        .headers(headers)
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }
}
