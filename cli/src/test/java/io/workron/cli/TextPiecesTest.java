package io.workron.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextPiecesTest {

  @Test
  void followingPrintsOnlyWhatIsNewEvenWhenTheKeptTailLostItsStart() {
    assertThat(LogsCommand.fresh("", "one\n")).isEqualTo("one\n");
    assertThat(LogsCommand.fresh("one\n", "one\ntwo\n")).isEqualTo("two\n");
    assertThat(LogsCommand.fresh("one\ntwo\n", "one\ntwo\n")).isEmpty();
    // the gateway keeps the tail only: the start moved out, the new lines follow what was printed
    assertThat(LogsCommand.fresh("aaa\nbbb\n", "bbb\nccc\n")).isEqualTo("ccc\n");
    assertThat(LogsCommand.fresh("x\nx\nx\n", "x\nx\nx\ny\n")).isEqualTo("y\n");
    assertThat(LogsCommand.fresh("a".repeat(70_000) + "end\n", "a".repeat(60_000) + "end\nmore\n"))
        .isEqualTo("more\n");
    // nothing printed is left in the tail: say so rather than print a seam
    assertThat(LogsCommand.fresh("old\n", "new\n")).isEqualTo("\n[... output not kept ...]\nnew\n");
  }

  @Test
  void durationsAsPeopleTypeThem() {
    picocli.CommandLine line = new picocli.CommandLine(new SubmitCommand());
    assertThat(Durations.seconds(line, "--timeout", "90")).isEqualTo(90);
    assertThat(Durations.seconds(line, "--timeout", "90s")).isEqualTo(90);
    assertThat(Durations.seconds(line, "--timeout", "5m")).isEqualTo(300);
    assertThat(Durations.seconds(line, "--timeout", "1h30m")).isEqualTo(5400);
    assertThat(Durations.seconds(line, "--timeout", "2H")).isEqualTo(7200);
  }
}
