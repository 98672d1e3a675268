package io.workron.scheduler.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Reads the jobs that waiting requests are about, many per snapshot. When an ingest commit
 * completes hundreds of waits at once (a burst of submissions), they are answered with a handful of
 * batched reads instead of hundreds of single-job transactions competing for the connection pool.
 */
@Component
class BatchedJobReads implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(BatchedJobReads.class);

  /** Most jobs one batch reads. */
  private static final int BATCH = 500;

  private record Request(String id, CompletableFuture<Optional<Map<String, Object>>> job) {}

  private final JobQueries queries;
  private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
  private volatile boolean running;
  private Thread reader;

  BatchedJobReads(JobQueries queries) {
    this.queries = queries;
  }

  /** The job as {@code GET /internal/jobs/{id}} shows it, read together with others. */
  CompletableFuture<Optional<Map<String, Object>>> read(String id) {
    if (!running) {
      return CompletableFuture.failedFuture(new IllegalStateException("shutting down"));
    }
    Request request = new Request(id, new CompletableFuture<>());
    requests.add(request);
    return request.job();
  }

  @Override
  public void start() {
    running = true;
    reader = new Thread(this::readLoop, "batched-job-reads");
    reader.setDaemon(true);
    reader.start();
  }

  @Override
  public void stop() {
    running = false;
    reader.interrupt();
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Request> left = new ArrayList<>();
    requests.drainTo(left);
    left.forEach(r -> r.job().completeExceptionally(new IllegalStateException("shutting down")));
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  private void readLoop() {
    List<Request> batch = new ArrayList<>(BATCH);
    while (running) {
      try {
        batch.add(requests.take());
      } catch (InterruptedException e) {
        return;
      }
      requests.drainTo(batch, BATCH - 1);
      try {
        Map<String, Map<String, Object>> jobs =
            queries.jobs(batch.stream().map(Request::id).distinct().toList());
        for (Request r : batch) {
          r.job().complete(Optional.ofNullable(jobs.get(r.id())));
        }
      } catch (RuntimeException e) {
        log.warn("batched job read failed for {} requests: {}", batch.size(), e.toString());
        batch.forEach(r -> r.job().completeExceptionally(e));
      }
      batch.clear();
    }
  }
}
