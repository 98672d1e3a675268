package io.workron.gateway.ui;

import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.gateway.security.AccessRules;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard's pages ({@code /ui}), rendered on the server from the same scheduler-core reads
 * the REST API makes. Every view is a URL: its filters and its page are in the query. A page that
 * shows something still moving asks for a fragment of itself every two seconds ({@code
 * fragment=...}) and swaps it in.
 */
@Controller
@RequestMapping("/ui")
class DashboardController {

  static final int PAGE = 50;

  static final List<String> STATUSES = io.workron.gateway.query.JobStatuses.ALL;

  private final SchedulerCoreClient schedulerCore;
  private final JsonMapper mapper;

  DashboardController(SchedulerCoreClient schedulerCore, JsonMapper mapper) {
    this.schedulerCore = schedulerCore;
    this.mapper = mapper;
  }

  @GetMapping({"", "/"})
  String home() {
    return "redirect:/ui/jobs";
  }

  @GetMapping("/jobs")
  CompletableFuture<ModelAndView> jobs(
      @RequestParam(required = false) String status,
      @RequestParam(required = false) String queue,
      @RequestParam(required = false) String worker,
      @RequestParam(name = "id_prefix", required = false) String idPrefix,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) String fragment) {
    Map<String, String> filters = new LinkedHashMap<>();
    put(filters, "status", status != null && STATUSES.contains(status) ? status : null);
    put(filters, "queue", bounded(queue));
    put(filters, "worker", bounded(worker));
    put(filters, "id_prefix", bounded(idPrefix));
    String from = cursor == null || cursor.isEmpty() || cursor.length() > 4096 ? null : cursor;
    return schedulerCore
        .jobs(filters, PAGE, from)
        .thenApply(
            page -> {
              ModelAndView view =
                  new ModelAndView("rows".equals(fragment) ? "ui/jobs :: rows" : "ui/jobs");
              view.addObject("nav", "jobs");
              view.addObject("jobs", plain(page.jobs()));
              view.addObject("filters", filters);
              view.addObject("statuses", STATUSES);
              view.addObject("firstPage", from == null);
              view.addObject("refresh", link("/ui/jobs", filters, null, "rows"));
              view.addObject("first", link("/ui/jobs", filters, null, null));
              view.addObject(
                  "next",
                  page.nextCursor() == null
                      ? null
                      : link("/ui/jobs", filters, page.nextCursor(), null));
              return view;
            });
  }

  @GetMapping("/jobs/{id}")
  CompletableFuture<ModelAndView> job(
      @PathVariable String id,
      @RequestParam(required = false) String fragment,
      @RequestParam(required = false) String notice) {
    // asked here, on the request's thread: the continuation below runs where no caller is known
    String path = "/jobs/" + id;
    boolean mayCancel = AccessRules.mayCall("POST", path + "/cancel");
    boolean mayRetry = AccessRules.mayCall("POST", path + "/retry");
    return schedulerCore
        .job(id)
        .thenApply(
            found -> {
              if (found.isEmpty()) {
                return missing("job " + id);
              }
              Map<String, Object> job = plain(tree(found));
              ModelAndView view =
                  new ModelAndView("live".equals(fragment) ? "ui/job :: live" : "ui/job");
              view.addObject("nav", "jobs");
              view.addObject("job", job);
              view.addObject(
                  "notice",
                  notice == null ? null : notice.substring(0, Math.min(notice.length(), 300)));
              view.addObject("mayCancel", mayCancel);
              view.addObject("mayRetry", mayRetry);
              // a job that ended changes no more: its page stops asking
              view.addObject(
                  "refresh",
                  Pages.FINAL.contains(String.valueOf(job.get("status")))
                      ? null
                      : UriComponentsBuilder.fromPath("/ui/jobs/{id}")
                          .queryParam("fragment", "live")
                          .encode()
                          .buildAndExpand(id)
                          .toUriString());
              return view;
            });
  }

  @GetMapping("/overview")
  CompletableFuture<ModelAndView> overview() {
    CompletableFuture<JsonNode> minutes = schedulerCore.overview(60);
    CompletableFuture<JsonNode> queues = schedulerCore.queues();
    CompletableFuture<JsonNode> workers = schedulerCore.workers();
    return CompletableFuture.allOf(minutes, queues, workers)
        .thenApply(
            done -> {
              List<Map<String, Object>> rows = plain(minutes.join().path("minutes"));
              Map<String, Long> now = new LinkedHashMap<>();
              for (String status : List.of("pending", "running", "blocked")) {
                long n = 0;
                for (JsonNode q : queues.join()) {
                  n += q.path("counts").path(status).asLong(0);
                }
                now.put(status, n);
              }
              long active = 0;
              long slots = 0;
              for (JsonNode w : workers.join()) {
                if ("active".equals(w.path("status").asString(""))) {
                  active++;
                  slots += w.path("slots").asLong(0);
                }
              }
              long ended = 0;
              long failed = 0;
              for (Map<String, Object> m : rows) {
                ended +=
                    ((Number) m.get("done")).longValue() + ((Number) m.get("failed")).longValue();
                failed += ((Number) m.get("failed")).longValue();
              }
              ModelAndView view = new ModelAndView("ui/overview");
              view.addObject("nav", "overview");
              view.addObject("now", now);
              view.addObject("activeWorkers", active);
              view.addObject("slots", slots);
              view.addObject("endedLastHour", ended);
              view.addObject("failedLastHour", failed);
              view.addObject("throughput", Charts.throughput(rows));
              view.addObject("latency", Charts.latency(rows));
              view.addObject("chartW", Charts.W);
              view.addObject("chartH", Charts.H);
              view.addObject("chartLeft", Charts.LEFT);
              return view;
            });
  }

  @GetMapping("/workers")
  CompletableFuture<ModelAndView> workers(@RequestParam(required = false) String notice) {
    boolean mayCordon = AccessRules.mayCall("POST", "/workers/w/drain");
    CompletableFuture<JsonNode> fleet = schedulerCore.workers();
    // what each runs, in one read of the running jobs (their worker is in each row)
    CompletableFuture<tools.jackson.databind.JsonNode> running =
        schedulerCore.jobs(Map.of("status", "running"), 1000, null).thenApply(p -> p.jobs());
    return fleet.thenCombine(
        running,
        (workers, jobs) -> {
          Map<String, List<Map<String, Object>>> byWorker = new LinkedHashMap<>();
          Map<String, long[]> used = new LinkedHashMap<>();
          for (JsonNode j : jobs) {
            String w = j.path("worker_id").asString("");
            byWorker.computeIfAbsent(w, k -> new java.util.ArrayList<>()).add(plain(j));
            long[] u = used.computeIfAbsent(w, k -> new long[2]);
            u[0] += j.path("resources").path("memory_mb").asLong(0);
            u[1] += j.path("resources").path("vram_mb").asLong(0);
          }
          List<Map<String, Object>> rows = new java.util.ArrayList<>();
          for (JsonNode w : workers) {
            Map<String, Object> row = new LinkedHashMap<>();
            String id = w.path("id").asString();
            row.put("worker", plain(w));
            row.put("running", byWorker.getOrDefault(id, List.of()));
            long[] u = used.getOrDefault(id, new long[2]);
            row.put("memoryUsed", u[0]);
            row.put("vramUsed", u[1]);
            rows.add(row);
          }
          ModelAndView view = new ModelAndView("ui/workers");
          view.addObject("nav", "workers");
          view.addObject("rows", rows);
          view.addObject("mayCordon", mayCordon);
          view.addObject("capped", jobs.size() >= 1000);
          view.addObject("notice", shortNotice(notice));
          return view;
        });
  }

  @GetMapping("/queues")
  CompletableFuture<ModelAndView> queues(@RequestParam(required = false) String notice) {
    boolean mayPause = AccessRules.mayCall("POST", "/queues/q/pause");
    return schedulerCore
        .queues()
        .thenApply(
            queues -> {
              ModelAndView view = new ModelAndView("ui/queues");
              view.addObject("nav", "queues");
              view.addObject("queues", plain(queues));
              view.addObject("statuses", STATUSES);
              view.addObject("mayPause", mayPause);
              view.addObject("notice", shortNotice(notice));
              return view;
            });
  }

  @GetMapping("/schedules")
  CompletableFuture<ModelAndView> schedules(@RequestParam(required = false) String notice) {
    boolean mayPause = AccessRules.mayCall("POST", "/schedules/s/pause");
    return schedulerCore
        .schedules("GET", "", Map.of(), null)
        .thenApply(
            answer -> {
              ModelAndView view = new ModelAndView("ui/schedules");
              view.addObject("nav", "schedules");
              view.addObject("schedules", plain(answer.body()));
              view.addObject("mayPause", mayPause);
              view.addObject("notice", shortNotice(notice));
              return view;
            });
  }

  @GetMapping("/dead-letters")
  CompletableFuture<ModelAndView> deadLetters(
      @RequestParam(required = false) String topic,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) String notice) {
    // the dashboard's chain already asked for admin, as GET /dead-letters does
    boolean mayReplay = AccessRules.mayCall("POST", "/dead-letters/t/0/0/replay");
    Map<String, String> filters = new LinkedHashMap<>();
    put(filters, "topic", topic != null && topic.matches("[A-Za-z0-9._-]{1,249}") ? topic : null);
    StringBuilder path = new StringBuilder("?limit={limit}");
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("limit", PAGE);
    filters.forEach(
        (k, v) -> {
          path.append('&').append(k).append("={").append(k).append('}');
          values.put(k, v);
        });
    String from = cursor == null || cursor.isEmpty() || cursor.length() > 4096 ? null : cursor;
    if (from != null) {
      path.append("&cursor={cursor}");
      values.put("cursor", from);
    }
    return schedulerCore
        .deadLetters("GET", path.toString(), values)
        .thenApply(
            answer -> {
              if (answer.status() != 200) {
                throw new IllegalStateException(
                    "scheduler-core answered the dead letters with " + answer.status());
              }
              ModelAndView view = new ModelAndView("ui/dead-letters");
              view.addObject("nav", "dead-letters");
              view.addObject("page", plain(answer.body()));
              view.addObject("filters", filters);
              view.addObject("mayReplay", mayReplay);
              view.addObject("notice", shortNotice(notice));
              JsonNode next = answer.body().path("next_cursor");
              view.addObject(
                  "next",
                  next.isString()
                      ? link("/ui/dead-letters", filters, next.asString(), null)
                      : null);
              return view;
            });
  }

  @GetMapping("/jobs/{id}/graph")
  CompletableFuture<ModelAndView> graph(@PathVariable String id) {
    return schedulerCore
        .graph(id)
        .thenApply(
            found -> {
              if (found.isEmpty()) {
                return missing("job " + id);
              }
              Map<String, Object> graph = plain(tree(found));
              @SuppressWarnings("unchecked")
              List<Map<String, Object>> nodes = (List<Map<String, Object>>) graph.get("nodes");
              @SuppressWarnings("unchecked")
              List<Map<String, Object>> edges = (List<Map<String, Object>>) graph.get("edges");
              ModelAndView view = new ModelAndView("ui/graph");
              view.addObject("nav", "jobs");
              view.addObject("jobId", id);
              view.addObject("drawing", DagLayout.of(nodes, edges, id));
              view.addObject("truncated", Boolean.TRUE.equals(graph.get("truncated")));
              view.addObject("boxW", DagLayout.BOX_W);
              view.addObject("boxH", DagLayout.BOX_H);
              return view;
            });
  }

  @GetMapping("/gangs/{id}")
  CompletableFuture<ModelAndView> gang(
      @PathVariable String id,
      @RequestParam(required = false) String fragment,
      @RequestParam(required = false) String notice) {
    boolean mayCancel = AccessRules.mayCall("POST", "/gangs/" + id + "/cancel");
    return schedulerCore
        .gang(id, true)
        .thenApply(
            found -> {
              if (found.isEmpty()) {
                return missing("gang " + id);
              }
              JsonNode gang = tree(found);
              // tasks by workers: one column per worker a task is on, in order of first use
              List<String> workers = new java.util.ArrayList<>();
              for (JsonNode t : gang.path("tasks")) {
                String w = t.path("worker_id").asString("");
                if (!w.isEmpty() && !workers.contains(w)) {
                  workers.add(w);
                }
              }
              ModelAndView view =
                  new ModelAndView("live".equals(fragment) ? "ui/gang :: live" : "ui/gang");
              view.addObject("nav", "jobs");
              view.addObject("gang", plain(gang));
              view.addObject("workers", workers);
              view.addObject("mayCancel", mayCancel);
              view.addObject("notice", shortNotice(notice));
              view.addObject(
                  "refresh",
                  Pages.FINAL.contains(gang.path("status").asString(""))
                      ? null
                      : UriComponentsBuilder.fromPath("/ui/gangs/{id}")
                          .queryParam("fragment", "live")
                          .encode()
                          .buildAndExpand(id)
                          .toUriString());
              return view;
            });
  }

  /** The page of something that does not exist (or was deleted by retention), answered 404. */
  private static ModelAndView missing(String what) {
    ModelAndView missing = new ModelAndView("ui/missing", HttpStatus.NOT_FOUND);
    missing.addObject("nav", "jobs");
    missing.addObject("what", what);
    return missing;
  }

  private static String shortNotice(String notice) {
    return notice == null ? null : notice.substring(0, Math.min(notice.length(), 300));
  }

  private JsonNode tree(Optional<byte[]> body) {
    return mapper.readTree(body.get());
  }

  @SuppressWarnings("unchecked")
  private <T> T plain(JsonNode node) {
    return (T) mapper.convertValue(node, Object.class);
  }

  private static void put(Map<String, String> filters, String name, String value) {
    if (value != null && !value.isEmpty()) {
      filters.put(name, value);
    }
  }

  private static String bounded(String value) {
    return value == null || value.length() > 128 || value.indexOf('\u0000') >= 0
        ? null
        : value.strip();
  }

  /** A link to {@code path} with these filters, this cursor and this fragment. */
  static String link(String path, Map<String, String> filters, String cursor, String fragment) {
    UriComponentsBuilder b = UriComponentsBuilder.fromPath(path);
    Map<String, Object> values = new LinkedHashMap<>();
    filters.forEach(
        (k, v) -> {
          b.queryParam(k, "{" + k + "}");
          values.put(k, v);
        });
    if (cursor != null) {
      b.queryParam("cursor", "{cursor}");
      values.put("cursor", cursor);
    }
    if (fragment != null) {
      b.queryParam("fragment", fragment);
    }
    return b.encode().buildAndExpand(values).toUriString();
  }
}
