package io.workron.gateway.ui;

import io.workron.gateway.security.AuthProperties;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

/** What every dashboard page shows around its content: whether there is a login to leave. */
@ControllerAdvice(basePackageClasses = DashboardModel.class)
class DashboardModel {

  private final AuthProperties auth;

  DashboardModel(AuthProperties auth) {
    this.auth = auth;
  }

  @ModelAttribute("authOn")
  boolean authOn() {
    return auth.enabled();
  }
}
