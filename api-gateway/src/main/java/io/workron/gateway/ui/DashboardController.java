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

  static final List<String> STATUSES =
      List.of(
          "blocked",
          "pending",
          "reserved",
          "running",
          "preempting",
          "preempted",
          "done",
          "failed",
          "cancelled");

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
                ModelAndView missing = new ModelAndView("ui/missing", HttpStatus.NOT_FOUND);
                missing.addObject("nav", "jobs");
                missing.addObject("what", "job " + id);
                return missing;
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
