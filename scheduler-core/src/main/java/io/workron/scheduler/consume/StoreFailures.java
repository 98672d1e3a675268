package io.workron.scheduler.consume;

import java.sql.SQLException;
import org.springframework.core.NestedExceptionUtils;

/**
 * Tells a failure caused by a record's data (retrying cannot help: set the record aside) from one
 * caused by the environment (retrying will, once the database or the deploy is fixed).
 *
 * <p>Only SQLSTATE classes 22 (data exception, e.g. a timestamp out of range), 23 (integrity
 * constraint violation) and 54 (program limit exceeded, e.g. an index row too large) are the data's
 * fault. Everything else is the environment: no SQLSTATE at all (connection refused, pool timeout),
 * 08 connection exception, 53 insufficient resources, 57 operator intervention, 40 serialization
 * failure or deadlock, and class 42 too, whose 42P01 undefined table, 42703 undefined column and
 * 42501 insufficient privilege mean a bad deploy or a missing grant, never a bad record.
 */
final class StoreFailures {

  private StoreFailures() {}

  /** True when the failure is the record's fault and retrying it cannot succeed. */
  static boolean isDataError(Throwable e) {
    String state = sqlState(e);
    if (state != null) {
      return state.startsWith("22") || state.startsWith("23") || state.startsWith("54");
    }
    // no SQLSTATE: a connection or transaction failure is the environment's; anything else (a
    // value the code cannot convert or apply) is the record's
    return !isEnvironment(e);
  }

  static String describe(Throwable e) {
    Throwable cause = NestedExceptionUtils.getMostSpecificCause(e);
    String state = sqlState(e);
    return (state == null ? "" : "SQLSTATE " + state + ": ") + cause.getMessage();
  }

  static String sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }

  /** A failure to reach or use the database, not caused by what was sent to it. */
  private static boolean isEnvironment(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException
          || t instanceof java.io.IOException
          || t instanceof org.springframework.transaction.TransactionException
          || t instanceof org.springframework.dao.TransientDataAccessException
          || t instanceof org.springframework.dao.DataAccessResourceFailureException
          || t instanceof org.springframework.dao.RecoverableDataAccessException) {
        return true;
      }
    }
    return false;
  }
}
