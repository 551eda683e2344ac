package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jsock send} in-process: its usage errors, each naming what is wrong. */
class SendCommandTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
  }

  @Test
  void aMissingFileIsAUsageErrorNamingIt(@TempDir Path dir) {
    Path missing = dir.resolve("missing.bin");
    assertThat(run("send", missing.toString(), "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: FILE: " + missing + " does not exist (send takes a regular file)\n");
  }

  @Test
  void anUnreadableFileIsAUsageErrorSayingSo(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("secret.bin"), "x");
    Files.setPosixFilePermissions(file, Set.of());
    // root reads it all the same: checked by hand as another user (setpriv --reuid=65534)
    Assumptions.assumeFalse(Files.isReadable(file), "this user can read a file of mode 000");
    assertThat(run("send", file.toString(), "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: FILE: " + file + ": permission denied\n");
  }

  @Test
  void aDirectoryIsAUsageError(@TempDir Path dir) {
    assertThat(run("send", dir.toString(), "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: FILE: " + dir + " is a directory");
  }

  @Test
  void aDeviceIsAUsageErrorThatPointsToStandardInput() {
    assertThat(run("send", "/dev/null", "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith(
            "jsock: FILE: /dev/null is not a regular file (send takes a regular file; send -"
                + " reads standard input, as from a device or a pipe)\n");
  }

  @Test
  void aNameWithControlCharactersIsAUsageErrorThatShowsThemAsQuestionMarks(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    assertThat(run("send", "--name", "csi\u009b2J bell\u0007", file.toString(), "127.0.0.1", "9"))
        .isEqualTo(2);
    assertThat(err.toString())
        .startsWith(
            "jsock: --name: not a plain file name (a path, '.', '..' or control characters):"
                + " csi?2J bell?\n");
  }

  @Test
  void portZeroIsAUsageError(@TempDir Path dir) throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("a.txt"), "a");
    assertThat(run("send", file.toString(), "127.0.0.1", "0")).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: PORT: 0 is not a port one can connect to\n");
  }

  @Test
  void aBadRateNamesTheOption(@TempDir Path dir) {
    assertThat(run("send", "--rate", "0", dir.toString(), "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: Invalid value for option '--rate': rate must be above zero: '0'");
  }

  @Test
  void tlsTrustOptionsNeedTls(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "x");
    assertThat(run("send", "--insecure", file.toString(), "127.0.0.1", "9")).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: --ca, --server-name and --insecure need --tls\n");
  }

  @Test
  void receiveIntoAMissingDirectoryIsAUsageError(@TempDir Path dir) {
    Path target = dir.resolve("no/such/out.bin");
    assertThat(run("receive", "0", target.toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: FILE: no directory " + target.getParent());
  }
}
