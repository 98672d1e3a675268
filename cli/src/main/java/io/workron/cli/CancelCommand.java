package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "cancel",
    description =
        "Cancel a job; a running attempt is stopped (a gang task cancels its whole gang).")
final class CancelCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ID", description = "The job.")
  String id;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why; kept in the job's history.")
  String reason;

  @Option(names = "--json", description = "The job as the gateway answers it.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    String body =
        reason == null ? null : Gateway.JSON.createObjectNode().put("reason", reason).toString();
    Gateway.Reply reply =
        root.gateway().post("/jobs/" + Gateway.encode(id) + "/cancel", body, java.util.Map.of());
    JsonNode job = reply.json();
    if (json) {
      root.out().println(job.toPrettyString());
    } else if (reply.status() == 202) {
      root.out().println(id + ": cancel requested; its running attempt is being stopped");
    } else {
      root.out().println(id + ": " + Table.text(job, "status"));
    }
    return ExitCodes.OK;
  }
}
