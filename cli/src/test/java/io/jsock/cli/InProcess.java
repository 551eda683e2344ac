package io.jsock.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * What {@code jsock ARGS} did when run in this JVM ({@link Main#commandLine()}): its exit code and
 * what it wrote to stdout and stderr. For what ends before any socket outlives the call (usage
 * errors, refusals), where a JVM start would only cost time.
 */
record InProcess(int exit, String out, String err) {

  /** Runs {@code jsock args} in this JVM. */
  static InProcess run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        Main.commandLine()
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true))
            .execute(args);
    return new InProcess(exit, out.toString(), err.toString());
  }
}
