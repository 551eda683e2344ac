package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Shutdown;
import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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

  /**
   * Ncat 7.93's own cases (ncat/test/test-cmdline-split.c) and its quirks, checked with {@code ncat
   * -l -e '/usr/bin/printf [%s] …'}: a backslash that ends the line is dropped, and blanks right
   * after an escaped character other than a backslash are skipped, the word going on. jsock kept
   * the last backslash ({@code [x][a\]} for {@code x a\}) and ended the word at such blanks.
   */
  @Test
  void execSplitsExactlyAsNcatsCmdlineSplitWithItsQuirks() {
    Map<String, List<String>> ncat = new LinkedHashMap<>();
    ncat.put(
        "t\\ p\\ s hello world how\\ are you?",
        List.of("t p s", "hello", "world", "how are", "you?"));
    ncat.put("ncat\\", List.of("ncat"));
    ncat.put("a\\nb", List.of("anb"));
    ncat.put(" ncat a ", List.of("ncat", "a"));
    ncat.put("\\ncat \\a", List.of("ncat", "a"));
    ncat.put("ncat\\\\ a", List.of("ncat\\", "a"));
    ncat.put("ncat\\ \\", List.of("ncat "));
    ncat.put("p a\\x  b c", List.of("p", "axb", "c")); // ncat 7.93: [axb][c]
    ncat.put("p a\\  b", List.of("p", "a b")); // [a b]
    ncat.put("p x a\\", List.of("p", "x", "a")); // [x][a]
    ncat.put("p q\13r", List.of("p", "q", "r")); // a vertical tab is a C blank
    ncat.put("p q\u001cr \u2003", List.of("p", "q\u001cr", "\u2003")); // Java's, not C's
    ncat.forEach(
        (line, words) ->
            assertThat(Program.exec(line).command()).as("words of '%s'", line).isEqualTo(words));
  }

  /**
   * Ncat skips the blanks after an escaped byte, and a backslash escapes one byte: before a
   * character of several UTF-8 bytes it escapes the first, and the next is no blank, so the word
   * ends at the blanks as usual ({@code \é b} is [é][b] to ncat). jsock skipped them after any
   * escaped character, running {@code éb}. Found by ProgramWordsFuzzTest.
   */
  @Test
  void execEndsTheWordAtBlanksAfterAnEscapedNonAsciiCharacterAsNcatDoes() {
    Map<String, List<String>> ncat = new LinkedHashMap<>();
    ncat.put("p \\é b", List.of("p", "é", "b"));
    ncat.put("p \\\u2249\t\t\u01c1\n", List.of("p", "\u2249", "\u01c1"));
    ncat.put("p \\\ud83d\ude00 x", List.of("p", "\ud83d\ude00", "x"));
    ncat.put("p \\e b", List.of("p", "eb")); // one byte: the quirk as before
    ncat.forEach(
        (line, words) ->
            assertThat(Program.exec(line).command()).as("words of '%s'", line).isEqualTo(words));
  }

  /**
   * The addresses in the environment are getnameinfo's numeric ones, as ncat's: an IPv6 address
   * keeps its scope, a link-local one as its interface's name. jsock used to drop the scope, so
   * that a program could not reach a link-local peer back.
   */
  @Test
  void addressVariablesKeepAnIpv6ScopeAsNcatsNumericGetnameinfo() throws Exception {
    NetworkInterface lo = NetworkInterface.getByName("lo");
    byte[] fe80 = new byte[16];
    fe80[0] = (byte) 0xfe;
    fe80[1] = (byte) 0x80;
    fe80[15] = 1;
    var linkLocal =
        new InetSocketAddress(Inet6Address.getByAddress(null, fe80, lo.getIndex()), 5000);
    assertThat(Program.addressVariables("REMOTE", linkLocal))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("JSOCK_REMOTE_ADDR", "fe80::1%lo", "JSOCK_REMOTE_PORT", "5000"));
    var loopback = new InetSocketAddress(Inet6Address.getByName("::1"), 22);
    assertThat(Program.addressVariables("LOCAL", loopback))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("JSOCK_LOCAL_ADDR", "::1", "JSOCK_LOCAL_PORT", "22"));
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
    assertUsage("-e/--exec: no program given", "listen", "-e", "", "0");
    assertUsage("-c/--sh-exec: no command given", "connect", "-c", "", "127.0.0.1", "1");
    assertUsage("-c/--sh-exec: no command given", "listen", "-k", "-c", " \t", "0");
    // -u -k -c runs a program per sender (UdpExecIT); without a program, -u -k has no clients
    // for --max-clients to count, nor an idle one for -i to close
    assertUsage(
        "--max-clients is for -k over TCP or -U, or -u -k with -e/-c",
        "listen",
        "-u",
        "-k",
        "--max-clients",
        "2",
        "0");
    assertUsage(
        "--idle-timeout is not for -u -k without -e/-c", "listen", "-u", "-k", "-i", "1s", "0");
  }

  /**
   * {@code connect -e} with a program that cannot be started exits 1 naming it, and closes the
   * connection it made for it. (In-process: {@link ExecIT} runs {@code listen -k}'s case.)
   */
  @Test
  void connectExitsOneNamingAProgramThatCannotBeStarted() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(Duration.ofSeconds(60));
      String port = "" + ((InetSocketAddress) listener.getSockName()).getPort();
      int code =
          Main.commandLine()
              .setOut(new PrintWriter(new StringWriter(), true))
              .setErr(new PrintWriter(err, true))
              .execute("connect", "-e", "/nonexistent/prog --flag", "127.0.0.1", port);
      assertThat(code).as(err.toString()).isEqualTo(1);
      assertThat(err.toString())
          .startsWith("jsock: Cannot run program \"/nonexistent/prog\"")
          .contains("No such file or directory");
      try (Socket peer = listener.accept().conn()) {
        peer.setTimeout(Duration.ofSeconds(60));
        assertThat(peer.recv(100)).isEmpty();
      }
    }
  }

  /**
   * {@code connect -v -c} whose program closes its stdout and goes on running after the server's
   * end of file: the connection is done, the program is ended a second later, and -v says so,
   * naming it and its pid. jsock used to end it without a word.
   */
  @Test
  void connectVerboseSaysThatItEndedAProgramThatOutlivedItsConnection() throws Exception {
    String program = "echo $$; exec 1>&-; exec sleep 600";
    try (Socket listener = Socket.create();
        var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(Duration.ofSeconds(60));
      String port = "" + ((InetSocketAddress) listener.getSockName()).getPort();
      CompletableFuture<Integer> code =
          CompletableFuture.supplyAsync(
              () ->
                  Main.commandLine()
                      .setOut(new PrintWriter(new StringWriter(), true))
                      .setErr(new PrintWriter(err, true))
                      .execute("connect", "-v", "-c", program, "127.0.0.1", port),
              executor);
      try (Socket peer = listener.accept().conn()) {
        peer.setTimeout(Duration.ofSeconds(60));
        String pid = readToEnd(peer).strip(); // its stdout closed: the connection half-closed
        ProcessHandle sleep = ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
        try {
          peer.shutdown(Shutdown.SHUT_WR); // the connection is done; its sleep runs on
          assertThat(code.get(60, TimeUnit.SECONDS)).as(err.toString()).isZero();
          assertThat(sleep.isAlive()).isFalse();
          assertThat(err.toString())
              .contains(
                  "jsock: ended /bin/sh -c '%s' (pid %s): still running 1 s after its connection was done\n"
                      .formatted(program, pid))
              .doesNotContain("exited with status");
        } finally {
          sleep.destroy(); // should the test fail: no sleep left behind
        }
      }
    }
  }

  private static String readToEnd(Socket peer) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < 1000; i++) { // bounded: each read waits at most the socket's timeout
      byte[] chunk = peer.recv(4096);
      if (chunk.length == 0) {
        return all.toString(java.nio.charset.StandardCharsets.UTF_8);
      }
      all.writeBytes(chunk);
    }
    throw new AssertionError("no end of file after " + all.size() + " bytes");
  }

  private void assertUsage(String message, String... args) {
    int code = Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
    assertThat(code).as("exit code of %s", String.join(" ", args)).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: " + message).contains("--help' for more");
    err.getBuffer().setLength(0);
  }
}
