package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code -e PROGRAM} and {@code -c COMMAND} of {@code jsock connect} and {@code jsock listen}: a
 * program joined to the connection in place of stdin and stdout (see {@link Program}).
 */
final class ExecOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = {"-e", "--exec"},
      paramLabel = "PROGRAM",
      description =
          "Run PROGRAM (its arguments after it, split on blanks, no shell) for the connection:"
              + " its stdin receives what the peer sends, its stdout goes to the peer.")
  String exec;

  @Option(
      names = {"-c", "--sh-exec"},
      paramLabel = "COMMAND",
      description = "As -e, with COMMAND run by /bin/sh -c.")
  String shExec;

  /** Checks that the options fit together, and with the end-of-file options. */
  void check(BridgeOptions bridge) {
    if (exec != null && shExec != null) {
      throw usage("-e/--exec and -c/--sh-exec cannot be combined");
    }
    if (!given()) {
      return;
    }
    String option = optionName();
    if (bridge.sendOnly || bridge.recvOnly) {
      throw usage(
          (bridge.sendOnly ? "--send-only" : "--recv-only")
              + " cannot be combined with "
              + option
              + ": the program is joined to both directions");
    }
    if (exec != null && Program.words(exec).isEmpty()) {
      throw usage("-e/--exec: no program given");
    }
    if (shExec != null && shExec.isBlank()) { // /bin/sh -c '' would run nothing, and exit 0
      throw usage("-c/--sh-exec: no command given");
    }
  }

  /** Whether a program takes the place of stdin and stdout. */
  boolean given() {
    return exec != null || shExec != null;
  }

  /** The option given, for usage errors: {@code -e/--exec} or {@code -c/--sh-exec}. */
  String optionName() {
    return exec != null ? "-e/--exec" : "-c/--sh-exec";
  }

  /**
   * Lets {@code join} move the connection's data: with the program given, to and from it (started
   * for {@code conn}, waited for after, its ending by jsock said to {@code diagnostics}); without,
   * to and from stdin and stdout.
   */
  void join(Socket conn, Diagnostics diagnostics, Program.Join join)
      throws IOException, InterruptedException {
    if (!given()) {
      join.run(new StandardStreams());
      return;
    }
    Program program = exec != null ? Program.exec(exec) : Program.shell(shExec);
    try (conn) { // closed also when the program could not be started
      program.run(conn, diagnostics, join);
    }
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
