package io.workron.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.cli.StubGateway.Reply;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the CLI prints and exits with when things go wrong, against a stub gateway: one line on
 * stderr naming the problem, never a stack trace, and the documented exit code.
 */
class CliErrorsTest {

  private StubGateway stub;
  private Map<String, String> env;

  @BeforeEach
  void start() throws Exception {
    stub = new StubGateway();
    env = Map.of("WORKRON_URL", stub.url(), "WORKRON_TOKEN", "wrk_from_env");
  }

  @AfterEach
  void stop() {
    stub.close();
  }

  private static void oneLine(Run run) {
    assertThat(run.err().strip().lines()).as(run.toString()).hasSize(1);
    assertThat(run.err()).as(run.toString()).doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void aServerErrorIsOneLineWithTheProblemsTitleAndDetail() {
    stub.on(
        "GET /jobs/j1",
        Reply.problem(
            500,
            "{\"title\":\"Internal Server Error\",\"status\":500,\"detail\":\"see the log under request_id r-1\",\"request_id\":\"r-1\"}"));
    Run run = Run.of(env, "get", "j1");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.FAILED);
    oneLine(run);
    assertThat(run.err())
        .startsWith(
            "workron: GET /jobs/j1: 500 Internal Server Error: see the log under request_id r-1");
    assertThat(stub.seen.get(0).authorization())
        .as("the token from WORKRON_TOKEN")
        .isEqualTo("Bearer wrk_from_env");
  }

  @Test
  void aRefusedSubmissionNamesTheFieldAndAFilesFieldsAreSentWithTheOptionsOnTop(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    stub.on(
        "POST /jobs",
        Reply.problem(
            400,
            "{\"title\":\"Bad Request\",\"status\":400,\"detail\":\"priority must be an integer\",\"field\":\"priority\",\"request_id\":\"r\"}"));
    java.nio.file.Path job = dir.resolve("job.json");
    java.nio.file.Files.writeString(
        job, "{\"command\":\"make test\",\"priority\":\"high\",\"queue_name\":\"ci\"}");
    Run run =
        Run.of(env, "submit", "-f", job.toString(), "--queue", "batch", "--depends-on", "a,b");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.FAILED);
    oneLine(run);
    assertThat(run.err())
        .isEqualTo(
            "workron: POST /jobs: 400 Bad Request: priority must be an integer (field priority)\n");
    assertThat(Gateway.JSON.readTree(stub.seen.get(0).body()))
        .isEqualTo(
            Gateway.JSON.readTree(
                "{\"command\":\"make test\",\"priority\":\"high\",\"queue_name\":\"batch\",\"depends_on\":[\"a\",\"b\"]}"));

    java.nio.file.Files.writeString(job, "[1, 2]");
    Run notAJob = Run.of(env, "submit", "-f", job.toString());
    assertThat(notAJob.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(notAJob.err()).contains("must hold one JSON object");
  }

  @Test
  void noTokenOrTheWrongScopeExitsFourAndSaysWhatIsMissing() {
    stub.on(
        "GET /workers",
        Reply.problem(
            401,
            "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"a bearer token is required\",\"request_id\":\"r\"}"));
    stub.on(
        "POST /queues/default/pause",
        Reply.problem(
            403,
            "{\"title\":\"Forbidden\",\"status\":403,\"detail\":\"token ci lacks the scope admin\",\"required_scope\":\"admin\",\"request_id\":\"r\"}"));
    Run unauthorized = Run.of(Map.of("WORKRON_URL", stub.url()), "workers");
    assertThat(unauthorized.code()).as(unauthorized.toString()).isEqualTo(ExitCodes.DENIED);
    oneLine(unauthorized);
    assertThat(unauthorized.err())
        .contains("401 Unauthorized")
        .contains("set WORKRON_TOKEN or --token");
    assertThat(stub.seen.get(0).authorization()).isNull();

    Run forbidden = Run.of(env, "queues", "pause", "default");
    assertThat(forbidden.code()).as(forbidden.toString()).isEqualTo(ExitCodes.DENIED);
    oneLine(forbidden);
    assertThat(forbidden.err()).contains("403 Forbidden").contains("(needs scope admin)");
  }

  @Test
  void anUnknownJobExitsFive() {
    stub.on(
        "GET /jobs/nope",
        Reply.problem(
            404,
            "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no job nope\",\"request_id\":\"r\"}"));
    Run run = Run.of(env, "get", "nope");
    assertThat(run.code()).isEqualTo(ExitCodes.NOT_FOUND);
    oneLine(run);
    assertThat(run.err()).contains("no job nope");
  }

  @Test
  void aGatewayThatIsNotThereExitsThreeWithOneLine() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    Run run = Run.of(Map.of("WORKRON_URL", "http://127.0.0.1:" + closed), "list");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.UNREACHABLE);
    oneLine(run);
    assertThat(run.err())
        .startsWith("workron: cannot reach the gateway at http://127.0.0.1:" + closed);
  }

  @Test
  void somethingThatIsNotTheGatewayIsSaidSo() {
    stub.on("GET /workers", new Reply(200, "text/html", "<html>a proxy's login page</html>"));
    Run run = Run.of(env, "workers");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.FAILED);
    oneLine(run);
    assertThat(run.err()).contains("not JSON");
  }

  @Test
  void theCommandsOwnWordsAreNeverTakenForOptions() {
    stub.on("POST /jobs", Reply.json(202, "{\"id\":\"j-ls\",\"status\":\"pending\"}"));
    Run run = Run.of(env, "submit", "--queue", "ops", "ls", "-la", "--wait");
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out()).isEqualTo("j-ls\n");
    assertThat(Gateway.JSON.readTree(stub.seen.get(0).body()))
        .isEqualTo(Gateway.JSON.readTree("{\"command\":\"ls -la --wait\",\"queue_name\":\"ops\"}"));
  }

  @Test
  void usageErrorsExitTwo() {
    assertThat(Run.of(env, "frobnicate").code()).isEqualTo(ExitCodes.USAGE);
    assertThat(Run.of(env, "submit", "--no-such-option", "true").code()).isEqualTo(ExitCodes.USAGE);
    Run noCommand = Run.of(env, "submit");
    assertThat(noCommand.code()).as(noCommand.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(noCommand.err()).contains("name the COMMAND to run");
    oneLine(noCommand);
    assertThat(noCommand.err()).endsWith("(see: workron submit --help)\n");
    Run badTimeout = Run.of(env, "submit", "--timeout", "soon", "true");
    assertThat(badTimeout.code()).as(badTimeout.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(badTimeout.err()).contains("--timeout must be seconds or e.g. 90s");
    Run badUrl = Run.of(env, "--url", "ftp://example.com", "list");
    assertThat(badUrl.code()).as(badUrl.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(badUrl.err()).contains("--url must be an http:// or https:// URL");
    Run badLimit = Run.of(env, "list", "--limit", "5000");
    assertThat(badLimit.code()).isEqualTo(ExitCodes.USAGE);
    oneLine(badLimit);
    Run unknown = Run.of(env, "get", "--frobnicate", "x");
    oneLine(unknown);
    assertThat(unknown.err()).contains("Unknown option: '--frobnicate'");
    Run help = Run.of(env, "submit", "--help");
    assertThat(help.code()).as(help.toString()).isZero();
    assertThat(help.out()).contains("Usage: workron submit").contains("--idempotency-key");
    assertThat(Run.of(env, "token", "no spaces allowed").code()).isEqualTo(ExitCodes.USAGE);
    assertThat(Run.of(env, "token", "ci", "jobs:delete").err())
        .contains("unknown scope jobs:delete");
    assertThat(stub.seen).as("no usage error calls the gateway").isEmpty();
  }

  @Test
  void waitingForAJobNoWorkerCanHoldShowsWhyAndExitsUnschedulable() {
    stub.on("POST /jobs", Reply.json(202, "{\"id\":\"big\",\"status\":\"pending\"}"));
    stub.on(
        "GET /jobs/big",
        Reply.problem(
            404,
            "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no job big\",\"request_id\":\"r\"}"),
        Reply.json(
            200,
            "{\"id\":\"big\",\"status\":\"pending\",\"command\":\"train\",\"queue_name\":\"default\",\"attempts\":0,\"max_retries\":3,"
                + "\"wait_reason\":\"needs vram_mb 90000; the most any worker offers is 24000\"}"),
        Reply.json(
            200,
            "{\"id\":\"big\",\"status\":\"failed\",\"command\":\"train\",\"queue_name\":\"default\",\"attempts\":0,\"max_retries\":3,"
                + "\"failure_reason\":\"needs vram_mb 90000; the most any worker offers is 24000\"}"));
    Run run = Run.of(env, "submit", "--wait", "--vram-mb", "90000", "train");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.UNSCHEDULABLE);
    assertThat(run.err()).contains("job big failed: needs vram_mb 90000");
    assertThat(stub.seen.get(0).body())
        .contains("\"command\":\"train\"")
        .contains("\"resources\":{\"vram_mb\":90000}");
  }

  @Test
  void aWaitRidesOutAGatewayThatIsAwayForAMoment() {
    stub.on(
        "POST /jobs",
        Reply.json(
            201,
            "{\"id\":\"w1\",\"status\":\"pending\",\"command\":\"x\",\"queue_name\":\"default\",\"attempts\":0,\"max_retries\":3}"));
    stub.on(
        "GET /jobs/w1",
        Reply.problem(
            503,
            "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"scheduler-core is not reachable\",\"request_id\":\"r\"}"),
        Reply.problem(
            503,
            "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"scheduler-core is not reachable\",\"request_id\":\"r\"}"),
        Reply.json(
            200,
            "{\"id\":\"w1\",\"status\":\"done\",\"command\":\"x\",\"queue_name\":\"default\",\"attempts\":1,\"max_retries\":3,\"exit_code\":0,\"output\":\"fine\\n\"}"));
    Run run = Run.of(env, "submit", "--wait", "x");
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out()).isEqualTo("fine\n");
    assertThat(stub.seen.stream().filter(r -> r.path().equals("/jobs/w1"))).hasSize(3);
  }

  @Test
  void aTimedOutJobExits124AndAFailedOneItsOwnCode() {
    stub.on(
        "POST /jobs",
        Reply.json(
            201,
            "{\"id\":\"slow\",\"status\":\"pending\",\"command\":\"x\",\"queue_name\":\"default\",\"attempts\":0,\"max_retries\":1}"));
    stub.on(
        "GET /jobs/slow",
        Reply.json(
            200,
            "{\"id\":\"slow\",\"status\":\"failed\",\"command\":\"x\",\"queue_name\":\"default\",\"attempts\":1,\"max_retries\":1,"
                + "\"exit_code\":137,\"failure_reason\":\"timed out after 1 s\"}"));
    assertThat(Run.of(env, "submit", "--wait", "--timeout", "1s", "x").code())
        .isEqualTo(ExitCodes.TIMED_OUT);
    assertThat(stub.seen.get(0).body()).contains("\"timeout_seconds\":1");
  }
}
