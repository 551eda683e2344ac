package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Family;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock connect} and {@code ./jsock listen} with {@code
 * -e}/{@code -c}, and real programs): the program's stdin and stdout joined to the peer, the
 * half-close in both orders, one program per client at once with {@code -k}, the environment, the
 * exit code of a program that fails or cannot start, a program cut off by a TLS 1.2 close_notify,
 * and no program (nor its children) left running after SIGTERM. Peers are sockets of this test on
 * loopback or in a temporary directory, and openssl s_server. Each jsock started costs seconds on a
 * loaded machine: each test starts one, and checks all it can with it.
 */
class ExecIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  /**
   * {@code listen -U -c} (one client): the program's stdout ending first half-closes the
   * connection, and the peer's data still goes to its stdin after that; jsock exits only once the
   * peer has closed and the program exited. The program sees {@code UNIX} and the socket's path.
   */
  @Test
  void theProgramsEndOfStdoutHalfClosesWhileThePeersDataStillReachesIt() throws Exception {
    Path path = dir.resolve("exec.sock");
    String program =
        "echo \"$JSOCK_PROTO $JSOCK_LOCAL_ADDR\"; exec 1>&-; cat > '" + dir + "/late.txt'";
    try (PipedProcess listen = jsock("listen", "-v", "-U", path.toString(), "-c", program)) {
      listen.awaitStderr("listening on");
      try (Socket peer = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
        peer.connect(UnixDomainSocketAddress.of(path));
        peer.setTimeout(LIMIT);
        assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("UNIX " + path + "\n");
        assertThat(listen.isAlive()).isTrue(); // the peer's side is still open
        peer.sendAll("late\n".getBytes(UTF_8));
        peer.shutdown(Shutdown.SHUT_WR);
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
      assertThat(dir.resolve("late.txt")).hasContent("late");
    }
  }

  /**
   * {@code listen -c} whose program exits while the peer still has its side open and goes on
   * sending: once the program's stdout has ended and it has exited, the connection ends and jsock
   * exits by the program's status (3: exit 1). jsock used to keep the connection open, dropping
   * what the peer sent, until the peer closed.
   */
  @Test
  void aProgramThatExitsEndsTheConnectionWhileThePeerStillSends() throws Exception {
    String program = "head -c 10; exit 3";
    try (PipedProcess listen = jsock("listen", "-c", program, "0")) {
      int port = listen.listeningPort();
      try (Socket peer = Sockets.createConnection("127.0.0.1", port)) {
        peer.setTimeout(LIMIT);
        peer.sendAll("0123456789abcdefghij".getBytes(UTF_8)); // more than head takes
        assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("0123456789");
        assertThat(listen.exitCode()).as(listen.stderr()).isEqualTo(1); // the peer still open
        assertThat(listen.stderr())
            .isEqualTo(
                "jsock: listening on 127.0.0.1:%d\njsock: /bin/sh -c '%s' exited with status 3\n"
                    .formatted(port, program));
      }
    }
  }

  /**
   * {@code listen -c} whose program closes its stdout and goes on running after the peer's end of
   * file too: the connection is done, so the program is ended (SIGTERM) after a second's grace,
   * which is no failure, and jsock exits 0. jsock used to wait for it for ever.
   */
  @Test
  void aProgramStillRunningWhenTheConnectionIsDoneIsEnded() throws Exception {
    String program = "echo $$; exec 1>&-; cat > '" + dir + "/in.txt'; exec sleep 600";
    try (PipedProcess listen = jsock("listen", "-c", program, "0")) {
      int port = listen.listeningPort();
      try (Socket peer = Sockets.createConnection("127.0.0.1", port)) {
        peer.setTimeout(LIMIT);
        String pid = new String(readToEnd(peer), UTF_8).strip(); // the half-close ends it
        ProcessHandle shell = ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
        try {
          peer.sendAll("in\n".getBytes(UTF_8));
          peer.shutdown(Shutdown.SHUT_WR);
          assertThat(listen.exitCode()).as(listen.stderr()).isZero();
          assertThat(listen.stderr()).isEqualTo("jsock: listening on 127.0.0.1:" + port + "\n");
          assertThat(shell.onExit()).succeedsWithin(LIMIT);
          assertThat(dir.resolve("in.txt")).hasContent("in");
        } finally {
          shell.destroy(); // should the test fail: no sleep left behind
        }
      }
    }
  }

  /**
   * {@code listen -k -c}: two clients served at once, each by a program of its own that sees its
   * client's port in JSOCK_REMOTE_PORT, and echoes. Both still run (their cat, the shell's child);
   * SIGTERM to jsock then ends both programs and the processes they started: SIGTERM to the shell
   * alone left its cat running, handed to init. It says nothing of them: jsock used to report each
   * as "exited with status 143", its own signal's doing.
   */
  @Test
  void listenKeepOpenRunsOneProgramPerClientAtOnceAndEndsThemOnSigterm() throws Exception {
    String program =
        "echo \"$JSOCK_PROTO $JSOCK_LOCAL_ADDR $JSOCK_REMOTE_ADDR $JSOCK_REMOTE_PORT $$\";"
            + " cat; exec >/dev/null; sleep 300";
    try (PipedProcess listen = jsock("listen", "-k", "-c", program, "0")) {
      int port = listen.listeningPort();
      try (Socket first = Sockets.createConnection("127.0.0.1", port);
          Socket second = Sockets.createConnection("127.0.0.1", port)) {
        String[] firstLine = greeting(first);
        String[] secondLine = greeting(second); // while the first client's program still runs
        assertThat(List.of(firstLine).subList(0, 4))
            .containsExactly("TCP", "127.0.0.1", "127.0.0.1", "" + localPort(first));
        assertThat(secondLine[3]).isEqualTo("" + localPort(second));
        second.sendAll("hello\n".getBytes(UTF_8));
        assertThat(greeting(second)).containsExactly("hello"); // the echo, the connection open
        ProcessHandle firstShell = ProcessHandle.of(Long.parseLong(firstLine[4])).orElseThrow();
        ProcessHandle secondShell = ProcessHandle.of(Long.parseLong(secondLine[4])).orElseThrow();
        List<ProcessHandle> all = new ArrayList<>(List.of(firstShell, secondShell));
        try {
          await() // each one's cat
              .atMost(LIMIT)
              .until(() -> firstShell.children().count() + secondShell.children().count() == 2);
          firstShell.children().forEach(all::add);
          secondShell.children().forEach(all::add);
          assertThat(all).hasSize(4).allMatch(ProcessHandle::isAlive);
          new ProcessBuilder("kill", "-TERM", "" + listen.pid()).inheritIO().start().waitFor();
          assertThat(listen.exitCode()).isEqualTo(143);
          // the programs' status is jsock's own SIGTERM's doing: no "exited with status 143"
          assertThat(listen.stderr()).isEqualTo("jsock: listening on 127.0.0.1:" + port + "\n");
          await().atMost(LIMIT).until(() -> all.stream().noneMatch(ProcessHandle::isAlive));
        } finally {
          all.forEach(ProcessHandle::destroy); // should the test fail: none left behind
        }
      }
    }
  }

  /**
   * {@code listen --tls -c} whose program exits while the peer still sends (TLS 1.3): the program's
   * output reaches the peer and then its close_notify, a clean end of the session rather than a
   * truncation, and jsock exits 0.
   */
  @Test
  void aProgramThatExitsOverTlsEndsTheSessionWithCloseNotify() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    String program = "head -c 10";
    try (PipedProcess listen =
        jsock(
            "listen",
            "--tls",
            "--cert",
            pem.cert().toString(),
            "--key",
            pem.key().toString(),
            "-c",
            program,
            "0")) {
      int port = listen.listeningPort();
      TlsContext trusting = Tls.client().withTrust(pem.cert());
      try (Socket peer = trusting.wrap(Sockets.createConnection("127.0.0.1", port), "localhost")) {
        peer.setTimeout(LIMIT);
        peer.sendAll("0123456789abcdefghij".getBytes(UTF_8)); // more than head takes
        assertThat(new String(readToEnd(peer), UTF_8)).isEqualTo("0123456789");
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
        assertThat(listen.stderr()).isEqualTo("jsock: listening on 127.0.0.1:" + port + "\n");
      }
    }
  }

  /**
   * {@code listen -k -c}, two clients: the first one's program outlives its connection and is ended
   * (SIGTERM, with its child) and reaped, no zombie left under jsock, while the second one's
   * program and connection go on untouched and still answer.
   */
  @Test
  void listenKeepOpenEndsAProgramThatOutlivesItsClientAndLeavesTheOthers() throws Exception {
    String program = "echo $$; read line; echo \"got $line\"; exec >&-; sleep 600; true";
    try (PipedProcess listen = jsock("listen", "-k", "-c", program, "0")) {
      int port = listen.listeningPort();
      ProcessHandle jsock = ProcessHandle.of(listen.pid()).orElseThrow();
      try (Socket first = Sockets.createConnection("127.0.0.1", port);
          Socket second = Sockets.createConnection("127.0.0.1", port)) {
        ProcessHandle firstShell = shell(greeting(first));
        ProcessHandle secondShell = shell(greeting(second));
        List<ProcessHandle> all = new ArrayList<>(List.of(firstShell, secondShell));
        try {
          first.sendAll("a\n".getBytes(UTF_8));
          assertThat(new String(readToEnd(first), UTF_8)).isEqualTo("got a\n");
          await().atMost(LIMIT).until(() -> firstShell.children().count() == 1); // its sleep
          firstShell.children().forEach(all::add);
          first.shutdown(Shutdown.SHUT_WR); // the first connection is done; its sleep runs on
          await().atMost(LIMIT).until(() -> !all.get(0).isAlive() && !all.get(2).isAlive());
          await() // reaped: only the second client's shell is left under jsock
              .atMost(LIMIT)
              .until(
                  () -> jsock.children().toList(),
                  children -> children.equals(List.of(secondShell)));
          assertThat(secondShell.isAlive()).isTrue();
          second.sendAll("b\n".getBytes(UTF_8));
          assertThat(new String(readToEnd(second), UTF_8)).isEqualTo("got b\n");
          assertThat(listen.isAlive()).isTrue();
          assertThat(listen.stderr()).isEqualTo("jsock: listening on 127.0.0.1:" + port + "\n");
        } finally {
          // the second client's sleep too: jsock is killed (SIGKILL) as the test ends, and its
          // shell's sleep was left running, handed to init
          all.forEach(process -> process.descendants().forEach(ProcessHandle::destroy));
          all.forEach(ProcessHandle::destroy); // should the test fail: none left behind
        }
      }
    }
  }

  private static ProcessHandle shell(String[] greeting) {
    return ProcessHandle.of(Long.parseLong(greeting[0])).orElseThrow();
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
   * {@code connect --tls -c} to a TLS 1.2 server (openssl s_server): the program speaks first and
   * answers; then the server's close_notify ends the session both ways while the program still
   * writes (a megabyte, after its stdin's end), its stdout now closed so that it stops there; its
   * status 3 makes jsock exit 1 and say so. jsock used to wait for it for ever: nobody read the
   * program's stdout any more, whose full pipe blocked it.
   */
  @Test
  void connectExecSpeaksFirstReportsItsStatusAndIsCutOffByATls12CloseNotify() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    int port = FreePort.find();
    Path serverOut = dir.resolve("server.out");
    String server =
        "exec openssl s_server -tls1_2 -accept 127.0.0.1:%d -cert %s -key %s -quiet -naccept 1"
            .formatted(port, pem.cert(), pem.key());
    String program =
        "echo hello; read line; echo \"got $line\"; read end; head -c 1000000 /dev/zero; exit 3";
    try (PipedProcess peer =
        PipedProcess.start(
            List.of("bash", "-c", server),
            Map.of(),
            Redirect.PIPE,
            Redirect.to(serverOut.toFile()))) {
      ConnectListenIT.awaitListening(port);
      try (PipedProcess connect =
          jsock(
              "connect",
              "--tls",
              "--ca",
              pem.cert().toString(),
              "-c",
              program,
              "localhost",
              "" + port)) {
        await().atMost(LIMIT).until(() -> Files.readString(serverOut).equals("hello\n"));
        peer.stdin().write("x\n".getBytes(UTF_8));
        peer.stdin().flush();
        await().atMost(LIMIT).until(() -> Files.readString(serverOut).equals("hello\ngot x\n"));
        peer.stdin().close(); // s_server sends close_notify
        assertThat(connect.exitCode()).as(connect.stderr()).isEqualTo(1);
        assertThat(connect.stderr())
            .isEqualTo("jsock: /bin/sh -c '" + program + "' exited with status 3\n");
      }
    }
  }

  /**
   * A program that cannot be started ({@code -e} takes its first word): {@code listen -k} says so
   * for each client, closes it, and goes on serving. (connect: {@link ProgramTest}.)
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
