package io.workron.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** One {@code workron} run in this JVM: its exit code and what it printed. */
record Run(int code, String out, String err) {

  static Run of(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Workron.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true), false);
    return new Run(code, out.toString(), err.toString());
  }

  @Override
  public String toString() {
    return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
  }
}
