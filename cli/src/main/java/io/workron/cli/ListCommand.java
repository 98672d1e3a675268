package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

@Command(
    name = "list",
    description =
        "List jobs in id order (the gateway's ids are time-ordered: oldest first), a page at a time.")
final class ListCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--status",
      paramLabel = "STATUS",
      description =
          "Only jobs in this status (pending, running, done, failed, cancelled, blocked, ...).")
  String status;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Jobs per page, 1 to 1000 (default 20).")
  int limit = 20;

  @Option(
      names = "--cursor",
      paramLabel = "CURSOR",
      description = "The page after this cursor (printed under a page).")
  String cursor;

  @Option(names = "--all", description = "Every page, not only the first.")
  boolean all;

  @Option(names = "--json", description = "The jobs as a JSON array.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    if (limit < 1 || limit > 1000) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--limit must be 1 to 1000: " + limit);
    }
    ArrayNode jobs = Gateway.JSON.createArrayNode();
    String next = cursor;
    do {
      StringBuilder path = new StringBuilder("/jobs?limit=").append(limit);
      if (status != null) {
        path.append("&status=").append(Gateway.encode(status));
      }
      if (next != null) {
        path.append("&cursor=").append(Gateway.encode(next));
      }
      Gateway.Reply reply = root.gateway().get(path.toString());
      reply.json().forEach(jobs::add);
      next = reply.header("X-Next-Cursor").orElse(null);
    } while (all && next != null);
    if (json) {
      root.out().println(jobs.toPrettyString());
      more(root, next);
      return ExitCodes.OK;
    }
    Table table = new Table("ID", "STATUS", "QUEUE", "ATTEMPTS", "WORKER", "CREATED", "COMMAND");
    for (JsonNode j : jobs) {
      table.row(
          Table.text(j, "id"),
          Table.text(j, "status"),
          Table.text(j, "queue_name"),
          j.path("attempts").asInt() + "/" + j.path("max_retries").asInt(),
          Table.text(j, "worker_id"),
          Table.when(j, "created_at"),
          Table.cut(Table.text(j, "command"), 50));
    }
    table.print(root.out());
    more(root, next);
    return ExitCodes.OK;
  }

  /** Where the next page is, on stderr, so stdout stays the page. */
  private void more(Workron root, String next) {
    if (next != null) {
      root.err()
          .println(
              "more: workron list --cursor "
                  + next
                  + (status == null ? "" : " --status " + status)
                  + " --limit "
                  + limit);
    }
  }
}
