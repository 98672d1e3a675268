package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;

/**
 * The Grafana dashboard ({@code ops/grafana/workron.json}) and the Prometheus alert rules ({@code
 * ops/prometheus/alerts.yml}) that ship with Workron: every query parses as PromQL (checked by the
 * pinned {@code promtool} that {@code scripts/test-tools.sh} installs), the rules' unit tests pass,
 * and every Workron series they name is one docs/metrics.md documents. {@code
 * EndToEndIT.everySeriesTheDashboardAndTheAlertsReadIsOnALiveScrape} checks them against running
 * services.
 */
class OpsConfigTest {

  private static final Pattern SERIES = Pattern.compile("\\b(workron_[a-z0-9_]+)");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)");
  private static final Set<String> GRAFANA_BUILT_INS = Set.of("__rate_interval", "__interval");

  private static Path root;
  private static Path promtool;
  private static JsonNode dashboard;

  @BeforeAll
  static void load() throws Exception {
    root = ComposeFileTest.repositoryRoot();
    promtool =
        Path.of(System.getProperty("workron.tools.dir", root.resolve(".tools").toString()))
            .resolve("bin")
            .resolve("promtool");
    if (!Files.isExecutable(promtool)) {
      fail(
          "no promtool at %s: run scripts/test-tools.sh (./mvnw verify runs it before the tests)",
          promtool);
    }
    dashboard = new WireCodec().mapper().readTree(Files.readString(dashboardFile()));
  }

  static Path dashboardFile() {
    return ComposeFileTest.repositoryRoot().resolve("ops/grafana/workron.json");
  }

  static Path alertsFile() {
    return ComposeFileTest.repositoryRoot().resolve("ops/prometheus/alerts.yml");
  }

  @Test
  void theAlertRulesPassPromtoolsCheckAndTheirUnitTests() throws Exception {
    assertThat(promtool("check", "rules", alertsFile().toString())).contains("SUCCESS: 6 rules");
    assertThat(promtool("test", "rules", alertsFile().resolveSibling("alerts.test.yml").toString()))
        .contains("SUCCESS");
  }

  @Test
  void theAlertsCoverWhatAnOperatorMustBeWokenFor() throws Exception {
    Map<String, String> alerts = alerts();
    assertThat(alerts)
        .containsOnlyKeys(
            "WorkronNoLiveWorkers",
            "WorkronDeadLettersGrowing",
            "WorkronNoReaperLeader",
            "WorkronConsumerLagHigh",
            "WorkronJobsUnschedulable",
            "WorkronOutboxBacklog");
    assertThat(alerts.get("WorkronNoLiveWorkers")).contains("workron_workers{status=\"active\"}");
    assertThat(alerts.get("WorkronOutboxBacklog")).contains("workron_outbox_oldest_age_seconds");
  }

  @Test
  void everyDashboardQueryIsPromqlThatPromtoolAccepts() throws Exception {
    List<String> exprs = new ArrayList<>(dashboardQueries().values());
    assertThat(exprs).hasSizeGreaterThan(20);
    // as recording rules, with Grafana's variables replaced as Grafana would
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    for (int i = 0; i < exprs.size(); i++) {
      String expr = exprs.get(i).replace("$__rate_interval", "5m").replace("$queue", ".*");
      assertThat(expr)
          .as("a variable the dashboard does not define in %s", expr)
          .doesNotContain("$");
      rules.append("      - record: dashboard:query_").append(i).append('\n');
      rules.append("        expr: '").append(expr.replace("'", "''")).append("'\n");
    }
    Path file = Files.createTempFile("workron-dashboard-", ".rules.yml");
    try {
      Files.writeString(file, rules);
      assertThat(promtool("check", "rules", file.toString()))
          .contains("SUCCESS: " + exprs.size() + " rules");
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void theDashboardIsImportableAndItsPanelsDoNotOverlap() {
    assertThat(dashboard.get("uid").asString()).isEqualTo("workron");
    Set<String> variables = new HashSet<>(GRAFANA_BUILT_INS);
    dashboard.get("templating").get("list").forEach(v -> variables.add(v.get("name").asString()));
    assertThat(variables).contains("datasource", "queue");
    Set<Integer> ids = new HashSet<>();
    List<int[]> cells = new ArrayList<>();
    for (JsonNode panel : dashboard.get("panels")) {
      String title = panel.get("title").asString();
      assertThat(ids.add(panel.get("id").asInt())).as("panel id of %s is unique", title).isTrue();
      JsonNode pos = panel.get("gridPos");
      int x = pos.get("x").asInt();
      int y = pos.get("y").asInt();
      int w = pos.get("w").asInt();
      int h = pos.get("h").asInt();
      assertThat(x + w).as("%s fits the 24 columns", title).isLessThanOrEqualTo(24);
      for (int[] other : cells) {
        boolean overlaps =
            x < other[0] + other[2]
                && other[0] < x + w
                && y < other[1] + other[3]
                && other[1] < y + h;
        assertThat(overlaps).as("%s overlaps another panel", title).isFalse();
      }
      cells.add(new int[] {x, y, w, h});
      if ("row".equals(panel.get("type").asString())) {
        continue;
      }
      assertThat(panel.get("datasource").get("uid").asString())
          .as("%s reads the dashboard's Prometheus", title)
          .isEqualTo("${datasource}");
      Set<String> refs = new HashSet<>();
      assertThat(panel.get("targets")).as("%s has queries", title).isNotEmpty();
      for (JsonNode target : panel.get("targets")) {
        assertThat(refs.add(target.get("refId").asString())).isTrue();
        Matcher m = VARIABLE.matcher(target.get("expr").asString());
        while (m.find()) {
          assertThat(variables).as("variable in %s", title).contains(m.group(1));
        }
      }
    }
  }

  @Test
  void theDashboardShowsWhatTheIssueAsksForAndEverySeriesIsDocumented() throws Exception {
    Set<String> used = seriesIn(String.join("\n", dashboardQueries().values()));
    assertThat(used)
        .contains(
            "workron_jobs_completed_total", // throughput
            "workron_queue_jobs", // depth per queue
            "workron_job_queue_wait_seconds_bucket", // submit→start
            "workron_jobs_failed_total",
            "workron_jobs_retried_total",
            "workron_dlq_records",
            "workron_dead_letters_total",
            "workron_workers",
            "workron_worker_slots_busy",
            "workron_kafka_consumer_lag",
            "workron_gang_preemption_drain_seconds_count");
    used.addAll(seriesIn(String.join("\n", alerts().values())));
    String documented = Files.readString(root.resolve("docs/metrics.md"));
    for (String series : used) {
      assertThat(documented).as("docs/metrics.md names %s", series).contains(family(series));
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Every query of the dashboard, by panel title and refId. */
  static Map<String, String> dashboardQueries() throws Exception {
    JsonNode d = new WireCodec().mapper().readTree(Files.readString(dashboardFile()));
    Map<String, String> queries = new LinkedHashMap<>();
    for (JsonNode panel : d.get("panels")) {
      if (panel.has("targets")) {
        for (JsonNode target : panel.get("targets")) {
          String expr = target.get("expr").asString();
          assertThat(expr).as(panel.get("title").asString()).isNotBlank();
          queries.put(panel.get("title").asString() + "/" + target.get("refId").asString(), expr);
        }
      }
    }
    return queries;
  }

  /** Every alert rule's expression, by alert name. */
  @SuppressWarnings("unchecked")
  static Map<String, String> alerts() throws Exception {
    Map<String, Object> doc =
        new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(alertsFile()));
    Map<String, String> alerts = new LinkedHashMap<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        alerts.put((String) rule.get("alert"), (String) rule.get("expr"));
      }
    }
    return alerts;
  }

  /** The Workron series named in {@code promql}. */
  static Set<String> seriesIn(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = SERIES.matcher(promql);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** The metric family a series belongs to: a histogram's {@code _bucket} is its family's. */
  static String family(String series) {
    return series.replaceFirst("_(bucket|sum|count)$", "");
  }

  private static String promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(promtool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as("promtool %s:\n%s", String.join(" ", args), out).isZero();
    return out;
  }
}
