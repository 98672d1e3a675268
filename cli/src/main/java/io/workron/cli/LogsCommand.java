package io.workron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "logs",
    description = {
      "Print a job's output (its kept tail).",
      "With -f: keep printing what it writes until it ends."
    })
final class LogsCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ID", description = "The job.")
  String id;

  @Option(
      names = {"-f", "--follow"},
      description = "Follow the output until the job ends.")
  boolean follow;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    Gateway gateway = root.gateway();
    String path = "/jobs/" + Gateway.encode(id);
    // following, a job accepted but not yet stored is waited for, and so is a gateway that is
    // away for a moment, as submit --wait does
    JobWait wait = new JobWait(gateway, Progress.NONE);
    String printed = "";
    while (true) {
      String status = null;
      if (follow) {
        // the status first: output read after it holds everything a finished job wrote
        JsonNode job = wait.known(path);
        if (job == null) {
          wait.pause();
          continue;
        }
        status = Table.text(job, "status");
      }
      String tail =
          follow
              ? wait.patiently(() -> gateway.get(path + "/output").body())
              : gateway.get(path + "/output").body();
      String fresh = fresh(printed, tail);
      if (!fresh.isEmpty()) {
        root.out().print(fresh);
        root.out().flush();
        printed = tail;
      }
      if (!follow || JobWait.JOB_ENDS.contains(status)) {
        if (!printed.isEmpty() && !printed.endsWith("\n")) {
          root.out().println();
        }
        return ExitCodes.OK;
      }
      wait.pause();
    }
  }

  /**
   * What {@code tail} holds beyond what was printed from the previous tail. The gateway keeps the
   * end of the output only, so the new tail may have lost its start: it begins with some end of
   * what was printed, the longest one (found in linear time, with the prefix function of {@code
   * tail} run over the end of {@code printed}).
   */
  static String fresh(String printed, String tail) {
    if (tail.startsWith(printed)) {
      return tail.substring(printed.length());
    }
    String end = printed.substring(Math.max(0, printed.length() - tail.length()));
    int[] prefix = new int[tail.length()];
    for (int i = 1, k = 0; i < tail.length(); i++) {
      while (k > 0 && tail.charAt(i) != tail.charAt(k)) {
        k = prefix[k - 1];
      }
      if (tail.charAt(i) == tail.charAt(k)) {
        k++;
      }
      prefix[i] = k;
    }
    int matched = 0;
    for (int i = 0; i < end.length(); i++) {
      while (matched > 0 && (matched == tail.length() || end.charAt(i) != tail.charAt(matched))) {
        matched = prefix[matched - 1];
      }
      if (matched < tail.length() && end.charAt(i) == tail.charAt(matched)) {
        matched++;
      }
    }
    if (matched == 0) {
      return tail.isEmpty() ? "" : "\n[... output not kept ...]\n" + tail;
    }
    return tail.substring(matched);
  }
}
