package io.workron.bench;

import io.workron.standalone.StandaloneStack;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code --services processes}: every Workron service as a JVM of its own, started from the bench's
 * own jar ({@link ServiceMain}) with the JVM flags the service ships with, against the Kafka and
 * PostgreSQL the bench started. This is what lets the bench report memory per service, run two
 * scheduler-core replicas, and {@code kill -9} one of them.
 */
final class ServiceProcesses implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ServiceProcesses.class);
  private static final Duration READY_WAIT = Duration.ofMinutes(3);
  private static final Duration STOP_WAIT = Duration.ofSeconds(40);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** One running service. */
  record Service(String name, String kind, Process process, int port, List<String> jvmFlags) {

    long pid() {
      return process.pid();
    }
  }

  private final List<Service> services = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ServiceProcesses() {}

  /**
   * Starts {@code schedulers} scheduler-core replicas, the gateway and {@code workers} workers, and
   * waits until each reports ready.
   */
  static ServiceProcesses start(
      Path dir,
      String kafka,
      String jdbcUrl,
      String user,
      String password,
      int schedulers,
      int workers,
      int slots,
      String topicPrefix,
      Map<String, String> extra) {
    ServiceProcesses p = new ServiceProcesses();
    try {
      Map<String, String> common = new LinkedHashMap<>();
      common.put("spring.kafka.bootstrap-servers", kafka);
      common.put("workron.topic-prefix", topicPrefix);
      common.put("spring.main.banner-mode", "off");
      // as standalone: every service on loopback, the gateway without tokens
      common.put("server.address", "127.0.0.1");
      common.putAll(extra);
      int schedulerPort = 0;
      for (int i = 1; i <= schedulers; i++) {
        Map<String, String> props = new LinkedHashMap<>(StandaloneStack.OWN_BROKER_CONSUMERS);
        props.putAll(common);
        props.put("spring.datasource.url", jdbcUrl);
        props.put("spring.datasource.username", user);
        props.put("spring.datasource.password", password);
        props.put("workron.scheduler.replica-id", "bench-scheduler-" + i);
        Service s = p.launch(dir, "scheduler-core-" + i, ServiceMain.SCHEDULER, props);
        if (i == 1) {
          // the first replica migrates the schema; the others start once it is there
          p.awaitReady(s);
          schedulerPort = s.port();
        }
      }
      Map<String, String> gateway = new LinkedHashMap<>(common);
      gateway.put("workron.gateway.scheduler-url", "http://127.0.0.1:" + schedulerPort);
      gateway.put("workron.auth.enabled", "false");
      p.launch(dir, "api-gateway", ServiceMain.GATEWAY, gateway);
      for (int i = 1; i <= workers; i++) {
        Map<String, String> props = new LinkedHashMap<>(common);
        String id = "bench-worker-" + i;
        props.put("workron.worker.id", id);
        props.put("workron.worker.state-dir", dir.resolve("workers").resolve(id).toString());
        props.put("workron.worker.slots", Integer.toString(slots));
        p.launch(dir, id, ServiceMain.WORKER, props);
      }
      for (Service s : p.services) {
        p.awaitReady(s);
      }
      return p;
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
  }

  List<Service> services() {
    return List.copyOf(services);
  }

  /** The service called {@code name}, e.g. scheduler-core-2. */
  Service named(String name) {
    return services.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new BenchFailure("no service " + name));
  }

  /** {@code kill -9}: the process gets no chance to clean up. */
  void killHard(Service s) {
    log.info("killing {} (pid {}) with SIGKILL", s.name(), s.pid());
    s.process().destroyForcibly(); // SIGKILL on Linux
  }

  /** Resident set size in MiB, from /proc; NaN when the process is gone (or not on Linux). */
  static double rssMiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return kib(line) / 1024.0;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // gone, or not Linux
    }
    return Double.NaN;
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  /** {@code jvm.memory.used} or {@code .committed} of the heap, in MiB, from the actuator. */
  double heapMiB(Service s, String metric) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      new URI(
                          "http://127.0.0.1:"
                              + s.port()
                              + "/actuator/metrics/"
                              + metric
                              + "?tag=area:heap"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return Double.NaN;
      }
      JsonNode json = JSON.readTree(r.body());
      for (JsonNode m : json.path("measurements")) {
        if (m.path("statistic").asString().equals("VALUE")) {
          return m.path("value").asDouble() / (1024 * 1024);
        }
      }
      return Double.NaN;
    } catch (IOException | URISyntaxException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }

  private Service launch(Path dir, String name, String kind, Map<String, String> props) {
    int port = freePort();
    List<String> flags = ServiceMain.jvmFlags(kind);
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(flags);
    cmd.addAll(selfLaunch());
    cmd.add(ServiceMain.SERVE);
    cmd.add(kind);
    Map<String, String> all = new LinkedHashMap<>(props);
    all.put("server.port", Integer.toString(port));
    all.forEach((k, v) -> cmd.add("--" + k + "=" + v));
    try {
      Path logs = Files.createDirectories(dir.resolve("logs"));
      Path logFile = logs.resolve(name + ".log");
      Process process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(logFile.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      Service s = new Service(name, kind, process, port, flags);
      services.add(s);
      log.info("started {} (pid {}, port {}), log {}", name, s.pid(), port, logFile);
      return s;
    } catch (IOException e) {
      throw new BenchFailure("could not start " + name + ": " + e, e);
    }
  }

  /**
   * How this JVM was started, so a child runs the same code: {@code -jar} with the bench's
   * executable jar (its classes are nested inside, out of reach of {@code -cp}), or else the class
   * path (tests).
   */
  private static List<String> selfLaunch() {
    String classPath = System.getProperty("java.class.path");
    if (!classPath.contains(File.pathSeparator)
        && classPath.endsWith(".jar")
        && Files.isRegularFile(Path.of(classPath))) {
      return List.of("-jar", classPath);
    }
    return List.of("-cp", classPath, Bench.class.getName());
  }

  private void awaitReady(Service s) {
    long deadline = System.nanoTime() + READY_WAIT.toNanos();
    URI uri = URI.create("http://127.0.0.1:" + s.port() + "/actuator/health/readiness");
    while (true) {
      if (!s.process().isAlive()) {
        throw new BenchFailure(
            s.name() + " exited with " + s.process().exitValue() + " before it was ready");
      }
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          log.info("{} is ready", s.name());
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchFailure("interrupted while waiting for " + s.name(), e);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new BenchFailure(s.name() + " was not ready within " + READY_WAIT);
      }
      try {
        // the service is starting: there is nothing to be told about, only to ask again
        s.process().waitFor(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchFailure("interrupted while waiting for " + s.name(), e);
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGTERM to all, workers first; SIGKILL to whatever is still running after the wait. */
  @Override
  public void close() {
    List<Service> order = new ArrayList<>(services);
    java.util.Collections.reverse(order);
    for (Service s : order) {
      s.process().destroy();
    }
    long deadline = System.nanoTime() + STOP_WAIT.toNanos();
    for (Service s : order) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!s.process().waitFor(left, TimeUnit.NANOSECONDS)) {
          log.warn("{} did not stop within {} s; killing it", s.name(), STOP_WAIT.toSeconds());
          s.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        s.process().destroyForcibly();
      }
    }
    services.clear();
  }
}
