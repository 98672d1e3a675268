package io.workron.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

@Command(
    name = "dlq",
    description =
        "Dead letters (admin): messages a consumer refused, newest first, with why; show one whole"
            + " or replay it to the topic it was refused from.",
    subcommands = {DlqCommand.ListLetters.class, DlqCommand.Show.class, DlqCommand.Replay.class})
final class DlqCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return new ListLetters().run(Workron.of(spec), spec, null, 20, null, false);
  }

  /** {@code topic/partition@offset}, as the list prints a dead letter. */
  static final Pattern WHERE = Pattern.compile("([A-Za-z0-9._-]{1,249})/(\\d{1,10})@(\\d{1,19})");

  static String path(CommandSpec spec, String where) {
    Matcher m = WHERE.matcher(where);
    if (!m.matches()) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "a dead letter is TOPIC/PARTITION@OFFSET, as workron dlq lists it: " + where);
    }
    return "/dead-letters/" + m.group(1) + "/" + m.group(2) + "/" + m.group(3);
  }

  @Command(name = "list", description = "The dead-letter topics and their newest dead letters.")
  static final class ListLetters implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--topic",
        paramLabel = "TOPIC",
        description = "Only this dead-letter topic (or the topic it serves).")
    String topic;

    @Option(names = "--limit", paramLabel = "N", description = "Per page, 1 to 200 (default 20).")
    int limit = 20;

    @Option(
        names = "--cursor",
        paramLabel = "CURSOR",
        description = "The page after this cursor (printed under a page).")
    String cursor;

    @Option(names = "--json", description = "The page as the gateway answers it.")
    boolean json;

    @Override
    public Integer call() {
      return run(Workron.of(spec), spec, topic, limit, cursor, json);
    }

    int run(Workron root, CommandSpec spec, String topic, int limit, String cursor, boolean json) {
      if (limit < 1 || limit > 200) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--limit must be 1 to 200: " + limit);
      }
      StringBuilder path = new StringBuilder("/dead-letters?limit=").append(limit);
      if (topic != null) {
        path.append("&topic=").append(Gateway.encode(topic));
      }
      if (cursor != null) {
        path.append("&cursor=").append(Gateway.encode(cursor));
      }
      JsonNode page = root.gateway().get(path.toString()).json();
      if (json) {
        root.out().println(page.toPrettyString());
        return ExitCodes.OK;
      }
      Table topics = new Table("TOPIC", "RECORDS");
      page.path("topics")
          .forEach(t -> topics.row(Table.text(t, "topic"), t.path("records").asLong()));
      topics.print(root.out());
      root.out().println();
      Table letters = new Table("DEAD LETTER", "AT", "REASON", "KEY", "REPLAYED", "ERROR");
      for (JsonNode l : page.path("dead_letters")) {
        JsonNode replayed = l.path("replayed");
        letters.row(
            Table.text(l, "topic")
                + "/"
                + l.path("partition").asInt()
                + "@"
                + l.path("offset").asLong(),
            Table.when(l, "at"),
            Table.text(l, "reason"),
            Table.cut(Table.text(l, "key"), 40),
            replayed.isObject()
                ? replayed.path("replays").asInt() + "x, by " + Table.text(replayed, "by")
                : l.path("replayable").asBoolean() ? "no" : "cannot (bounded copy)",
            Table.cut(Table.text(l, "error"), 60));
      }
      if (letters.isEmpty()) {
        root.out().println("no dead letters");
      } else {
        letters.print(root.out());
      }
      JsonNode next = page.path("next_cursor");
      if (next.isString()) {
        root.err()
            .println(
                "more: workron dlq list --cursor "
                    + next.asString()
                    + (topic == null ? "" : " --topic " + topic)
                    + " --limit "
                    + limit);
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "show", description = "One dead letter, with its whole value.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "TOPIC/PARTITION@OFFSET", description = "As workron dlq lists it.")
    String where;

    @Option(names = "--json", description = "The dead letter as the gateway answers it.")
    boolean json;

    @Override
    public Integer call() {
      Workron root = Workron.of(spec);
      JsonNode l = root.gateway().get(path(spec, where)).json();
      if (json) {
        root.out().println(l.toPrettyString());
        return ExitCodes.OK;
      }
      for (String field :
          new String[] {"at", "reason", "error", "origin", "key", "original_size", "truncated"}) {
        root.out().println(field + ": " + Table.text(l, field));
      }
      JsonNode replayed = l.path("replayed");
      root.out()
          .println(
              "replayed: "
                  + (replayed.isObject()
                      ? replayed.path("replays").asInt()
                          + "x, last at "
                          + Table.text(replayed, "at")
                          + " by "
                          + Table.text(replayed, "by")
                          + " to "
                          + Table.text(replayed, "to")
                      : "no"));
      root.out().println("value (" + Table.text(l, "value_encoding") + "):");
      root.out().println(l.path("value").asString(""));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "replay",
      description = "Send a dead letter back to the topic it was refused from (after a fix).")
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "TOPIC/PARTITION@OFFSET", description = "As workron dlq lists it.")
    String where;

    @Option(names = "--again", description = "Send it again although it was replayed before.")
    boolean again;

    @Override
    public Integer call() {
      Workron root = Workron.of(spec);
      JsonNode a =
          root.gateway()
              .post(path(spec, where) + "/replay" + (again ? "?again=true" : ""), null, Map.of())
              .json();
      root.out().println(where + ": replayed to " + Table.text(a, "replayed_to"));
      return ExitCodes.OK;
    }
  }
}
