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
        "List jobs newest first (by creation time, then id), a page at a time, filtered by"
            + " status, queue, worker or id prefix.")
final class ListCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--status",
      paramLabel = "STATUS",
      description =
          "Only jobs in this status (pending, running, done, failed, cancelled, blocked, ...).")
  String status;

  @Option(names = "--queue", paramLabel = "QUEUE", description = "Only jobs of this queue.")
  String queue;

  @Option(
      names = "--worker",
      paramLabel = "WORKER",
      description = "Only jobs whose latest attempt is on this worker.")
  String worker;

  @Option(
      names = "--id-prefix",
      paramLabel = "PREFIX",
      description = "Only jobs whose id starts with this.")
  String idPrefix;

  @Option(names = "--oldest-first", description = "Oldest first instead.")
  boolean oldestFirst;

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
      path.append(filters());
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

  /** The filters and the order as query parameters, each starting with {@code &}. */
  private String filters() {
    StringBuilder q = new StringBuilder();
    String[][] given = {
      {"status", status}, {"queue", queue}, {"worker", worker}, {"id_prefix", idPrefix}
    };
    for (String[] f : given) {
      if (f[1] != null) {
        q.append('&').append(f[0]).append('=').append(Gateway.encode(f[1]));
      }
    }
    if (oldestFirst) {
      q.append("&order=asc");
    }
    return q.toString();
  }

  /** The same options as flags, for the line that shows the next page. */
  private String flags() {
    StringBuilder b = new StringBuilder();
    String[][] given = {
      {"--status", status}, {"--queue", queue}, {"--worker", worker}, {"--id-prefix", idPrefix}
    };
    for (String[] f : given) {
      if (f[1] != null) {
        b.append(' ').append(f[0]).append(' ').append(f[1]);
      }
    }
    return b + (oldestFirst ? " --oldest-first" : "");
  }

  /** Where the next page is, on stderr, so stdout stays the page. */
  private void more(Workron root, String next) {
    if (next != null) {
      root.err().println("more: workron list --cursor " + next + flags() + " --limit " + limit);
    }
  }
}
