package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.gateway.security.HashedTokens;
import io.workron.testsupport.TestInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard in a real browser (Debian's chromium, headless, through its chromedriver), against
 * the whole stack with authentication on, doing what a person does: log in with a token, watch a
 * job submitted over the API appear and finish, read its output, cancel a running job with the
 * button, retry a failed one. Each view is saved as a screenshot under {@code target/screenshots/}.
 */
class DashboardIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SHOTS = Path.of("target", "screenshots");

  private static StandaloneStack stack;
  private static GatewayCalls gateway;
  private static String operator;
  private static String reader;
  private static WebDriver browser;
  private static String base;
  private static String prefix;

  @BeforeAll
  static void start() throws Exception {
    assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
        .as(
            "the browser tests need %s and %s: run scripts/test-tools.sh chromium (./mvnw verify"
                + " runs it)",
            CHROMIUM, CHROMEDRIVER)
        .isTrue();
    operator = "wrk_" + UUID.randomUUID().toString().replace("-", "");
    reader = "wrk_" + UUID.randomUUID().toString().replace("-", "");
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("workron.auth.enabled", "true");
    properties.put("workron.auth.tokens[0].name", "operator");
    properties.put("workron.auth.tokens[0].sha256", HashedTokens.sha256(operator));
    properties.put("workron.auth.tokens[0].scopes", "jobs:read,jobs:write,admin");
    properties.put("workron.auth.tokens[1].name", "viewer");
    properties.put("workron.auth.tokens[1].sha256", HashedTokens.sha256(reader));
    properties.put("workron.auth.tokens[1].scopes", "jobs:read");
    properties.put("workron.worker.output-interval", "500ms");
    TestInfrastructure infra = TestInfrastructure.get();
    prefix = infra.newTopicPrefix();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                Files.createTempDirectory("workron-dashboard"),
                infra.kafkaBootstrapServers(),
                0,
                infra.newDatabase(),
                infra.username(),
                infra.password(),
                0,
                0,
                0,
                2,
                2,
                prefix,
                properties));
    gateway = new GatewayCalls(stack.gatewayPort());
    base = "http://127.0.0.1:" + stack.gatewayPort();
    Files.createDirectories(SHOTS);

    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1400,1000",
        "--user-data-dir=" + Files.createTempDirectory("workron-chromium"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (stack != null) {
      stack.close();
    }
  }

  @BeforeEach
  void loggedInAsTheOperator() {
    login(operator);
  }

  @Test
  void aPageAsksForATokenAndAWrongOneIsRefused() throws Exception {
    browser.manage().deleteAllCookies();
    browser.get(base + "/ui/jobs");
    waitFor().until(ExpectedConditions.urlContains("/ui/login"));
    browser.findElement(By.id("token")).sendKeys("wrk_not-a-token");
    browser.findElement(By.id("login")).click();
    assertThat(waitFor().until(d -> d.findElement(By.id("login-error"))).getText())
        .contains("not valid");
    shot("login");

    browser.findElement(By.id("token")).sendKeys(operator);
    browser.findElement(By.id("login")).click();
    waitFor().until(ExpectedConditions.urlContains("/ui/jobs"));
    Cookie kept = browser.manage().getCookieNamed("workron_token");
    assertThat(kept.isHttpOnly()).isTrue();
    assertThat(kept.getSameSite()).isEqualTo("Strict");
    assertThat(kept.getPath()).isEqualTo("/ui");
  }

  @Test
  void aJobSubmittedOverTheApiAppearsFinishesAndShowsItsOutput() throws Exception {
    browser.get(base + "/ui/jobs");
    String id =
        gateway.submit(
            "{\"command\":\"echo hello from the dashboard\"}", GatewayCalls.bearer(operator));
    // the page was open before the job existed: it refreshes itself
    By row = By.cssSelector("tr[data-job='" + id + "']");
    waitFor().until(ExpectedConditions.presenceOfElementLocated(row));
    waitFor()
        .until(
            d ->
                d.findElement(By.cssSelector("tr[data-job='" + id + "'] .status"))
                    .getText()
                    .equals("done"));
    shot("jobs");

    waitFor()
        .until(
            d -> {
              d.findElement(By.linkText(id)).click();
              return true;
            });
    waitFor().until(ExpectedConditions.textToBe(By.id("job-id"), id));
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("done");
    assertThat(browser.findElement(By.id("output")).getText())
        .isEqualTo("hello from the dashboard");
    assertThat(browser.findElement(By.id("attempts")).getText()).contains("succeeded");
    assertThat(browser.findElements(By.id("cancel"))).isEmpty();
    shot("job");

    // the list's filters are in its URL, so a filtered view can be shared
    browser.get(base + "/ui/jobs?status=done&id_prefix=" + id);
    assertThat(browser.findElements(By.cssSelector("tr[data-job]"))).hasSize(1);
    assertThat(browser.findElement(By.id("filter-status")).getDomProperty("value"))
        .isEqualTo("done");
  }

  @Test
  void aRunningJobIsCancelledWithTheButton() throws Exception {
    String id =
        gateway.submit("{\"command\":\"echo started; sleep 300\"}", GatewayCalls.bearer(operator));
    stored(id);
    browser.get(base + "/ui/jobs/" + id);
    // the page follows the job as it starts and its output arrives
    waitFor().until(ExpectedConditions.textToBe(By.id("output"), "started"));
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("running");
    shot("job-running");

    browser.findElement(By.id("cancel")).click();
    waitFor().until(ExpectedConditions.textToBe(By.id("status"), "cancelled"));
    // once it ended, the page shows the buttons of an ended job
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.id("retry")));
    assertThat(browser.findElements(By.id("cancel"))).isEmpty();
    // the button was the API's call: it is in the job's history, by the token's name
    JsonNode job = gateway.job(id, GatewayCalls.bearer(operator));
    assertThat(job.path("status").asString()).isEqualTo("cancelled");
    assertThat(job.path("audit").toString()).contains("job.cancel").contains("operator");
    shot("job-cancelled");
  }

  @Test
  void aFailedJobIsRetriedWithTheButton() throws Exception {
    String id =
        gateway.submit(
            "{\"command\":\"echo attempt; exit 3\",\"max_retries\":1}",
            GatewayCalls.bearer(operator));
    awaitStatus(id, "failed");
    browser.get(base + "/ui/jobs/" + id);
    assertThat(browser.findElement(By.id("failure")).getText()).isEqualTo("exit code 3");
    assertThat(browser.findElement(By.id("exit-code")).getText()).isEqualTo("3");
    shot("job-failed");

    browser.findElement(By.id("retry")).click();
    // the notice shows until the page reloads itself for the job's next status
    waitFor().until(ExpectedConditions.urlContains("notice=retried"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                gateway.job(id, GatewayCalls.bearer(operator)).path("attempt_history").size() == 2);
    waitFor().until(d -> d.findElements(By.cssSelector("#attempts tbody tr")).size() == 2);
  }

  @Test
  void aReaderSeesNoButtonsAndAFormPostedWithoutItsCsrfTokenIsRefused() throws Exception {
    String id = gateway.submit("{\"command\":\"sleep 300\"}", GatewayCalls.bearer(operator));
    stored(id);
    try {
      login(reader);
      browser.get(base + "/ui/jobs/" + id);
      waitFor().until(ExpectedConditions.textToBe(By.id("job-id"), id));
      assertThat(browser.findElements(By.id("cancel"))).isEmpty();
      assertThat(browser.findElements(By.id("retry"))).isEmpty();

      // the form posted all the same, with a good CSRF token (the logout form's): refused before
      // any controller runs, and the job goes on
      ((org.openqa.selenium.JavascriptExecutor) browser)
          .executeScript(
              "const f = document.createElement('form'); f.method = 'post';"
                  + " f.action = '/ui/jobs/' + arguments[0] + '/cancel';"
                  + " const t = document.querySelector('input[name=_csrf]').cloneNode();"
                  + " f.appendChild(t); document.body.appendChild(f); f.submit();",
              id);
      assertThat(waitFor().until(d -> d.findElement(By.id("denied"))).getText())
          .contains("jobs:write");
      browser.get(base + "/ui/dead-letters");
      assertThat(browser.findElement(By.id("denied")).getText()).contains("admin");

      // what another site's form would send: the cookie, but no CSRF token
      HttpResponse<String> forged =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/ui/jobs/" + id + "/cancel"))
                      .header("Cookie", "workron_token=" + operator)
                      .header("Content-Type", "application/x-www-form-urlencoded")
                      .POST(HttpRequest.BodyPublishers.ofString(""))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(forged.statusCode())
          .as("%s %s", forged.headers().map(), forged.body())
          .isEqualTo(403);
      assertThat(forged.body()).contains("without its CSRF token");
      assertThat(gateway.job(id, GatewayCalls.bearer(operator)).path("status").asString())
          .isNotEqualTo("cancelled");
    } finally {
      gateway.call("POST", "/jobs/" + id + "/cancel", null, GatewayCalls.bearer(operator));
    }
  }

  @Test
  void theWorkersPageShowsWhatEachRunsAndDrainsAWorkerWithTheButton() throws Exception {
    String id = gateway.submit("{\"command\":\"sleep 300\"}", GatewayCalls.bearer(operator));
    try {
      awaitStatus(id, "running");
      String worker = gateway.job(id, GatewayCalls.bearer(operator)).path("worker_id").asString();
      browser.get(base + "/ui/workers");
      By row = By.cssSelector("tr[data-worker='" + worker + "']");
      assertThat(browser.findElement(row).getText())
          .contains(id.substring(0, 20))
          .contains("active");
      shot("workers");

      browser.findElement(By.id("drain-" + worker)).click();
      assertThat(waitFor().until(d -> d.findElement(By.id("notice"))).getText())
          .isEqualTo("worker " + worker + ": drained");
      assertThat(browser.findElement(row).getText()).contains("drained");
      assertThat(workerDrained(worker)).isTrue();
      browser.findElement(By.id("resume-" + worker)).click();
      waitFor().until(d -> d.findElement(By.id("notice")).getText().endsWith("takes work again"));
      assertThat(workerDrained(worker)).isFalse();
    } finally {
      gateway.call("POST", "/jobs/" + id + "/cancel", null, GatewayCalls.bearer(operator));
      String worker = gateway.job(id, GatewayCalls.bearer(operator)).path("worker_id").asString("");
      if (!worker.isEmpty()) {
        gateway.call("POST", "/workers/" + worker + "/resume", null, GatewayCalls.bearer(operator));
      }
    }
  }

  @Test
  void aQueueIsPausedAndResumedWithTheButtons() throws Exception {
    String queue = "ui-" + UUID.randomUUID().toString().substring(0, 6);
    String id =
        gateway.submit(
            "{\"command\":\"true\",\"queue_name\":\"" + queue + "\"}",
            GatewayCalls.bearer(operator));
    await()
        .atMost(WAIT)
        .until(
            () ->
                gateway
                    .job(id, GatewayCalls.bearer(operator))
                    .path("status")
                    .asString("")
                    .equals("done"));
    browser.get(base + "/ui/queues");
    By row = By.cssSelector("tr[data-queue='" + queue + "']");
    assertThat(browser.findElement(row).getText()).contains("running");
    // its depth per status, each a link to those jobs
    WebElement done =
        browser.findElement(By.cssSelector("tr[data-queue='" + queue + "'] a[data-status='done']"));
    assertThat(done.getText()).isEqualTo("1");
    assertThat(done.getDomAttribute("href")).contains("queue=" + queue).contains("status=done");
    browser.findElement(By.id("pause-" + queue)).click();
    assertThat(waitFor().until(d -> d.findElement(By.id("notice"))).getText())
        .isEqualTo("queue " + queue + ": paused");
    assertThat(browser.findElement(row).getText()).contains("paused");
    assertThat(queuePaused(queue)).isTrue();
    shot("queues");
    browser.findElement(By.id("resume-" + queue)).click();
    waitFor().until(d -> d.findElement(By.id("notice")).getText().endsWith("resumed"));
    assertThat(queuePaused(queue)).isFalse();
  }

  @Test
  void aScheduleIsPausedWithTheButton() throws Exception {
    String name = "ui-" + UUID.randomUUID().toString().substring(0, 6);
    HttpResponse<String> made =
        gateway.call(
            "POST",
            "/schedules",
            "{\"name\":\"" + name + "\",\"cron\":\"0 3 * * *\",\"job\":{\"command\":\"date\"}}",
            GatewayCalls.bearer(operator));
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    try {
      browser.get(base + "/ui/schedules");
      By row = By.cssSelector("tr[data-schedule='" + name + "']");
      assertThat(browser.findElement(row).getText()).contains("0 3 * * *").contains("active");
      browser.findElement(By.id("pause-" + name)).click();
      assertThat(waitFor().until(d -> d.findElement(By.id("notice"))).getText())
          .isEqualTo("schedule " + name + ": paused");
      assertThat(browser.findElement(row).getText()).contains("paused");
      shot("schedules");
    } finally {
      gateway.call("DELETE", "/schedules/" + name, null, GatewayCalls.bearer(operator));
    }
  }

  @Test
  void aDeadLetterIsShownWithWhyAndReplayedWithTheButton() throws Exception {
    String key = "ui-dead-" + UUID.randomUUID();
    try (io.workron.testsupport.KafkaFixture kafka =
        new io.workron.testsupport.KafkaFixture(TestInfrastructure.get().kafkaBootstrapServers())) {
      kafka.send(
          prefix + ".submissions",
          key,
          "not a job".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    String page = base + "/ui/dead-letters?topic=" + prefix + ".submissions.dlq";
    By row = By.cssSelector("tr[data-key='" + key + "']");
    await()
        .atMost(WAIT)
        .until(
            () -> {
              browser.get(page);
              return !browser.findElements(row).isEmpty();
            });
    assertThat(browser.findElement(row).getText()).contains("MALFORMED_JSON").contains("not a job");
    shot("dead-letters");
    browser.findElement(row).findElement(By.cssSelector("button.replay")).click();
    assertThat(waitFor().until(d -> d.findElement(By.id("notice"))).getText())
        .endsWith(": replayed");
    browser.get(page);
    // the replayed record was refused again (nothing was fixed): the first shows its replay
    waitFor()
        .until(
            d ->
                d.findElements(By.cssSelector("tr[data-key='" + key + "'] .replayed")).stream()
                    .anyMatch(e -> e.getText().equals("replayed 1× by operator")));
  }

  @Test
  void aGangShowsItsTasksAcrossWorkersAndIsCancelledWithTheButton() throws Exception {
    HttpResponse<String> created =
        gateway.call(
            "POST",
            "/jobs",
            "{\"command\":\"echo rank $GANG_INDEX; sleep 300\",\"gang_size\":2}",
            GatewayCalls.bearer(operator));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String gang =
        tools.jackson.databind.json.JsonMapper.builder()
            .build()
            .readTree(created.body())
            .path("gang_id")
            .asString();
    browser.get(base + "/ui/jobs/" + gang + "-1");
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.id("gang-link"))).click();
    waitFor().until(ExpectedConditions.textToBe(By.id("gang-id"), gang));
    // the page follows the gang until both tasks run, each under its worker's column
    waitFor().until(ExpectedConditions.textToBe(By.id("gang-status"), "running"));
    waitFor()
        .until(
            d ->
                d.findElements(By.cssSelector("#tasks tbody tr")).size() == 2
                    && d.findElements(By.cssSelector("#tasks tbody .status.running")).size() == 2);
    // a gang's tasks run on distinct workers: one column each
    assertThat(browser.findElement(By.id("tasks")).getText())
        .contains("standalone-worker-1")
        .contains("standalone-worker-2");
    shot("gang");

    browser.findElement(By.id("cancel-gang")).click();
    waitFor().until(ExpectedConditions.textToBe(By.id("gang-status"), "cancelled"));
    waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("cancel-gang")));
    assertThat(gateway.job(gang + "-0", GatewayCalls.bearer(operator)).path("status").asString())
        .isEqualTo("cancelled");
  }

  @Test
  void aJobsDependencyGraphShowsUpstreamAndDownstreamColouredByStatus() throws Exception {
    Map<String, String> auth = GatewayCalls.bearer(operator);
    String first = gateway.submit("{\"command\":\"echo first\"}", auth);
    String middle =
        gateway.submit("{\"command\":\"echo middle\",\"depends_on\":[\"" + first + "\"]}", auth);
    String left =
        gateway.submit(
            "{\"command\":\"exit 4\",\"max_retries\":1,\"depends_on\":[\"" + middle + "\"]}", auth);
    String right =
        gateway.submit("{\"command\":\"echo right\",\"depends_on\":[\"" + middle + "\"]}", auth);
    // another dependent of the first job: not part of the middle job's graph
    String sibling =
        gateway.submit("{\"command\":\"echo other\",\"depends_on\":[\"" + first + "\"]}", auth);
    await()
        .atMost(WAIT)
        .until(
            () ->
                gateway.job(left, auth).path("status").asString("").equals("failed")
                    && gateway.job(right, auth).path("status").asString("").equals("done"));

    browser.get(base + "/ui/jobs/" + middle);
    browser.findElement(By.id("graph-link")).click();
    waitFor().until(ExpectedConditions.presenceOfElementLocated(By.id("graph")));
    assertThat(browser.findElements(By.cssSelector("#graph [data-node]"))).hasSize(4);
    assertThat(browser.findElements(By.cssSelector("#graph [data-node='" + sibling + "']")))
        .isEmpty();
    assertThat(browser.findElements(By.cssSelector("#graph path.edge"))).hasSize(3);
    assertThat(nodeStatus(first)).isEqualTo("done");
    assertThat(nodeStatus(left)).isEqualTo("failed");
    assertThat(
            browser
                .findElement(By.cssSelector("#graph [data-node='" + middle + "'] rect"))
                .getDomAttribute("class"))
        .contains("focus");
    // upstream on the left, downstream on the right
    assertThat(nodeX(first)).isLessThan(nodeX(middle));
    assertThat(nodeX(middle)).isLessThan(nodeX(left));
    assertThat(nodeX(left)).isEqualTo(nodeX(right));
    shot("graph");

    browser.findElement(By.cssSelector("#graph [data-node='" + left + "']")).click();
    waitFor().until(ExpectedConditions.textToBe(By.id("job-id"), left));
  }

  private static String nodeStatus(String id) {
    return browser
        .findElement(By.cssSelector("#graph [data-node='" + id + "']"))
        .getDomAttribute("data-status");
  }

  private static int nodeX(String id) {
    return Integer.parseInt(
        browser
            .findElement(By.cssSelector("#graph [data-node='" + id + "'] rect"))
            .getDomAttribute("x"));
  }

  @Test
  void theOverviewShowsWhatIsWaitingAndRunningNowAndTheLastHourPerMinute() throws Exception {
    String id = gateway.submit("{\"command\":\"sleep 300\"}", GatewayCalls.bearer(operator));
    try {
      awaitStatus(id, "running");
      browser.get(base + "/ui/overview");
      assertThat(Integer.parseInt(browser.findElement(By.id("now-running")).getText()))
          .isGreaterThanOrEqualTo(1);
      assertThat(browser.findElement(By.id("now-workers")).getText()).isEqualTo("2");
      // an hour of minutes on the x axis, a label every ten
      assertThat(browser.findElements(By.cssSelector("#throughput text.axis")).size())
          .isGreaterThanOrEqualTo(5 + 6);
      assertThat(browser.findElement(By.id("latency")).getText()).contains("0 ms");
      shot("overview");
    } finally {
      gateway.call("POST", "/jobs/" + id + "/cancel", null, GatewayCalls.bearer(operator));
    }
  }

  private static boolean workerDrained(String worker) throws Exception {
    HttpResponse<String> r = gateway.call("GET", "/workers", null, GatewayCalls.bearer(operator));
    for (JsonNode w : tools.jackson.databind.json.JsonMapper.builder().build().readTree(r.body())) {
      if (w.path("id").asString().equals(worker)) {
        return w.path("drained").asBoolean(false);
      }
    }
    throw new AssertionError("no worker " + worker);
  }

  private static boolean queuePaused(String queue) throws Exception {
    HttpResponse<String> r = gateway.call("GET", "/queues", null, GatewayCalls.bearer(operator));
    for (JsonNode q : tools.jackson.databind.json.JsonMapper.builder().build().readTree(r.body())) {
      if (q.path("name").asString().equals(queue)) {
        return q.path("paused").asBoolean();
      }
    }
    throw new AssertionError("no queue " + queue);
  }

  /** Waits until the API shows the job in {@code status}. */
  private static void awaitStatus(String id, String status) {
    await()
        .atMost(WAIT)
        .until(
            () ->
                gateway
                    .job(id, GatewayCalls.bearer(operator))
                    .path("status")
                    .asString("")
                    .equals(status));
  }

  /** Waits until the job is stored: a submission answered 202 is in Kafka, not yet in a page. */
  private static void stored(String id) {
    await()
        .atMost(WAIT)
        .until(
            () -> !gateway.job(id, GatewayCalls.bearer(operator)).path("status").isMissingNode());
  }

  /** Logs in through the login page, as a person does. */
  private static void login(String token) {
    browser.manage().deleteAllCookies();
    browser.get(base + "/ui/login");
    WebElement field = waitFor().until(d -> d.findElement(By.id("token")));
    field.sendKeys(token);
    browser.findElement(By.id("login")).click();
    waitFor().until(ExpectedConditions.urlContains("/ui/jobs"));
  }

  /** A wait that looks again when the element it held was swapped by the page's live refresh. */
  private static org.openqa.selenium.support.ui.FluentWait<WebDriver> waitFor() {
    return new WebDriverWait(browser, WAIT)
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class);
  }

  private static void shot(String name) throws Exception {
    byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }
}
