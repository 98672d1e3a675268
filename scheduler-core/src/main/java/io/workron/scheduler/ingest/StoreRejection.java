package io.workron.scheduler.ingest;

import java.sql.SQLException;
import org.springframework.core.NestedExceptionUtils;

/**
 * Tells a database error caused by the data (retrying cannot help) from one caused by the
 * database's health (retrying will). Decided by SQLSTATE class: 22 data exception, 23 integrity
 * constraint violation and 42 syntax or access rule are the data's fault; anything else, or no
 * SQLSTATE at all (connection refused, timeouts), is treated as transient.
 */
final class StoreRejection {

  private StoreRejection() {}

  static boolean isPermanent(Throwable e) {
    String state = sqlState(e);
    return state != null
        && (state.startsWith("22") || state.startsWith("23") || state.startsWith("42"));
  }

  static String describe(Throwable e) {
    Throwable cause = NestedExceptionUtils.getMostSpecificCause(e);
    String state = sqlState(e);
    return (state == null ? "" : "SQLSTATE " + state + ": ") + cause.getMessage();
  }

  private static String sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }
}
