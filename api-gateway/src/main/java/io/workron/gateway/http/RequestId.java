package io.workron.gateway.http;

import jakarta.servlet.http.HttpServletRequest;
import java.util.regex.Pattern;

/**
 * The id that ties one REST request to its log lines and to the Kafka messages it produced. Unlike
 * the seed, which always generated its own, the gateway keeps a caller's {@code X-Request-ID} when
 * it is a plausible id, so a request can be followed across the caller's own logs too.
 */
public final class RequestId {

  public static final String HEADER = "X-Request-ID";

  /** MDC key: every log line written while serving the request carries it. */
  public static final String MDC_KEY = "request_id";

  static final String ATTRIBUTE = RequestId.class.getName();

  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private RequestId() {}

  /** The id of the request being served; set by the filter before any controller runs. */
  public static String of(HttpServletRequest request) {
    Object id = request.getAttribute(ATTRIBUTE);
    return id == null ? "" : id.toString();
  }

  static boolean isSane(String candidate) {
    return candidate != null && SANE.matcher(candidate).matches();
  }
}
