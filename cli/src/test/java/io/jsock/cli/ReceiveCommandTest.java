package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code jsock receive} in-process: which sender names it takes, and its usage errors. */
class ReceiveCommandTest {
  @Test
  void takesOnlyPlainFileNames() {
    assertThat(ReceiveCommand.isPlainFileName("data.bin")).isTrue();
    assertThat(ReceiveCommand.isPlainFileName("..data")).isTrue();
    assertThat(ReceiveCommand.isPlainFileName("ünïcode файл.txt")).isTrue();
    assertThat(ReceiveCommand.isPlainFileName("../data.bin")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName("/etc/passwd")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName("a\\b")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName("..")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName(".")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName("")).isFalse();
    assertThat(ReceiveCommand.isPlainFileName("bell\u0007")).isFalse();
  }

  @Test
  void certificateOptionsWithoutTlsAreAUsageError() {
    StringWriter err = new StringWriter();
    int code =
        Main.commandLine()
            .setErr(new PrintWriter(err, true))
            .execute("receive", "--cert", "c.pem", "--key", "k.pem", "0");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: --cert, --key, --pkcs12 and --password-env need --tls\n");
  }

  @Test
  void completionScriptCompletesTheTransferCommands() {
    StringWriter out = new StringWriter();
    assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).execute("completion"))
        .isZero();
    assertThat(out.toString())
        .contains("complete -F _complete_jsock", "send", "receive", "--keep-open");
  }
}
