package io.workron.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long each dashboard page takes to render, as a browser asks for it: the whole HTML of one
 * GET, one request at a time, after two unmeasured requests per page. Run after {@code
 * --preload-finished}, it shows whether the pages stay fast with millions of jobs in the tables.
 */
final class PageTimes {

  private static final Logger log = LoggerFactory.getLogger(PageTimes.class);

  /** One page's figures, in milliseconds. */
  record Page(String name, String path, int status, double p50, double p95, double max) {}

  record Result(List<Page> pages, int requestsPerPage) {}

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  PageTimes(String base) {
    this.base = base;
  }

  Result run(int requests, String preloadedJob) {
    try {
      return timed(requests, preloadedJob);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchFailure("interrupted while timing the dashboard's pages", e);
    } catch (Exception e) {
      throw new BenchFailure("could not time the dashboard's pages: " + e, e);
    }
  }

  private Result timed(int requests, String preloadedJob) throws Exception {
    Map<String, String> pages = new LinkedHashMap<>();
    pages.put("overview", "/ui/overview");
    pages.put("jobs", "/ui/jobs");
    pages.put("jobs status=failed", "/ui/jobs?status=failed");
    pages.put("jobs queue+status", "/ui/jobs?queue=default&status=done");
    pages.put("jobs worker", "/ui/jobs?worker=bench-preload-worker");
    pages.put("jobs id prefix", "/ui/jobs?id_prefix=" + Preload.ID_PREFIX + "f-12345");
    // a prefix nearly every job has: the list must not sort them all
    pages.put("jobs common prefix", "/ui/jobs?id_prefix=" + Preload.ID_PREFIX);
    String next = nextPage("/ui/jobs?status=done");
    if (next != null) {
      pages.put("jobs page 2", next);
    }
    if (preloadedJob != null) {
      pages.put("job", "/ui/jobs/" + preloadedJob);
      pages.put("job graph", "/ui/jobs/" + preloadedJob + "/graph");
    }
    pages.put("workers", "/ui/workers");
    pages.put("queues", "/ui/queues");
    pages.put("schedules", "/ui/schedules");
    pages.put("dead letters", "/ui/dead-letters");
    List<Page> out = new ArrayList<>();
    for (Map.Entry<String, String> p : pages.entrySet()) {
      int status = 0;
      for (int i = 0; i < 2; i++) {
        status = get(p.getValue()).statusCode();
      }
      double[] ms = new double[requests];
      for (int i = 0; i < requests; i++) {
        long t0 = System.nanoTime();
        HttpResponse<String> r = get(p.getValue());
        ms[i] = (System.nanoTime() - t0) / 1e6;
        status = r.statusCode();
      }
      Arrays.sort(ms);
      Page page =
          new Page(
              p.getKey(),
              p.getValue(),
              status,
              ms[(int) Math.floor((requests - 1) * 0.5)],
              ms[(int) Math.ceil((requests - 1) * 0.95)],
              ms[requests - 1]);
      log.info(
          "page {} ({}): {} p50 {} ms, p95 {} ms, max {} ms",
          page.name(),
          page.path(),
          page.status(),
          String.format("%.1f", page.p50()),
          String.format("%.1f", page.p95()),
          String.format("%.1f", page.max()));
      out.add(page);
    }
    return new Result(out, requests);
  }

  private String nextPage(String path) throws Exception {
    Matcher m =
        Pattern.compile("id=\"next-page\" href=\"([^\"]+)\"|href=\"([^\"]+)\" id=\"next-page\"")
            .matcher(get(path).body());
    if (!m.find()) {
      return null;
    }
    String href = m.group(1) != null ? m.group(1) : m.group(2);
    return href.replace("&amp;", "&");
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
