package io.workron.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.cli.StubGateway.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The built {@code bin/workron} as a person runs it: on a terminal (a pseudo-terminal from
 * util-linux's {@code script}) {@code submit --wait} shows a progress bar while the job waits and
 * runs; with stdout in a pipe it prints the job's output and nothing else.
 */
class CliTerminalIT {

  private static final Path LAUNCHER = Path.of("..", "bin", "workron").toAbsolutePath().normalize();
  private static final Path JAR = Path.of("target", "workron-cli.jar").toAbsolutePath();

  private StubGateway stub;

  @BeforeEach
  void start() throws Exception {
    assertThat(JAR).as("the packaged CLI").exists();
    stub = new StubGateway();
    String running =
        "{\"id\":\"tty-1\",\"status\":\"running\",\"command\":\"train\",\"queue_name\":\"default\","
            + "\"attempts\":1,\"max_retries\":3,\"worker_id\":\"w-7\"}";
    stub.on(
        "POST /jobs",
        Reply.json(
            201,
            "{\"id\":\"tty-1\",\"status\":\"pending\",\"command\":\"train\",\"queue_name\":\"default\",\"attempts\":0,\"max_retries\":3}"));
    // running for six polls (about 1.5 s of the CLI's back-off), then done
    Reply[] replies = new Reply[7];
    for (int i = 0; i < 6; i++) {
      replies[i] = Reply.json(200, running);
    }
    replies[6] =
        Reply.json(
            200,
            "{\"id\":\"tty-1\",\"status\":\"done\",\"command\":\"train\",\"queue_name\":\"default\","
                + "\"attempts\":1,\"max_retries\":3,\"exit_code\":0,\"output\":\"epoch 1 loss 0.5\\n\"}");
    stub.on("GET /jobs/tty-1", replies);
  }

  @AfterEach
  void stop() {
    stub.close();
  }

  private Process launch(List<String> command, Path out, Path err) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().put("WORKRON_URL", stub.url());
    builder.environment().put("WORKRON_CLI_JAR", JAR.toString());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().put("TERM", "xterm");
    builder.environment().put("COLUMNS", "100");
    return builder.start();
  }

  @Test
  void onATerminalTheWaitShowsAProgressBar() throws Exception {
    Path out = Files.createTempFile("tty", ".out");
    Path err = Files.createTempFile("tty", ".err");
    List<String> command =
        new ArrayList<>(List.of("script", "--quiet", "--return", "--flush", "--command"));
    command.add(LAUNCHER + " submit --wait train");
    command.add("/dev/null");
    Process p = launch(command, out, err);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String screen = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(screen + Files.readString(err)).isZero();
    assertThat(screen)
        .as("what the terminal showed")
        .contains("tty-1")
        .contains("running on w-7")
        .contains("epoch 1 loss 0.5");
  }

  @Test
  void inAPipeThereIsNoBarOnlyTheOutput() throws Exception {
    Path out = Files.createTempFile("pipe", ".out");
    Path err = Files.createTempFile("pipe", ".err");
    Process p = launch(List.of(LAUNCHER.toString(), "submit", "--wait", "train"), out, err);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(Files.readString(out)).isEqualTo("epoch 1 loss 0.5\n");
    assertThat(Files.readString(err)).isEmpty();
  }
}
