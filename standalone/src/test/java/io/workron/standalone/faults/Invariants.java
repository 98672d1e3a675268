package io.workron.standalone.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * What must hold after any failure, checked straight in PostgreSQL: every accepted job is there and
 * terminal (here: done), none completed twice, and its attempt counter agrees with its history.
 */
final class Invariants {

  private Invariants() {}

  static void check(String jdbcUrl, String user, String password, Collection<String> accepted)
      throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, user, password)) {
      Map<String, String> status = new HashMap<>();
      Map<String, Integer> attempt = new HashMap<>();
      try (PreparedStatement st =
          c.prepareStatement("select id, status, attempt from jobs where id = any(?)")) {
        st.setArray(1, c.createArrayOf("varchar", accepted.toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            status.put(rs.getString(1), rs.getString(2));
            attempt.put(rs.getString(1), rs.getInt(3));
          }
        }
      }
      assertThat(status.keySet())
          .as("no accepted job is lost")
          .containsExactlyInAnyOrderElementsOf(accepted);
      assertThat(status)
          .as("every job ends done")
          .allSatisfy((id, s) -> assertThat(s).as(id).isEqualTo("done"));

      try (PreparedStatement st =
          c.prepareStatement(
              "select job_id, count(*), max(attempt), "
                  + "count(*) filter (where outcome = 'succeeded'), "
                  + "count(*) filter (where finished_at is null), "
                  + "bool_and(outcome is not null) "
                  + "from job_attempts where job_id = any(?) group by job_id")) {
        st.setArray(1, c.createArrayOf("varchar", accepted.toArray()));
        int seen = 0;
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            seen++;
            String id = rs.getString(1);
            assertThat(rs.getInt(2))
                .as("%s: one history row per attempt", id)
                .isEqualTo(attempt.get(id));
            assertThat(rs.getInt(3))
                .as("%s: history ends at the current attempt", id)
                .isEqualTo(attempt.get(id));
            assertThat(rs.getInt(4)).as("%s: completed exactly once", id).isEqualTo(1);
            assertThat(rs.getInt(5)).as("%s: every attempt has ended", id).isZero();
            assertThat(rs.getBoolean(6)).as("%s: every attempt has an outcome", id).isTrue();
          }
        }
        assertThat(seen).as("every job has a history").isEqualTo(accepted.size());
      }
    }
  }
}
