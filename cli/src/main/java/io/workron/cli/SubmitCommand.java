package io.workron.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

@Command(
    name = "submit",
    description = {
      "Submit a shell command as a job (or a gang of tasks), and print its id.",
      "With --wait: show progress while it waits and runs (on a terminal), print its output and"
          + " exit with its exit code."
    })
final class SubmitCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "COMMAND",
      arity = "0..*",
      description =
          "The shell command (its words are joined with spaces; quote it or put it after --).")
  List<String> command = new ArrayList<>();

  @Option(
      names = {"-f", "--file"},
      paramLabel = "FILE",
      description =
          "A job as JSON, as POST /jobs takes it ('-' reads stdin); the options below override its fields.")
  String file;

  @Option(names = "--queue", paramLabel = "QUEUE", description = "The queue (default: default).")
  String queue;

  @Option(names = "--priority", paramLabel = "N", description = "Higher runs first (default 0).")
  Integer priority;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Stop an attempt after this long: seconds, or e.g. 90s, 5m, 2h, 1h30m.")
  String timeout;

  @Option(names = "--max-retries", paramLabel = "N", description = "Attempts allowed in all.")
  Integer maxRetries;

  @Option(
      names = "--depends-on",
      paramLabel = "ID",
      split = ",",
      description = "Start only after these jobs are done (repeat it, or a comma list).")
  List<String> dependsOn = new ArrayList<>();

  @Option(names = "--gang", paramLabel = "N", description = "A gang of N tasks, all or nothing.")
  Integer gang;

  @Option(names = "--vram-mb", paramLabel = "MB", description = "GPU memory each attempt needs.")
  Integer vramMb;

  @Option(names = "--memory-mb", paramLabel = "MB", description = "Memory each attempt needs.")
  Integer memoryMb;

  @Option(
      names = "--idempotency-key",
      paramLabel = "KEY",
      description = "The same key submits the same job once, however often it is sent.")
  String idempotencyKey;

  @Option(names = "--wait", description = "Wait for the job to end; exit with its exit code.")
  boolean await;

  @Option(names = "--no-progress", description = "No progress bar, even on a terminal.")
  boolean noProgress;

  @Option(
      names = "--json",
      description = "Print the gateway's answer (with --wait: the ended job) as JSON.")
  boolean json;

  @Override
  public Integer call() {
    Workron root = Workron.of(spec);
    ObjectNode body = body();
    Map<String, String> headers = new LinkedHashMap<>();
    if (idempotencyKey != null) {
      headers.put("Idempotency-Key", idempotencyKey);
    }
    JsonNode answer = root.gateway().post("/jobs", body.toString(), headers).json();
    String gangId = Table.text(answer, "gang_id");
    boolean isGang = gangId != null && answer.has("tasks");
    String id = isGang ? gangId : Table.text(answer, "id");
    if (!await) {
      root.out().println(json ? answer.toPrettyString() : id);
      return ExitCodes.OK;
    }
    boolean bar = root.terminal() && !noProgress && !json;
    try (Progress progress =
        bar ? Progress.bar(id, isGang ? answer.path("tasks").size() : 0) : Progress.NONE) {
      JobWait wait = new JobWait(root.gateway(), progress);
      if (isGang) {
        JsonNode ended = wait.gang(gangId);
        progress.close();
        if (json) {
          root.out().println(ended.toPrettyString());
        } else {
          GangCommand.print(root.out(), ended);
        }
        return JobWait.gangExitCode(ended);
      }
      JsonNode ended = wait.job(id);
      progress.close();
      if (json) {
        root.out().println(ended.toPrettyString());
      } else {
        printOutcome(root, ended);
      }
      return JobWait.exitCode(ended);
    }
  }

  /** The job's output on stdout, and on stderr how it ended when it did not end done. */
  static void printOutcome(Workron root, JsonNode job) {
    String output = Table.text(job, "output");
    if (job.path("output_truncated").asBoolean()) {
      root.err().println("workron: (the start of the output was not kept; this is its tail)");
    }
    if (output != null && !output.isEmpty()) {
      root.out().print(output);
      if (!output.endsWith("\n")) {
        root.out().println();
      }
      root.out().flush();
    }
    String status = Table.text(job, "status");
    if (!"done".equals(status)) {
      String reason = Table.text(job, "failure_reason");
      JsonNode code = job.get("exit_code");
      String exit =
          "failed".equals(status) && code != null && code.isIntegralNumber()
              ? "exit code " + code.asInt()
              : null;
      StringBuilder line =
          new StringBuilder("workron: job ")
              .append(Table.text(job, "id"))
              .append(' ')
              .append(status);
      if (exit != null) {
        line.append(" with ").append(exit);
      }
      if (reason != null && !reason.equals(exit)) {
        line.append(": ").append(reason);
      }
      root.err().println(line);
    }
    root.err().flush();
  }

  private ObjectNode body() {
    ObjectNode body;
    if (file != null) {
      JsonNode read;
      try {
        String text =
            file.equals("-")
                ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
        read = Gateway.JSON.readTree(text);
      } catch (IOException e) {
        throw new CliException(ExitCodes.USAGE, "cannot read " + file + ": " + e.getMessage());
      } catch (JacksonException e) {
        throw new CliException(ExitCodes.USAGE, file + " is not JSON: " + e.getOriginalMessage());
      }
      if (!(read instanceof ObjectNode object)) {
        throw new CliException(ExitCodes.USAGE, file + " must hold one JSON object, a job");
      }
      body = object;
    } else {
      body = Gateway.JSON.createObjectNode();
    }
    if (!command.isEmpty()) {
      body.put("command", String.join(" ", command));
    }
    if (!body.hasNonNull("command")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "name the COMMAND to run, or a --file with a \"command\"");
    }
    if (queue != null) {
      body.put("queue_name", queue);
    }
    if (priority != null) {
      body.put("priority", priority);
    }
    if (timeout != null) {
      body.put("timeout_seconds", Durations.seconds(spec.commandLine(), "--timeout", timeout));
    }
    if (maxRetries != null) {
      body.put("max_retries", maxRetries);
    }
    if (!dependsOn.isEmpty()) {
      ArrayNode ids = body.putArray("depends_on");
      dependsOn.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(ids::add);
    }
    if (gang != null) {
      body.put("gang_size", gang);
    }
    if (vramMb != null || memoryMb != null) {
      ObjectNode resources =
          body.get("resources") instanceof ObjectNode r ? r : body.putObject("resources");
      if (vramMb != null) {
        resources.put("vram_mb", vramMb);
      }
      if (memoryMb != null) {
        resources.put("memory_mb", memoryMb);
      }
    }
    return body;
  }
}
