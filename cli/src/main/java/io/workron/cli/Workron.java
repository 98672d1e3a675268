package io.workron.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code workron}: the command line of a Workron cluster, over the gateway's REST API. The gateway
 * and the token come from {@code --url} and {@code --token}, or {@code WORKRON_URL} and {@code
 * WORKRON_TOKEN}.
 */
@Command(
    name = "workron",
    mixinStandardHelpOptions = true,
    // --help and --version on every command too
    scope = ScopeType.INHERIT,
    versionProvider = Workron.Version.class,
    description = "Submit, wait for and look after Workron jobs through the gateway's REST API.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      SubmitCommand.class,
      WaitCommand.class,
      GetCommand.class,
      ListCommand.class,
      LogsCommand.class,
      CancelCommand.class,
      RetryCommand.class,
      GangCommand.class,
      WorkersCommand.class,
      QueuesCommand.class,
      SchedulesCommand.class,
      DlqCommand.class,
      TokenCommand.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0    done; submit --wait and wait: the job ended done",
      "  1    the gateway refused or failed the request",
      "  2    usage error",
      "  3    the gateway could not be reached",
      "  4    no token, or the token lacks the scope (401, 403)",
      "  5    not found (404)",
      "  submit --wait and wait: the job's own exit code if it failed with one,",
      "  120  failed without one, 122 unschedulable, 124 timed out, 125 cancelled"
    })
public final class Workron implements Runnable {

  static final String DEFAULT_URL = "http://localhost:8080";

  @Spec CommandSpec spec;

  @Option(
      names = "--url",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description = "The gateway (default: $WORKRON_URL, else " + DEFAULT_URL + ").")
  String url;

  @Option(
      names = "--token",
      scope = ScopeType.INHERIT,
      paramLabel = "TOKEN",
      description = "A bearer token (default: $WORKRON_TOKEN).")
  String token;

  private boolean terminal;
  private Gateway gateway;

  /** Runs {@code workron} with these arguments; the process ends with its exit code. */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    // no progress bar when stdout is not a terminal (a pipe, a file, a CI log)
    System.exit(run(args, System.getenv(), out, err, onATerminal()));
  }

  /**
   * Whether stdin and stdout are a terminal. {@code System.console()} says so on JDK 17 to 21 and
   * from 25; on 22 to 24 it answers a console even for a pipe, and {@code Console.isTerminal()}
   * (from 22) tells.
   */
  static boolean onATerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true; // before JDK 22: a console is a terminal
    }
  }

  /** One run, with its environment and streams given: the tests' way in. */
  static int run(
      String[] args, Map<String, String> env, PrintWriter out, PrintWriter err, boolean terminal) {
    Workron root = new Workron();
    root.terminal = terminal;
    CommandLine line = new CommandLine(root);
    // "workron submit --wait make test -j4": the command's own words after the first are its own
    line.getSubcommands().get("submit").setStopAtPositional(true);
    line.setOut(out);
    line.setErr(err);
    line.setDefaultValueProvider(
        arg -> {
          if (arg instanceof CommandLine.Model.OptionSpec option) {
            return switch (option.longestName()) {
              case "--url" -> env.getOrDefault("WORKRON_URL", DEFAULT_URL);
              case "--token" -> env.get("WORKRON_TOKEN");
              default -> null;
            };
          }
          return null;
        });
    // a usage error is one line too, with where to read more
    line.setParameterExceptionHandler(
        (e, args1) -> {
          CommandLine cmd = e.getCommandLine();
          cmd.getErr()
              .println(
                  "workron: "
                      + e.getMessage().replace('\n', ' ')
                      + " (see: "
                      + cmd.getCommandSpec().qualifiedName()
                      + " --help)");
          cmd.getErr().flush();
          return ExitCodes.USAGE;
        });
    line.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof CliException cli) {
            cmd.getErr().println("workron: " + cli.getMessage());
            cmd.getErr().flush();
            return cli.exitCode();
          }
          cmd.getErr().println("workron: unexpected error: " + e);
          cmd.getErr().flush();
          return ExitCodes.FAILED;
        });
    int code = line.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a COMMAND");
  }

  /** The root command of the command {@code spec} belongs to. */
  static Workron of(CommandSpec spec) {
    return (Workron) spec.root().userObject();
  }

  Gateway gateway() {
    if (gateway == null) {
      gateway =
          new Gateway(
              url == null || url.isBlank() ? DEFAULT_URL : url, token, Duration.ofSeconds(30));
    }
    return gateway;
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  boolean terminal() {
    return terminal;
  }

  /** The project's version, written into the jar at build time. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws java.io.IOException {
      try (java.io.InputStream in = Workron.class.getResourceAsStream("version.txt")) {
        String v = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        return new String[] {"workron " + (v.isEmpty() ? "(development build)" : v)};
      }
    }
  }
}
