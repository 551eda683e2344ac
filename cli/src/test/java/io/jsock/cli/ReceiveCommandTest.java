package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code jsock receive} in-process: which sender names it takes, and its usage errors. */
class ReceiveCommandTest {
  @Test
  void takesOnlyPlainFileNames() {
    assertThat(TransferProtocol.isPlainFileName("data.bin")).isTrue();
    assertThat(TransferProtocol.isPlainFileName("..data")).isTrue();
    assertThat(TransferProtocol.isPlainFileName("ünïcode файл.txt")).isTrue();
    assertThat(TransferProtocol.isPlainFileName("../data.bin")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("/etc/passwd")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("a\\b")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("..")).isFalse();
    assertThat(TransferProtocol.isPlainFileName(".")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("bell\u0007")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("delete\u007f")).isFalse();
    assertThat(TransferProtocol.isPlainFileName("csi\u009b2J")).isFalse(); // C1: a terminal's CSI
    assertThat(TransferProtocol.isPlainFileName("nbsp\u00a0.txt")).isTrue();
  }

  @Test
  void printableNamesShowC0DelAndC1ControlsAsQuestionMarks() {
    assertThat(TransferProtocol.printable("a\u0007b\u007fc\u009b2J\u00a0d"))
        .isEqualTo("a?b?c?2J\u00a0d");
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

  @Test
  void completionScriptOffersTheBenchScenarios() {
    // bench SCENARIO completed nothing: its converter told the script no names
    StringWriter out = new StringWriter();
    assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).execute("completion"))
        .isZero();
    assertThat(out.toString()).contains("(\"pingpong\" \"pipeline\" \"bulk\" \"connect\" \"udp\")");
  }
}
