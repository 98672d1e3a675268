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
    name = "get",
    description = "Show a job: its state, its attempts and why it waits or failed.")
final class GetCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ID", description = "The job.")
  String id;

  @Option(names = "--json", description = "The job as the gateway answers it.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    JsonNode job = root.gateway().get("/jobs/" + Gateway.encode(id)).json();
    if (json) {
      root.out().println(job.toPrettyString());
    } else {
      print(root.out(), job);
    }
    return ExitCodes.OK;
  }

  static void print(PrintWriter out, JsonNode job) {
    field(out, "id", Table.text(job, "id"));
    field(out, "status", Table.text(job, "status"));
    field(out, "command", Table.text(job, "command"));
    field(out, "queue", Table.text(job, "queue_name"));
    field(out, "priority", Table.text(job, "priority"));
    field(out, "attempts", job.path("attempts").asInt() + " of " + job.path("max_retries").asInt());
    field(out, "worker", Table.text(job, "worker_id"));
    field(out, "exit code", Table.text(job, "exit_code"));
    field(out, "failure", Table.text(job, "failure_reason"));
    field(out, "waits for", Table.text(job, "wait_reason"));
    field(out, "depends on", Table.joined(job.get("depends_on")));
    if (Table.text(job, "gang_id") != null) {
      field(
          out,
          "gang",
          Table.text(job, "gang_id") + " (task " + Table.text(job, "gang_index") + ")");
    }
    field(out, "created", Table.when(job, "created_at"));
    field(out, "started", Table.when(job, "started_at"));
    field(out, "ended", Table.when(job, "done_at"));
    JsonNode attempts = job.get("attempt_history");
    if (attempts != null && attempts.isArray() && !attempts.isEmpty()) {
      out.println();
      Table table =
          new Table("ATTEMPT", "WORKER", "STARTED", "FINISHED", "OUTCOME", "EXIT", "REASON");
      for (JsonNode a : attempts) {
        table.row(
            Table.text(a, "attempt"),
            Table.text(a, "worker_id"),
            Table.when(a, "started_at"),
            Table.when(a, "finished_at"),
            Table.text(a, "outcome"),
            Table.text(a, "exit_code"),
            Table.text(a, "reason"));
      }
      table.print(out);
    }
    out.flush();
  }

  private static void field(PrintWriter out, String name, String value) {
    if (value != null) {
      out.printf("%-11s %s%n", name + ":", value.replace("\n", "\n            "));
    }
  }
}
