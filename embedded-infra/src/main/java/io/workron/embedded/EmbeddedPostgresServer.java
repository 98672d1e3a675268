package io.workron.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real PostgreSQL 17 server from the zonky binaries, run as a child process. When the data
 * directory is kept, the database survives restarts.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts PostgreSQL on {@code dataDir}.
   *
   * @param port the port, or 0 for a free one
   * @param keepData whether an existing data directory is reused (standalone) or wiped (tests)
   */
  public static EmbeddedPostgresServer start(Path dataDir, int port, boolean keepData)
      throws IOException {
    Files.createDirectories(dataDir.getParent());
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(!keepData)
            .setPort(port == 0 ? EmbeddedKafka.freePort() : port)
            .setPGStartupWait(Duration.ofSeconds(60))
            // the owner stops it, after the services that use it
            .setRegisterShutdownHook(false)
            // reachable from this machine only (standalone runs without authentication)
            .setServerConfig("listen_addresses", "localhost")
            .setServerConfig("max_connections", "300")
            .setServerConfig("shared_buffers", "256MB")
            .setServerConfig("synchronous_commit", "on")
            // the hot tables' statistics follow a backlog within seconds, not a minute
            // (V16__hot_table_autovacuum.sql; docs/performance.md)
            .setServerConfig("autovacuum_naptime", "5s");
    // for profiling (docs/performance.md): -Dworkron.embedded.postgres.config=
    // shared_preload_libraries=pg_stat_statements;track_io_timing=on
    String extra = System.getProperty("workron.embedded.postgres.config", "");
    for (String setting : extra.split(";")) {
      int eq = setting.indexOf('=');
      if (eq > 0) {
        builder.setServerConfig(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
      }
    }
    return new EmbeddedPostgresServer(builder.start());
  }

  /** JDBC URL of the {@code postgres} database as user {@code postgres}. */
  public String jdbcUrl() {
    return postgres.getJdbcUrl("postgres", "postgres");
  }

  public int port() {
    return postgres.getPort();
  }

  public String username() {
    return "postgres";
  }

  public String password() {
    return "postgres";
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
