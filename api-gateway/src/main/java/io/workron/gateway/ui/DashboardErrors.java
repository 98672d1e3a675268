package io.workron.gateway.ui;

import io.workron.gateway.http.UnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.servlet.ModelAndView;

/**
 * A dashboard page that cannot be served says so as a page, with the request id to look for in the
 * gateway's log, rather than as the API's problem JSON.
 */
@ControllerAdvice(assignableTypes = DashboardController.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class DashboardErrors {

  private static final Logger log = LoggerFactory.getLogger(DashboardErrors.class);

  @ExceptionHandler
  ModelAndView failed(Exception e, HttpServletRequest request) {
    Throwable cause =
        e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause()
            : e;
    boolean away = cause instanceof UnavailableException;
    if (!away) {
      log.error("could not render {}", request.getRequestURI(), cause);
    }
    ModelAndView view =
        new ModelAndView(
            "ui/failed", away ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.INTERNAL_SERVER_ERROR);
    view.addObject("nav", "jobs");
    view.addObject(
        "why",
        away
            ? "scheduler-core cannot answer right now; this page will work again once it can."
            : "the page could not be rendered.");
    view.addObject("requestId", io.workron.gateway.http.RequestId.of(request));
    return view;
  }
}
