package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "workers",
    description =
        "List the workers; drain one (no new work, running attempts finish) or resume it.",
    subcommands = {WorkersCommand.Drain.class, WorkersCommand.Resume.class})
final class WorkersCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "The workers as the gateway answers them.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    JsonNode workers = root.gateway().get("/workers").json();
    if (json) {
      root.out().println(workers.toPrettyString());
      return ExitCodes.OK;
    }
    Table table =
        new Table("ID", "STATUS", "SLOTS", "VRAM_MB", "MEMORY_MB", "LAST HEARTBEAT", "TAGS");
    for (JsonNode w : workers) {
      String status = Table.text(w, "status");
      if (w.path("drained").asBoolean() && !"draining".equals(status)) {
        status = status + " (drained)";
      }
      table.row(
          Table.text(w, "id"),
          status,
          Table.text(w, "slots"),
          Table.text(w.path("resources"), "vram_mb"),
          Table.text(w.path("resources"), "memory_mb"),
          Table.when(w, "last_heartbeat"),
          Table.joined(w.path("tags")));
    }
    table.print(root.out());
    return ExitCodes.OK;
  }

  /** {@code workron workers drain ID} and {@code resume ID}. */
  abstract static class Action implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "The worker.")
    String id;

    abstract String action();

    @Override
    public Integer call() {
      Workron root = Workron.of(spec);
      root.gateway()
          .post("/workers/" + Gateway.encode(id) + "/" + action(), null, java.util.Map.of());
      root.out().println(id + ": " + (action().equals("drain") ? "drained" : "resumed"));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "drain",
      description = "No new dispatches to the worker; running attempts finish.")
  static final class Drain extends Action {
    @Override
    String action() {
      return "drain";
    }
  }

  @Command(name = "resume", description = "Dispatch to a drained worker again.")
  static final class Resume extends Action {
    @Override
    String action() {
      return "resume";
    }
  }
}
