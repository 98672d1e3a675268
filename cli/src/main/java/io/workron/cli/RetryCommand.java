package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "retry",
    description = "Run a failed or cancelled job again, with a fresh attempt budget.")
final class RetryCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ID", description = "The job.")
  String id;

  @Option(names = "--cascade", description = "Also revive the jobs cancelled because of it.")
  boolean cascade;

  @Option(names = "--json", description = "The gateway's answer as JSON.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    JsonNode retried =
        root.gateway()
            .post(
                "/jobs/" + Gateway.encode(id) + "/retry" + (cascade ? "?cascade=true" : ""),
                null,
                java.util.Map.of())
            .json();
    if (json) {
      root.out().println(retried.toPrettyString());
      return ExitCodes.OK;
    }
    StringBuilder line = new StringBuilder(id).append(": ").append(Table.text(retried, "status"));
    JsonNode revived = retried.get("revived");
    if (revived != null && revived.isArray() && !revived.isEmpty()) {
      line.append("; revived ");
      for (int i = 0; i < revived.size(); i++) {
        line.append(i == 0 ? "" : ", ").append(revived.get(i).asString());
      }
    }
    root.out().println(line);
    return ExitCodes.OK;
  }
}
