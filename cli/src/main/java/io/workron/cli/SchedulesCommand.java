package io.workron.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "schedules",
    description = "List the recurring schedules with their next firing; pause or resume one.",
    subcommands = {SchedulesCommand.Pause.class, SchedulesCommand.Resume.class})
final class SchedulesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "The schedules as the gateway answers them.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    JsonNode schedules = root.gateway().get("/schedules").json();
    if (json) {
      root.out().println(schedules.toPrettyString());
      return ExitCodes.OK;
    }
    Table table = new Table("NAME", "CRON", "ZONE", "PAUSED", "NEXT", "LAST JOB", "COMMAND");
    for (JsonNode s : schedules) {
      table.row(
          Table.text(s, "name"),
          Table.text(s, "cron"),
          Table.text(s, "time_zone"),
          s.path("paused").asBoolean() ? "yes" : "no",
          Table.when(s, "next_fire_at"),
          Table.text(s, "last_job_id"),
          Table.cut(Table.text(s.path("job"), "command"), 40));
    }
    table.print(root.out());
    return ExitCodes.OK;
  }

  /** {@code workron schedules pause NAME} and {@code resume NAME}. */
  abstract static class Action implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "The schedule.")
    String name;

    abstract String action();

    @Override
    public Integer call() {
      Workron root = Workron.of(spec);
      JsonNode schedule =
          root.gateway()
              .post("/schedules/" + Gateway.encode(name) + "/" + action(), null, Map.of())
              .json();
      root.out()
          .println(
              name
                  + ": "
                  + (schedule.path("paused").asBoolean()
                      ? "paused"
                      : "next firing " + Table.when(schedule, "next_fire_at")));
      return ExitCodes.OK;
    }
  }

  @Command(name = "pause", description = "It fires no more jobs until resumed.")
  static final class Pause extends Action {
    @Override
    String action() {
      return "pause";
    }
  }

  @Command(name = "resume", description = "It fires again from its next time.")
  static final class Resume extends Action {
    @Override
    String action() {
      return "resume";
    }
  }
}
