package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock connect} and {@code ./jsock listen} with {@code
 * -e}/{@code -c}, and real programs): the program's stdin and stdout joined to the peer, the
 * half-close in both orders, one program per client at once with {@code -k}, the environment, the
 * exit code of a program that fails or cannot start, and no program left running after SIGTERM.
 * Peers are sockets of this test on loopback or in a temporary directory.
 */
class ExecIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void listenExecCatEchoesOverTcpAndAfUnixAndEndsWhenCatHasExited() throws Exception {
    try (PipedProcess listen = jsock("listen", "-e", "/bin/cat", "0")) {
      try (Socket peer = Sockets.createConnection("127.0.0.1", listen.listeningPort())) {
        assertEcho(peer);
      }
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
    Path path = dir.resolve("exec.sock");
    try (PipedProcess listen = jsock("listen", "-v", "-U", path.toString(), "-e", "/bin/cat")) {
      listen.awaitStderr("listening on");
      try (Socket peer = Socket.create(io.jsock.Family.AF_UNIX, io.jsock.SocketKind.SOCK_STREAM)) {
        peer.connect(UnixDomainSocketAddress.of(path));
        assertEcho(peer);
      }
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  /** Sends, half-closes, and reads the echo up to the end of file cat's exit makes. */
  private static void assertEcho(Socket peer) throws IOException {
    peer.setTimeout(LIMIT);
    peer.sendAll("hello\n".getBytes(UTF_8));
    peer.shutdown(Shutdown.SHUT_WR);
    assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("hello\n");
  }

  /**
   * The program's stdout ending first half-closes the connection, and the peer's data still goes to
   * its stdin after that; jsock exits only once the peer has closed and the program exited.
   */
  @Test
  void theProgramsEndOfStdoutHalfClosesWhileThePeersDataStillReachesIt() throws Exception {
    try (PipedProcess listen =
        jsock("listen", "-c", "echo first; exec 1>&-; cat > '" + dir + "/late.txt'", "0")) {
      try (Socket peer = Sockets.createConnection("127.0.0.1", listen.listeningPort())) {
        peer.setTimeout(LIMIT);
        assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("first\n");
        assertThat(listen.isAlive()).isTrue(); // the peer's side is still open
        peer.sendAll("late\n".getBytes(UTF_8));
        peer.shutdown(Shutdown.SHUT_WR);
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
      assertThat(dir.resolve("late.txt")).hasContent("late");
    }
  }

  /**
   * {@code listen -k -c}: two clients served at once, each by a program of its own that sees its
   * client's port in JSOCK_REMOTE_PORT. Each program goes on after its stdout has ended (a sleep),
   * so jsock still waits for it; SIGTERM to jsock then destroys both (they outlived it before).
   */
  @Test
  void listenKeepOpenRunsOneProgramPerClientAtOnceAndEndsThemOnSigterm() throws Exception {
    String program =
        "echo \"$JSOCK_PROTO $JSOCK_LOCAL_ADDR $JSOCK_REMOTE_ADDR $JSOCK_REMOTE_PORT $$\";"
            + " cat; exec sleep 300 >/dev/null";
    try (PipedProcess listen = jsock("listen", "-k", "-c", program, "0")) {
      int port = listen.listeningPort();
      try (Socket first = Sockets.createConnection("127.0.0.1", port);
          Socket second = Sockets.createConnection("127.0.0.1", port)) {
        String[] firstLine = greeting(first);
        String[] secondLine = greeting(second); // while the first client's program still runs
        assertThat(List.of(firstLine).subList(0, 4))
            .containsExactly("TCP", "127.0.0.1", "127.0.0.1", "" + localPort(first));
        assertThat(secondLine[3]).isEqualTo("" + localPort(second));
        assertEcho(second); // the end of file comes as the program's stdout ends, before it exits
        List<ProcessHandle> programs =
            List.of(
                ProcessHandle.of(Long.parseLong(firstLine[4])).orElseThrow(),
                ProcessHandle.of(Long.parseLong(secondLine[4])).orElseThrow());
        try {
          assertThat(programs).allMatch(ProcessHandle::isAlive);
          new ProcessBuilder("kill", "-TERM", "" + listen.pid()).inheritIO().start().waitFor();
          assertThat(listen.exitCode()).isEqualTo(143);
          await().atMost(LIMIT).until(() -> programs.stream().noneMatch(ProcessHandle::isAlive));
        } finally {
          programs.forEach(ProcessHandle::destroy); // should the test fail: none left behind
        }
      }
    }
  }

  /** The line the program writes first, split on blanks. */
  private static String[] greeting(Socket peer) throws IOException {
    peer.setTimeout(LIMIT);
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (!line.toString(UTF_8).endsWith("\n")) { // bounded by the timeout and the line's end
      byte[] chunk = peer.recv(1);
      if (chunk.length == 0) {
        throw new AssertionError("end of file after " + line);
      }
      line.writeBytes(chunk);
    }
    return line.toString(UTF_8).strip().split(" ");
  }

  private static int localPort(Socket peer) throws IOException {
    return ((InetSocketAddress) peer.getSockName()).getPort();
  }

  /**
   * {@code connect -c} whose program speaks first and then answers; a program exiting with status 3
   * makes jsock exit 1 and say so, after the exchange.
   */
  @Test
  void connectExecRunsAProgramThatSpeaksFirstAndReportsItsFailureStatus() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(LIMIT);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      String program = "echo hello; read line; echo \"got $line\"; exit 3";
      try (PipedProcess connect = jsock("connect", "-c", program, "127.0.0.1", "" + port);
          Socket peer = listener.accept().conn()) {
        peer.setTimeout(LIMIT);
        assertThat(new String(peer.recv(100), UTF_8)).isEqualTo("hello\n");
        peer.sendAll("x\n".getBytes(UTF_8));
        assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("got x\n");
        peer.close();
        assertThat(connect.exitCode()).isEqualTo(1);
        assertThat(connect.stderr())
            .isEqualTo("jsock: /bin/sh -c '" + program + "' exited with status 3\n");
      }
    }
  }

  /**
   * A program that cannot be started: {@code connect} exits 1 naming it; {@code listen -k} says so
   * for each client, closes it, and goes on serving.
   */
  @Test
  void aProgramThatDoesNotExistIsNamedAndListenKeepOpenGoesOn() throws Exception {
    try (PipedProcess listen = jsock("listen", "-k", "-e", "/nonexistent/prog --flag", "0")) {
      int port = listen.listeningPort();
      for (int i = 0; i < 2; i++) { // the second client proves the listener goes on
        try (Socket peer = Sockets.createConnection("127.0.0.1", port)) {
          peer.setTimeout(LIMIT);
          assertThat(readToEnd(peer)).isEmpty();
        }
      }
      await()
          .atMost(LIMIT)
          .until(
              () -> listen.stderr().split("Cannot run program \"/nonexistent/prog\"").length == 3);
      assertThat(listen.isAlive()).isTrue();
      try (PipedProcess connect =
          jsock("connect", "-e", "/nonexistent/prog", "127.0.0.1", "" + port)) {
        assertThat(connect.exitCode()).isEqualTo(1);
        assertThat(connect.stderr())
            .startsWith("jsock: Cannot run program \"/nonexistent/prog\"")
            .contains("No such file or directory");
      }
    }
  }

  private static byte[] readToEnd(Socket peer) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < 10_000; i++) { // bounded: each read waits at most LIMIT
      byte[] chunk = peer.recv(4096);
      if (chunk.length == 0) {
        return all.toByteArray();
      }
      all.writeBytes(chunk);
    }
    throw new AssertionError("no end of file after " + all.size() + " bytes");
  }

  private static PipedProcess jsock(String... args) {
    return PipedProcess.start(
        PipedProcess.jsock(args), Map.of(), Redirect.from(new File("/dev/null")), Redirect.DISCARD);
  }
}
