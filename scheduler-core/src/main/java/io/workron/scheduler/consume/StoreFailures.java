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
    if (state == null) {
      // not a database error at all: a record this consumer's code cannot apply
      return !isDatabaseTrouble(e);
    }
    return state.startsWith("22") || state.startsWith("23") || state.startsWith("54");
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

  /** A database or transaction failure without a SQLSTATE: the connection, not the data. */
  private static boolean isDatabaseTrouble(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException
          || t instanceof org.springframework.dao.DataAccessException
          || t instanceof org.springframework.transaction.TransactionException
          || t instanceof org.jooq.exception.DataAccessException) {
        return true;
      }
    }
    return false;
  }
}
