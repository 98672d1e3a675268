package io.workron.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "gang",
    description = "Show a gang: its status, epoch, its tasks across workers and its drain rounds.")
final class GangCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "GANG_ID", description = "The gang (submit --gang prints it).")
  String id;

  @Option(names = "--cancel", description = "Cancel every task of the gang first.")
  boolean cancel;

  @Option(names = "--json", description = "The gang as the gateway answers it.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    String path = "/gangs/" + Gateway.encode(id);
    if (cancel) {
      root.gateway().post(path + "/cancel", null, java.util.Map.of());
    }
    JsonNode gang = root.gateway().get(path + "/summary").json();
    if (json) {
      root.out().println(gang.toPrettyString());
    } else {
      print(root.out(), gang);
    }
    return ExitCodes.OK;
  }

  static void print(PrintWriter out, JsonNode gang) {
    out.printf(
        "gang %s: %s, %d tasks, epoch %s%n",
        Table.text(gang, "gang_id"),
        Table.text(gang, "status"),
        gang.path("size").asInt(),
        Table.text(gang, "epoch"));
    String why = Table.text(gang, "wait_reason");
    if (why != null) {
      out.println("waits for: " + why);
    }
    Table tasks = new Table("INDEX", "ID", "STATUS", "WORKER", "ATTEMPTS");
    for (JsonNode t : gang.path("tasks")) {
      tasks.row(
          Table.text(t, "gang_index"),
          Table.text(t, "id"),
          Table.text(t, "status"),
          Table.text(t, "worker_id"),
          Table.text(t, "attempts"));
    }
    tasks.print(out);
    JsonNode drains = gang.path("drains");
    if (drains.isArray() && !drains.isEmpty()) {
      out.println();
      Table table = new Table("EPOCH", "STARTED", "OUTCOME", "MS", "ACKS", "FORCED", "REASON");
      for (JsonNode d : drains) {
        table.row(
            Table.text(d, "epoch"),
            Table.when(d, "started_at"),
            Table.text(d, "outcome"),
            Table.text(d, "duration_ms"),
            Table.text(d, "acks"),
            Table.text(d, "forced"),
            Table.text(d, "reason"));
      }
      table.print(out);
    }
    out.flush();
  }
}
