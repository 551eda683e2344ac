package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgramTest {
  private final StringWriter err = new StringWriter();

  @Test
  void execSplitsOnBlanksWithBackslashEscapesAsNcatDoes() {
    assertThat(Program.exec("/bin/echo  a\tb ").command()).containsExactly("/bin/echo", "a", "b");
    assertThat(Program.exec("my\\ tool x\\\\y 'q r'").command())
        .containsExactly("my tool", "x\\y", "'q", "r'"); // no shell: quotes are characters
    assertThat(Program.shell("echo $HOME; cat").command())
        .containsExactly("/bin/sh", "-c", "echo $HOME; cat");
  }

  @Test
  void execOptionsRefuseWhatCannotGoWithAProgram() {
    assertUsage("-e/--exec and -c/--sh-exec cannot be combined", "connect", "-e", "x", "-c", "y");
    assertUsage(
        "--send-only cannot be combined with -e/--exec: the program is joined to both directions",
        "listen",
        "--send-only",
        "-e",
        "/bin/cat",
        "0");
    assertUsage(
        "--recv-only cannot be combined with -c/--sh-exec",
        "connect",
        "--recv-only",
        "-c",
        "cat",
        "127.0.0.1",
        "1");
    assertUsage("-e/--exec: no program given", "connect", "-e", " ", "127.0.0.1", "1");
    assertUsage(
        "-c/--sh-exec is not for -u -k: jsock runs no program per UDP sender",
        "listen",
        "-u",
        "-k",
        "-c",
        "cat",
        "0");
  }

  private void assertUsage(String message, String... args) {
    int code = Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
    assertThat(code).as("exit code of %s", String.join(" ", args)).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: " + message).contains("--help' for more");
    err.getBuffer().setLength(0);
  }
}
