package io.workron.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Memory per service: resident set size when the stack is idle, its maximum while the burn-down
 * runs (sampled every {@value #SAMPLE_MILLIS} ms from /proc), and the heap after the burn-down.
 * With {@code --services processes} each service is its own JVM; in-process, the one JVM holds
 * every service, the broker and the bench, and is reported as {@code standalone}.
 */
final class Memory {

  private static final long SAMPLE_MILLIS = 500;

  /** One process to watch; {@code heap} reads used or committed heap MiB by metric name. */
  record Probe(String name, long pid, List<String> jvmFlags, ToDoubleFunction<String> heap) {}

  /** What one process used. */
  record Usage(
      String name,
      long pid,
      List<String> jvmFlags,
      double rssIdleMiB,
      double rssLoadMaxMiB,
      double heapUsedAfterMiB,
      double heapCommittedAfterMiB) {

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("service", name);
      m.put("jvm_flags", jvmFlags);
      m.put("rss_idle_mib", Report.round(rssIdleMiB, 1));
      m.put("rss_burn_down_max_mib", Report.round(rssLoadMaxMiB, 1));
      m.put("heap_used_after_burn_down_mib", Report.round(heapUsedAfterMiB, 1));
      m.put("heap_committed_after_burn_down_mib", Report.round(heapCommittedAfterMiB, 1));
      return m;
    }
  }

  private final List<Probe> probes;
  private final double[] idle;
  private final double[] loadMax;
  private volatile boolean sampling;
  private Thread sampler;

  Memory(List<Probe> probes) {
    this.probes = List.copyOf(probes);
    this.idle = new double[probes.size()];
    this.loadMax = new double[probes.size()];
    java.util.Arrays.fill(loadMax, Double.NaN);
  }

  /** The probes of the services this target runs. */
  static Memory of(Target target) {
    List<Probe> probes = new ArrayList<>();
    if (target.processes() != null) {
      ServiceProcesses p = target.processes();
      for (ServiceProcesses.Service s : p.services()) {
        probes.add(new Probe(s.name(), s.pid(), s.jvmFlags(), metric -> p.heapMiB(s, metric)));
      }
    } else {
      probes.add(
          new Probe(
              "standalone",
              ProcessHandle.current().pid(),
              ManagementFactory.getRuntimeMXBean().getInputArguments(),
              metric -> {
                var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                long bytes = metric.endsWith("committed") ? heap.getCommitted() : heap.getUsed();
                return bytes / (1024.0 * 1024.0);
              }));
    }
    return new Memory(probes);
  }

  void recordIdle() {
    for (int i = 0; i < probes.size(); i++) {
      idle[i] = ServiceProcesses.rssMiB(probes.get(i).pid());
    }
  }

  void startSampling() {
    sampling = true;
    sampler =
        new Thread(
            () -> {
              while (sampling) {
                for (int i = 0; i < probes.size(); i++) {
                  double rss = ServiceProcesses.rssMiB(probes.get(i).pid());
                  if (Double.isNaN(rss)) {
                    continue; // gone, or not readable: no sample
                  }
                  synchronized (loadMax) {
                    if (!(loadMax[i] >= rss)) {
                      loadMax[i] = rss;
                    }
                  }
                }
                try {
                  Thread.sleep(SAMPLE_MILLIS); // a sampling period, not a wait for an outcome
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-memory");
    sampler.setDaemon(true);
    sampler.start();
  }

  /** Stops sampling and reads the heap of every service now. */
  List<Usage> finish() {
    sampling = false;
    if (sampler != null) {
      sampler.interrupt();
      try {
        sampler.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Usage> out = new ArrayList<>();
    synchronized (loadMax) {
      for (int i = 0; i < probes.size(); i++) {
        Probe p = probes.get(i);
        out.add(
            new Usage(
                p.name(),
                p.pid(),
                p.jvmFlags(),
                idle[i],
                loadMax[i],
                p.heap().applyAsDouble("jvm.memory.used"),
                p.heap().applyAsDouble("jvm.memory.committed")));
      }
    }
    return out;
  }
}
