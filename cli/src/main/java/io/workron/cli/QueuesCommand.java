package io.workron.cli;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "queues",
    description = "List the queues with their limits and jobs per status; pause or resume one.",
    subcommands = {QueuesCommand.Pause.class, QueuesCommand.Resume.class})
final class QueuesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "The queues as the gateway answers them.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    JsonNode queues = root.gateway().get("/queues").json();
    if (json) {
      root.out().println(queues.toPrettyString());
      return ExitCodes.OK;
    }
    Table table = new Table("NAME", "PAUSED", "MAX RUNNING", "PER KEY", "JOBS");
    for (JsonNode q : queues) {
      table.row(
          Table.text(q, "name"),
          q.path("paused").asBoolean() ? "yes" : "no",
          Table.text(q, "max_running"),
          Table.text(q, "max_running_per_key"),
          counts(q.path("counts")));
    }
    table.print(root.out());
    return ExitCodes.OK;
  }

  /** {@code pending 3, running 2}: the statuses with jobs, by name. */
  static String counts(JsonNode counts) {
    Map<String, Long> sorted = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : counts.properties()) {
      if (e.getValue().asLong() > 0) {
        sorted.put(e.getKey(), e.getValue().asLong());
      }
    }
    StringBuilder b = new StringBuilder();
    sorted.forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
    return b.isEmpty() ? "none" : b.toString();
  }

  /** {@code workron queues pause NAME} and {@code resume NAME}. */
  abstract static class Action implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "The queue.")
    String name;

    abstract String action();

    @Override
    public Integer call() {
      Workron root = Workron.of(spec);
      JsonNode queue =
          root.gateway()
              .post("/queues/" + Gateway.encode(name) + "/" + action(), null, Map.of())
              .json();
      root.out().println(name + ": " + (queue.path("paused").asBoolean() ? "paused" : "running"));
      return ExitCodes.OK;
    }
  }

  @Command(name = "pause", description = "Its pending jobs wait; running ones go on.")
  static final class Pause extends Action {
    @Override
    String action() {
      return "pause";
    }
  }

  @Command(name = "resume", description = "Its pending jobs start again.")
  static final class Resume extends Action {
    @Override
    String action() {
      return "resume";
    }
  }
}
