package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void aTransferLeavesNoDirectBufferForTheCollectorToFree(@TempDir Path dir) throws Exception {
    // receive's 256 KiB buffer and the SHA-256's 1 MiB were direct buffers per transfer, freed
    // only by a collection: a receive -k held N times that until one came (a collection in
    // between would hide part of the growth, never make it appear)
    byte[] data = new byte[1 << 20];
    new Random(7).nextBytes(data);
    Path file = Files.write(dir.resolve("data.bin"), data);
    transfer(file, dir.resolve("warm.bin")); // the JDK's own buffers, made once
    long before = DirectMemory.used();
    int transfers = 8;
    for (int i = 0; i < transfers; i++) {
      Path received = dir.resolve("out" + i + ".bin");
      transfer(file, received);
      assertThat(Files.readAllBytes(received)).isEqualTo(data);
    }
    // the transfers held 256 KiB and 1 MiB each until a collection; less than half of that leaves
    // room for a direct buffer another thread of the test JVM takes meanwhile
    assertThat(DirectMemory.used() - before).isLessThan(transfers * 512L * 1024);
  }

  /** One {@code jsock receive 0 TARGET} and {@code jsock send FILE} to it, in-process. */
  private static void transfer(Path file, Path target) throws Exception {
    CompletableFuture<String> listening = new CompletableFuture<>();
    StringBuilder said = new StringBuilder();
    Writer receiverErr =
        new Writer() {
          @Override
          public synchronized void write(char[] chars, int off, int len) {
            said.append(chars, off, len);
            Matcher port = Pattern.compile("receiving on 127\\.0\\.0\\.1:(\\d+)\n").matcher(said);
            if (port.find()) {
              listening.complete(port.group(1));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    CompletableFuture<Integer> receiver =
        CompletableFuture.supplyAsync(
            () ->
                Main.commandLine()
                    .setOut(new PrintWriter(new StringWriter(), true))
                    .setErr(new PrintWriter(receiverErr, true))
                    .execute("receive", "0", target.toString()));
    String port = listening.get(30, TimeUnit.SECONDS);
    StringWriter senderErr = new StringWriter();
    int sent =
        Main.commandLine()
            .setOut(new PrintWriter(new StringWriter(), true))
            .setErr(new PrintWriter(senderErr, true))
            .execute("send", file.toString(), "127.0.0.1", port);
    assertThat(sent).as(senderErr.toString()).isZero();
    assertThat(receiver.get(30, TimeUnit.SECONDS)).as(said.toString()).isZero();
  }
}
