package io.workron.standalone.faults;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One Workron service as a real operating-system process, so a test can {@code kill -9} it. */
final class ServiceProcess implements AutoCloseable {

  private final String name;
  private final Process process;

  private ServiceProcess(String name, Process process) {
    this.name = name;
    this.process = process;
  }

  /** Starts {@code mainClass} in a new JVM on this test's classpath, logging to {@code log}. */
  static ServiceProcess start(String name, Class<?> mainClass, Path log, List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    // never outlive the test JVM, whatever happens to it short of kill -9
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "stop-" + name));
    return new ServiceProcess(name, p);
  }

  String name() {
    return name;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** {@code kill -9}: no shutdown hook, no flush, no goodbye. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** {@code kill -TERM}: a graceful stop. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
