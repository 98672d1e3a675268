package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "wait",
    description = {
      "Wait for a job submitted earlier to end, as submit --wait does.",
      "Progress on a terminal, then its output; exits with its exit code."
    })
final class WaitCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ID", description = "The job.")
  String id;

  @Option(names = "--no-progress", description = "No progress bar, even on a terminal.")
  boolean noProgress;

  @Option(names = "--json", description = "Print the ended job as JSON instead of its output.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    boolean bar = root.terminal() && !noProgress && !json;
    try (Progress progress = bar ? Progress.bar(id, 0) : Progress.NONE) {
      JsonNode ended = new JobWait(root.gateway(), progress).job(id);
      progress.close();
      if (json) {
        root.out().println(ended.toPrettyString());
      } else {
        SubmitCommand.printOutcome(root, ended);
      }
      return JobWait.exitCode(ended);
    }
  }
}
