package io.workron.bench;

import io.workron.schemas.WireCodec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar bench/target/workron-bench.jar}: measures Workron end to end and prints one JSON
 * line on stdout (progress and a readable summary go to stderr).
 */
@Command(
    name = "workron-bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    exitCodeOnInvalidInput = 3,
    description = {
      "Benchmarks Workron: (0) the spawn ceiling, how many /bin/sh -c true this JVM starts and"
          + " reaps per second, (1) burn-down throughput of no-op jobs, (2) submit-to-start and"
          + " submit-to-done latency at fixed rates, (3) a raw PostgreSQL SKIP LOCKED"
          + " claim-and-complete loop on the same database, as the yardstick.",
      "Prints one JSON line on stdout; progress and a summary go to stderr.",
      "Exit codes: 0 all jobs done, 1 some jobs failed, 2 a phase could not finish (timeout,"
          + " error), 3 bad usage."
    })
public final class Bench implements Callable<Integer> {

  static final String SPAWN = "spawn";
  static final String BURN_DOWN = "burndown";
  static final String LATENCY = "latency";
  static final String YARDSTICK = "yardstick";
  static final String PAGES = "pages";
  static final String IN_PROCESS = "in-process";
  static final String PROCESSES = "processes";
  private static final List<String> ALL_PHASES =
      List.of(SPAWN, BURN_DOWN, LATENCY, PAGES, YARDSTICK);

  private static final Logger log = LoggerFactory.getLogger(Bench.class);

  @Spec CommandSpec spec;

  @Option(
      names = "--phases",
      split = ",",
      defaultValue = "all",
      description = "Phases to run, comma-separated: spawn, burndown, latency, yardstick, or all.")
  List<String> phases;

  @Option(
      names = "--jobs",
      defaultValue = "100000",
      description = "Burn-down jobs, also the yardstick's row count (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(
      names = "--latency-jobs",
      defaultValue = "3000",
      description = "Jobs submitted in the latency phase (default ${DEFAULT-VALUE}).")
  int latencyJobs;

  @Option(
      names = {"--rates", "--rate"},
      split = ",",
      defaultValue = "100,50%",
      description =
          "Submission rates of the latency phase, one run each: jobs per second, or N%% of this"
              + " run's burn-down rate (default ${DEFAULT-VALUE}).")
  List<String> rates;

  @Option(
      names = "--spawn-processes",
      defaultValue = "5000",
      description = "Processes the spawn phase starts (default ${DEFAULT-VALUE}).")
  int spawnProcesses;

  @Option(
      names = "--warmup-jobs",
      defaultValue = "1000",
      description =
          "No-op jobs burned down, unmeasured, before the first Workron phase: workers register,"
              + " the JIT warms up (0: none; default ${DEFAULT-VALUE}).")
  int warmupJobs;

  @Option(
      names = "--timeout",
      defaultValue = "30m",
      converter = DurationConverter.class,
      description = "Limit for each phase, e.g. 90s, 30m (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--page-requests",
      description = "Requests per dashboard page in the pages phase (default ${DEFAULT-VALUE}).")
  int pageRequests = 20;

  @Option(
      names = "--preload-finished",
      defaultValue = "0",
      description =
          "Finished jobs (with an attempt and an output each) written to the stack's tables before"
              + " the first phase, e.g. 1000000 (default ${DEFAULT-VALUE}).")
  long preloadFinished;

  @Option(
      names = "--preload-backlog",
      defaultValue = "0",
      description =
          "Pending jobs written before the first phase into a paused queue, bench-backlog, that"
              + " every claim passes over, e.g. 100000 (default ${DEFAULT-VALUE}).")
  long preloadBacklog;

  @Option(
      names = "--pin-horizon",
      converter = DurationConverter.class,
      description =
          "After the latency runs, hold an idle REPEATABLE READ transaction open this long, e.g."
              + " 2m, while a burn-down runs across it; then burn down --jobs again. Needs the"
              + " burndown phase.")
  Duration pinHorizon;

  @Option(
      names = "--services",
      defaultValue = "in-process",
      description =
          "How the started stack runs its services: in-process (one JVM, as the standalone mode)"
              + " or processes (one JVM per service, with the JVM flags each ships with; needed for"
              + " memory per service, --schedulers and --kill-scheduler).")
  String services;

  @Option(
      names = "--schedulers",
      defaultValue = "1",
      description =
          "scheduler-core replicas, with --services processes (default ${DEFAULT-VALUE}).")
  int schedulers;

  @Option(
      names = "--kill-scheduler",
      description =
          "Last, a latency run at 50%% of the burn-down rate during which scheduler-core-2 is"
              + " killed with SIGKILL halfway; reports how long that held work back. Needs"
              + " --schedulers 2 or more.")
  boolean killScheduler;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description = "Workers of the started stack (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--slots",
      defaultValue = "16",
      description = "Slots per worker of the started stack (default ${DEFAULT-VALUE}).")
  int slots;

  @Option(
      names = "--yardstick-threads",
      defaultValue = "2",
      description = "Concurrent claim loops in the yardstick (default ${DEFAULT-VALUE}).")
  int yardstickThreads;

  @Option(
      names = "--yardstick-batch",
      defaultValue = "500",
      description = "Rows per yardstick claim (default ${DEFAULT-VALUE}).")
  int yardstickBatch;

  @Option(
      names = "--kafka",
      description = "bootstrap.servers of a running stack's Kafka; no stack is started.")
  String kafka;

  @Option(
      names = "--jdbc-url",
      description = "JDBC URL of the running stack's PostgreSQL database (for the yardstick).")
  String jdbcUrl;

  @Option(
      names = "--jdbc-user",
      defaultValue = "workron",
      description = "User for --jdbc-url (default ${DEFAULT-VALUE}).")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      defaultValue = "${env:WORKRON_JDBC_PASSWORD:-workron}",
      description = "Password for --jdbc-url (or WORKRON_JDBC_PASSWORD).")
  String jdbcPassword;

  @Option(
      names = "--topic-prefix",
      defaultValue = "workron",
      description = "Topic prefix of the stack (default ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(
      names = "--data-dir",
      description =
          "Data directory for the started stack (default: a fresh temporary directory, deleted"
              + " afterwards).")
  Path dataDir;

  @Option(
      names = {"-D", "--property"},
      description =
          "A property for the started stack's services, e.g. -D workron.scheduler.dispatch-batch-size=1000.")
  Map<String, String> properties = new LinkedHashMap<>();

  @Option(names = "--output", description = "Also append the JSON line to this file.")
  Path output;

  private final PrintStream out;
  private final PrintStream err;

  public Bench() {
    this(System.out, System.err);
  }

  Bench(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    if (args.length >= 2 && args[0].equals(ServiceMain.SERVE)) {
      // a child of --services processes: one service, until SIGTERM
      io.workron.worker.execution.LaunchMechanism.prefer();
      ServiceMain.serve(args[1], java.util.Arrays.copyOfRange(args, 2, args.length));
      return;
    }
    // as the standalone mode does, before any process starts: the workers and the spawn phase use
    // it
    io.workron.worker.execution.LaunchMechanism.prefer();
    System.exit(commandLine(new Bench()).execute(args));
  }

  static CommandLine commandLine(Bench bench) {
    return new CommandLine(bench)
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              cmd.getErr().println("workron-bench: FAILED: " + e);
              e.printStackTrace(cmd.getErr());
              return 2;
            });
  }

  @Override
  public Integer call() {
    List<String> selected = selectedPhases();
    validate(selected);
    boolean workron = selected.contains(BURN_DOWN) || selected.contains(LATENCY);
    Instant startedAt = Instant.now();
    Clock clock = Clock.systemUTC();
    WireCodec codec = new WireCodec();
    SpawnCeiling.Result spawn = null;
    BurnDown.Result burnDown = null;
    List<LatencyRun.Result> latency = new ArrayList<>();
    Yardstick.Result yardstick = null;
    Preload.Result preload = null;
    Preload preloader = null;
    HorizonPin.Result pinned = null;
    List<Memory.Usage> memory = null;
    LatencyRun.Result failover = null;
    PageTimes.Result pages = null;
    boolean embedded = kafka == null;
    Target target;
    try {
      if (!embedded) {
        target = Target.external(kafka, jdbcUrl, jdbcUser, jdbcPassword, topicPrefix);
      } else if (services.equals(PROCESSES)) {
        target = Target.processes(dataDir, schedulers, workers, slots, topicPrefix, properties);
      } else {
        target = Target.standalone(dataDir, workers, slots, topicPrefix, properties);
      }
    } catch (BenchFailure e) {
      return fail(e);
    }
    Report report;
    try (target) {
      if (preloadFinished > 0 || preloadBacklog > 0) {
        preloader = new Preload(target.jdbcUrl(), target.jdbcUser(), target.jdbcPassword());
        preload = preloader.run(preloadFinished, preloadBacklog);
      }
      if (workron && warmupJobs > 0) {
        BurnDown.Result w =
            new BurnDown(target, codec, clock).run("warm-up", warmupJobs, deadline());
        log.info("warm-up: {} jobs done in {} s", w.done(), String.format("%.2f", w.seconds()));
      }
      if (selected.contains(SPAWN)) {
        // on the idle stack, after the warm-up, with the workers' concurrency
        spawn = new SpawnCeiling().run(spawnProcesses, workers * slots, deadline());
      }
      if (selected.contains(BURN_DOWN)) {
        Memory watch = embedded ? Memory.of(target) : null;
        if (watch != null) {
          watch.recordIdle();
          watch.startSampling();
        }
        try {
          burnDown = new BurnDown(target, codec, clock).run("burn-down", jobs, deadline());
        } finally {
          if (watch != null) {
            memory = watch.finish();
          }
        }
        log.info(
            "burn-down: {} jobs in {} s",
            burnDown.done(),
            String.format("%.2f", burnDown.seconds()));
      }
      if (selected.contains(LATENCY)) {
        for (String r : rates) {
          if (r.trim().endsWith("%") && burnDown == null) {
            log.warn("latency at {} skipped: it is a share of the burn-down rate, not measured", r);
            continue;
          }
          double rate = rate(r, burnDown);
          latency.add(
              new LatencyRun(target, codec, clock)
                  .run("latency at " + r.trim(), latencyJobs, rate, deadline()));
        }
      }
      if (pinHorizon != null && burnDown != null) {
        pinned = new HorizonPin(target, codec, clock).run(burnDown, pinHorizon, jobs, deadline());
      }
      if (killScheduler) {
        ServiceProcesses p = target.processes();
        ServiceProcesses.Service victim = p.named("scheduler-core-2");
        double rate = burnDown != null ? burnDown.jobsPerSecond() / 2 : rate(rates.get(0), null);
        failover =
            new LatencyRun(target, codec, clock)
                .run(
                    "failover (kill -9 scheduler-core-2 halfway)",
                    latencyJobs,
                    rate,
                    deadline(),
                    latencyJobs / 2,
                    () -> p.killHard(victim));
      }
      if (selected.contains(PAGES)) {
        if (target.gatewayUrl() == null) {
          throw new BenchFailure("the pages phase times the in-process stack's dashboard");
        }
        pages =
            new PageTimes(target.gatewayUrl())
                .run(
                    pageRequests,
                    preload != null && preload.finished() > 0
                        ? Preload.ID_PREFIX + "f-" + (preload.finished() / 2)
                        : null);
      }
      if (selected.contains(YARDSTICK)) {
        yardstick =
            new Yardstick(target.jdbcUrl(), target.jdbcUser(), target.jdbcPassword())
                .run(jobs, yardstickThreads, yardstickBatch, deadline());
      }
      if (preload != null) {
        preload = preload.withBacklogPendingAtEnd(preloader.backlogStillPending());
      }
      report =
          new Report(
              startedAt,
              target,
              embedded ? workers : null,
              embedded ? slots : null,
              selected,
              workron ? warmupJobs : 0,
              spawn,
              burnDown,
              latency,
              yardstick,
              preload,
              pinned,
              embedded ? services : null,
              embedded ? schedulers : null,
              memory,
              failover,
              pages);
    } catch (BenchFailure e) {
      return fail(e);
    }
    // after the stack has stopped, so its shutdown noise does not split the summary
    return publish(report);
  }

  private int publish(Report report) {
    String json = report.json();
    out.println(json);
    out.flush();
    if (output != null) {
      try {
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(
            output,
            json + System.lineSeparator(),
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        err.println("workron-bench: could not append to " + output + ": " + e);
        return 2;
      }
    }
    err.println();
    err.print(report.summary());
    err.flush();
    Object failed = report.fields().get("failed");
    if (failed instanceof Integer f && f > 0) {
      err.println("workron-bench: " + f + " jobs failed (no-op jobs should never fail)");
      return 1;
    }
    return 0;
  }

  private int fail(BenchFailure e) {
    err.println("workron-bench: FAILED: " + e.getMessage());
    err.flush();
    log.debug("failure", e);
    return 2;
  }

  /** A latency rate: jobs per second, or {@code N%} of the burn-down rate just measured. */
  private static double rate(String spec, BurnDown.Result burnDown) {
    String r = spec.trim();
    if (!r.endsWith("%")) {
      return Double.parseDouble(r);
    }
    return burnDown.jobsPerSecond() * Double.parseDouble(r.substring(0, r.length() - 1)) / 100;
  }

  private long deadline() {
    return System.nanoTime() + timeout.toNanos();
  }

  private List<String> selectedPhases() {
    Set<String> result = new LinkedHashSet<>();
    for (String p : phases) {
      String name = p.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
      if (name.equals("all")) {
        result.addAll(ALL_PHASES);
      } else if (ALL_PHASES.contains(name)) {
        result.add(name);
      } else {
        throw new ParameterException(
            spec.commandLine(),
            "unknown phase '" + p + "'; choose from " + String.join(", ", ALL_PHASES) + ", all");
      }
    }
    // always in the canonical order: the yardstick last, on an idle database
    List<String> ordered = new ArrayList<>();
    for (String p : ALL_PHASES) {
      if (result.contains(p)) {
        ordered.add(p);
      }
    }
    return ordered;
  }

  private void validate(List<String> selected) {
    CommandLine cl = spec.commandLine();
    if (jobs < 1 || latencyJobs < 1 || warmupJobs < 0) {
      throw new ParameterException(
          cl, "--jobs and --latency-jobs must be at least 1, --warmup-jobs at least 0");
    }
    if (workers < 1 || slots < 1 || spawnProcesses < 1) {
      throw new ParameterException(cl, "--workers, --slots and --spawn-processes must be positive");
    }
    for (String r : rates) {
      String t = r.trim();
      boolean percent = t.endsWith("%");
      double v;
      try {
        v = Double.parseDouble(percent ? t.substring(0, t.length() - 1) : t);
      } catch (NumberFormatException e) {
        throw new ParameterException(cl, "--rates: '" + r + "' is neither a number nor N%");
      }
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new ParameterException(cl, "--rates: '" + r + "' must be positive");
      }
    }
    if (yardstickThreads < 1 || yardstickBatch < 1) {
      throw new ParameterException(
          cl, "--yardstick-threads and --yardstick-batch must be positive");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ParameterException(cl, "--timeout must be positive");
    }
    if (!services.equals(IN_PROCESS) && !services.equals(PROCESSES)) {
      throw new ParameterException(cl, "--services: choose in-process or processes");
    }
    if (schedulers < 1) {
      throw new ParameterException(cl, "--schedulers must be positive");
    }
    if (schedulers > 1 && !services.equals(PROCESSES)) {
      throw new ParameterException(cl, "--schedulers above 1 needs --services processes");
    }
    if (killScheduler && schedulers < 2) {
      throw new ParameterException(cl, "--kill-scheduler needs --schedulers 2 or more");
    }
    if (kafka != null && !services.equals(IN_PROCESS)) {
      throw new ParameterException(cl, "--services starts a stack; it cannot go with --kafka");
    }
    if (preloadFinished < 0 || preloadBacklog < 0) {
      throw new ParameterException(cl, "--preload-finished and --preload-backlog must be >= 0");
    }
    if (pinHorizon != null && (pinHorizon.isNegative() || pinHorizon.isZero())) {
      throw new ParameterException(cl, "--pin-horizon must be positive");
    }
    if (pinHorizon != null && !selected.contains(BURN_DOWN)) {
      throw new ParameterException(
          cl, "--pin-horizon compares with the clean burn-down: keep burndown in --phases");
    }
    boolean needsJdbc = preloadFinished > 0 || preloadBacklog > 0 || pinHorizon != null;
    if (kafka != null && needsJdbc && jdbcUrl == null) {
      throw new ParameterException(
          cl, "--preload-* and --pin-horizon need the running stack's --jdbc-url");
    }
    if (kafka == null && jdbcUrl != null) {
      throw new ParameterException(
          cl, "--jdbc-url targets a running stack; give its --kafka as well");
    }
    if (kafka != null && selected.contains(YARDSTICK) && jdbcUrl == null) {
      throw new ParameterException(
          cl, "the yardstick needs the running stack's --jdbc-url (or leave it out of --phases)");
    }
  }
}
