package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.ConnectionRefusedException;
import io.jsock.Family;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.testing.Loopback;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Integration test (runs the real {@code ./jsock connect} and {@code ./jsock listen}): data through
 * both checked by SHA-256, interop both ways with ncat, socat, OpenBSD nc, Python and openssl, the
 * end-of-file policy, timeouts and their exit codes, TLS verification, {@code -k} with concurrent
 * clients, {@code --allow/--deny}, {@code -x}, UDP, AF_UNIX and IPv6.
 */
class ConnectListenIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  // ---------------------------------------------------------------- bulk data

  /** 100 MiB took about 4 s here (two JVM starts included), so it runs in the default tier. */
  @Test
  void hundredMebibytesGoFromConnectsStdinToListensStdoutIntact() throws Exception {
    bulkFromConnectToListen(100 << 20);
  }

  private void bulkFromConnectToListen(int size) throws Exception {
    Path in = randomFile("in.bin", size, 1);
    Path out = dir.resolve("out.bin");
    try (PipedProcess listen =
            jsock(Redirect.from(devNull()), Redirect.to(out.toFile()), "listen", "0");
        PipedProcess connect =
            jsock(
                Redirect.from(in.toFile()),
                Redirect.DISCARD,
                "connect",
                "127.0.0.1",
                "" + listen.listeningPort())) {
      assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      assertThat(sha256(out)).isEqualTo(sha256(in));
      assertThat(connect.stderr()).isEmpty();
    }
  }

  @Test
  void listensStdinArrivesOnConnectsStdoutIntact() throws Exception {
    Path in = randomFile("in.bin", 4 << 20, 2);
    Path out = dir.resolve("out.bin");
    try (PipedProcess listen = jsock(Redirect.from(in.toFile()), Redirect.DISCARD, "listen", "0");
        PipedProcess connect =
            jsock(
                Redirect.from(devNull()),
                Redirect.to(out.toFile()),
                "connect",
                "127.0.0.1",
                "" + listen.listeningPort())) {
      assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      assertThat(sha256(out)).isEqualTo(sha256(in));
    }
  }

  // ---------------------------------------------------------------- interop

  /** Listeners of other tools, given a port: each sends its stdin and writes what comes. */
  static Stream<Arguments> otherListeners() {
    return Stream.of(
        Arguments.of("ncat", List.of("ncat", "-l", "127.0.0.1", "PORT")),
        Arguments.of("socat", List.of("socat", "-t", "10", "TCP-LISTEN:PORT,bind=127.0.0.1", "-")),
        Arguments.of("nc.openbsd", List.of("nc.openbsd", "-N", "-l", "127.0.0.1", "PORT")),
        Arguments.of("python3", List.of("python3", "-c", PYTHON_PEER, "listen", "PORT")));
  }

  /** Clients of other tools, given a port: each sends its stdin and writes what comes. */
  static Stream<Arguments> otherClients() {
    return Stream.of(
        Arguments.of("ncat", List.of("ncat", "127.0.0.1", "PORT")),
        Arguments.of("socat", List.of("socat", "-t", "10", "-", "TCP:127.0.0.1:PORT")),
        Arguments.of("nc.openbsd", List.of("nc.openbsd", "-N", "127.0.0.1", "PORT")),
        Arguments.of("python3", List.of("python3", "-c", PYTHON_PEER, "connect", "PORT")));
  }

  /**
   * A netcat in Python: sends stdin, half-closes, writes what arrives to stdout until the peer's
   * end of file.
   */
  private static final String PYTHON_PEER =
      """
      import socket, sys, threading
      mode, port = sys.argv[1], int(sys.argv[2])
      if mode == "listen":
          s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          s.bind(("127.0.0.1", port)); s.listen(1); s.settimeout(60); c, _ = s.accept()
      else:
          c = socket.create_connection(("127.0.0.1", port), timeout=60)
      c.settimeout(60)
      def send():
          while (d := sys.stdin.buffer.read1(65536)):
              c.sendall(d)
          c.shutdown(socket.SHUT_WR)
      t = threading.Thread(target=send); t.start()
      while (d := c.recv(65536)):
          sys.stdout.buffer.write(d)
      sys.stdout.flush(); t.join()
      """;

  @ParameterizedTest(name = "jsock connect ⇄ {0}")
  @MethodSource("otherListeners")
  void connectExchangesBytesBothWaysWithOtherListeners(String name, List<String> listener)
      throws Exception {
    int port = FreePort.find();
    Path toJsock = randomFile("to-jsock.bin", 300_000, 3);
    Path fromJsock = randomFile("from-jsock.bin", 200_000, 4);
    Path peerOut = dir.resolve("peer.out");
    Path jsockOut = dir.resolve("jsock.out");
    try (PipedProcess peer =
        PipedProcess.start(
            withPort(listener, port),
            Map.of(),
            Redirect.from(toJsock.toFile()),
            Redirect.to(peerOut.toFile()))) {
      awaitListening(port);
      // ncat -l and nc.openbsd -l end the connection once their client's end of file arrives,
      // their own stdin perhaps still unsent (a Python client sees the same cut; nc.openbsd's
      // 300,000 bytes were cut so once in CI, on a loaded machine): so jsock keeps its side open
      // till both end
      List<String> args = new ArrayList<>(List.of("connect", "127.0.0.1", "" + port));
      if (name.equals("ncat") || name.equals("nc.openbsd")) {
        args.add(1, "--no-shutdown");
      }
      try (PipedProcess connect =
          jsock(
              Redirect.from(fromJsock.toFile()),
              Redirect.to(jsockOut.toFile()),
              args.toArray(String[]::new))) {
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(peer.exitCode()).as(peer.stderr()).isZero();
      }
    }
    assertThat(sha256(jsockOut)).as("%s → jsock", name).isEqualTo(sha256(toJsock));
    assertThat(sha256(peerOut)).as("jsock → %s", name).isEqualTo(sha256(fromJsock));
  }

  @ParameterizedTest(name = "jsock listen ⇄ {0}")
  @MethodSource("otherClients")
  void listenExchangesBytesBothWaysWithOtherClients(String name, List<String> client)
      throws Exception {
    Path toJsock = randomFile("to-jsock.bin", 300_000, 5);
    Path fromJsock = randomFile("from-jsock.bin", 200_000, 6);
    Path peerOut = dir.resolve("peer.out");
    Path jsockOut = dir.resolve("jsock.out");
    try (PipedProcess listen =
        jsock(Redirect.from(fromJsock.toFile()), Redirect.to(jsockOut.toFile()), "listen", "0")) {
      int port = listen.listeningPort();
      try (PipedProcess peer =
          PipedProcess.start(
              withPort(client, port),
              Map.of(),
              Redirect.from(toJsock.toFile()),
              Redirect.to(peerOut.toFile()))) {
        assertThat(peer.exitCode()).as(peer.stderr()).isZero();
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
    }
    assertThat(sha256(jsockOut)).as("%s → jsock", name).isEqualTo(sha256(toJsock));
    assertThat(sha256(peerOut)).as("jsock → %s", name).isEqualTo(sha256(fromJsock));
  }

  @Test
  void connectTlsVerifiesOpensslServersCertificateWithCaAndExchangesBothWays() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    int port = FreePort.find();
    Path toJsock = randomFile("to-jsock.bin", 100_000, 7);
    Path fromJsock = randomFile("from-jsock.bin", 70_000, 8);
    Path peerOut = dir.resolve("peer.out");
    Path jsockOut = dir.resolve("jsock.out");
    // s_server ends the connection when its stdin ends: keep it open until jsock is done.
    String server =
        "(cat %s; sleep 20) | exec openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -quiet -naccept 1"
            .formatted(toJsock, port, pem.cert(), pem.key());
    try (PipedProcess peer =
        PipedProcess.start(
            List.of("bash", "-c", server),
            Map.of(),
            Redirect.from(devNull()),
            Redirect.to(peerOut.toFile()))) {
      awaitListening(port);
      try (PipedProcess connect =
          jsock(
              Redirect.PIPE,
              Redirect.to(jsockOut.toFile()),
              "connect",
              "--tls",
              "--ca",
              pem.cert().toString(),
              "-v",
              "localhost",
              "" + port)) {
        // jsock's end of input sends close_notify, on which s_server closes at once, with what it
        // has not yet read from its pipe unsent (seen under load): so end it only once all has come
        connect.stdin().write(Files.readAllBytes(fromJsock));
        connect.stdin().flush();
        await().atMost(LIMIT).until(() -> Files.size(jsockOut) == Files.size(toJsock));
        connect.stdin().close();
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(connect.stderr()).contains("jsock: TLS: TLSv1.3 ", "CN=localhost");
      }
      await().atMost(LIMIT).until(() -> Files.size(peerOut) == Files.size(fromJsock));
    }
    assertThat(sha256(jsockOut)).isEqualTo(sha256(toJsock));
    assertThat(sha256(peerOut)).isEqualTo(sha256(fromJsock));
  }

  @Test
  void listenTlsWithPemFilesExchangesBothWaysWithOpensslClient() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    Path toJsock = randomFile("to-jsock.bin", 100_000, 9);
    Path fromJsock = randomFile("from-jsock.bin", 70_000, 10);
    Path peerOut = dir.resolve("peer.out");
    Path jsockOut = dir.resolve("jsock.out");
    try (PipedProcess listen =
        jsock(
            Redirect.PIPE,
            Redirect.to(jsockOut.toFile()),
            "listen",
            "--tls",
            "--cert",
            pem.cert().toString(),
            "--key",
            pem.key().toString(),
            "-v",
            "0")) {
      int port = listen.listeningPort();
      // s_client closes when its stdin ends: keep it open until jsock is done.
      String client =
          "(cat %s; sleep 20) | exec openssl s_client -connect 127.0.0.1:%d -quiet -verify_return_error -CAfile %s"
              .formatted(toJsock, port, pem.cert());
      try (PipedProcess peer =
          PipedProcess.start(
              List.of("bash", "-c", client),
              Map.of(),
              Redirect.from(devNull()),
              Redirect.to(peerOut.toFile()))) {
        // as with s_server above: s_client closes on jsock's close_notify, unsent input dropped
        listen.stdin().write(Files.readAllBytes(fromJsock));
        listen.stdin().flush();
        await().atMost(LIMIT).until(() -> Files.size(jsockOut) == Files.size(toJsock));
        listen.stdin().close();
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
        await().atMost(LIMIT).until(() -> Files.size(peerOut) == Files.size(fromJsock));
      }
      assertThat(listen.stderr()).doesNotContain("development certificate");
      // the listener presented its certificate; the peer it describes is the client
      assertThat(listen.stderr())
          .containsPattern("jsock: 127\\.0\\.0\\.1:\\d+: TLS: TLSv1\\.3 \\S+\n")
          .doesNotContain("server certificate");
    }
    assertThat(sha256(jsockOut)).isEqualTo(sha256(toJsock));
    assertThat(sha256(peerOut)).isEqualTo(sha256(fromJsock));
  }

  /**
   * TLS 1.2 has no half-close: s_server, its stdin at end, sends what it had and close_notify, and
   * the JDK closes our sending side as it reads it. jsock exited 1 with "send to …: broken pipe" on
   * stdin's next bytes (or waited for stdin's end, sending into a closed session); ncat and socat
   * exit 0. The peer's close_notify now ends the session both ways: exit 0, stdin still open.
   */
  @Test
  void aTls12ServersCloseNotifyEndsTheSessionCleanlyWithStdinStillOpen() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    int port = FreePort.find();
    Path jsockOut = dir.resolve("jsock.out");
    String server =
        "printf 'hello\\n' | exec openssl s_server -tls1_2 -accept 127.0.0.1:%d -cert %s -key %s -quiet -naccept 1"
            .formatted(port, pem.cert(), pem.key());
    try (PipedProcess peer =
        PipedProcess.start(
            List.of("bash", "-c", server),
            Map.of(),
            Redirect.from(devNull()),
            Redirect.to(dir.resolve("peer.out").toFile()))) {
      awaitListening(port);
      try (PipedProcess connect =
          jsock(
              Redirect.PIPE,
              Redirect.to(jsockOut.toFile()),
              "connect",
              "--tls",
              "--ca",
              pem.cert().toString(),
              "-v",
              "localhost",
              "" + port)) {
        await().atMost(LIMIT).until(() -> Files.readString(jsockOut).equals("hello\n"));
        try { // more for a session the peer has ended: dropped, as by ncat
          connect.stdin().write("hi\n".getBytes(UTF_8));
          connect.stdin().flush();
        } catch (IOException gone) {
          // jsock has already ended
        }
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(connect.stderr()).contains("jsock: TLS: TLSv1.2 ").doesNotContain("broken pipe");
      }
    }
    assertThat(Files.readString(jsockOut)).isEqualTo("hello\n");
  }

  // ---------------------------------------------------------------- end of file

  /** A server that reads until end of file, then answers how many bytes came, and closes. */
  private static final String COUNTING_SERVER =
      """
      import socket, sys
      s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
      print(s.getsockname()[1], flush=True)
      s.settimeout(60); c, _ = s.accept(); c.settimeout(float(sys.argv[1]))
      n = 0
      try:
          while (d := c.recv(65536)):
              n += len(d)
          c.sendall(b"got %d bytes" % n)
          print("eof after", n, flush=True)
      except socket.timeout:
          c.sendall(b"no end of file after %d bytes" % n)
          print("no eof after", n, flush=True)
      c.close()
      """;

  @Test
  void stdinsEndHalfClosesAndTheReplyIsPrintedBeforeExiting() throws Exception {
    assertThat(eofScenario("60")).containsExactly("0", "got 2 bytes", "eof after 2");
  }

  @Test
  void noShutdownKeepsTheConnectionOpenAfterStdinEnds() throws Exception {
    assertThat(eofScenario("1", "--no-shutdown"))
        .containsExactly("0", "no end of file after 2 bytes", "no eof after 2");
  }

  @Test
  void sendOnlySendsStdinHalfClosesAndPrintsNothing() throws Exception {
    assertThat(eofScenario("60", "--send-only")).containsExactly("0", "", "eof after 2");
  }

  @Test
  void recvOnlyHalfClosesAtOnceWithoutReadingStdin() throws Exception {
    assertThat(eofScenario("60", "--recv-only")).containsExactly("0", "got 0 bytes", "eof after 0");
  }

  /**
   * ncat's own suite ("Client closes stdout and keeps running after socket EOF", and the listener's
   * for {@code ncat -l | tar xzf -}): at the peer's end of file stdout is closed, so its reader
   * sees the end of the data, while stdin still goes to the peer. jsock kept stdout open until it
   * exited, that is until stdin ended too: {@code jsock connect … | sort} waited on a terminal's
   * stdin (checked against Ncat 7.93, both modes).
   */
  @ParameterizedTest
  @ValueSource(strings = {"connect", "listen"})
  void thePeersEndOfFileClosesStdoutWhileStdinStillGoesToThePeer(String mode) throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      PipedProcess jsock =
          mode.equals("connect")
              ? jsock(Redirect.PIPE, Redirect.PIPE, "connect", "127.0.0.1", "" + port)
              : jsock(Redirect.PIPE, Redirect.PIPE, "listen", "0");
      try (jsock;
          Socket peer =
              mode.equals("connect")
                  ? acceptWithin(listener)
                  : Sockets.createConnection("127.0.0.1", jsock.listeningPort())) {
        peer.setTimeout(LIMIT);
        peer.sendAll("abc\n".getBytes(UTF_8));
        peer.shutdown(Shutdown.SHUT_WR);
        FutureTask<byte[]> untilEof = new FutureTask<>(jsock.stdout()::readAllBytes);
        Thread.ofVirtual().start(untilEof);
        assertThat(new String(untilEof.get(LIMIT.toSeconds(), TimeUnit.SECONDS), UTF_8))
            .isEqualTo("abc\n");
        assertThat(jsock.isAlive()).isTrue();
        jsock.stdin().write("more\n".getBytes(UTF_8));
        jsock.stdin().flush();
        assertThat(new String(peer.recv(100), UTF_8)).isEqualTo("more\n");
        jsock.stdin().close();
        assertThat(peer.recv(100)).isEmpty();
        assertThat(jsock.exitCode()).as(jsock.stderr()).isZero();
      }
    }
  }

  private static Socket acceptWithin(Socket listener) throws IOException {
    listener.setTimeout(LIMIT);
    return listener.accept().conn();
  }

  /**
   * {@code jsock connect HOST PORT <&-}: the JVM's first file opened (the class-data archive, the
   * jar) took descriptor 0, and its bytes went to the peer as stdin (146 MB of the .jsa, seen with
   * ncat). A closed stdin is an empty one, as ncat treats it.
   */
  @Test
  void aClosedStdinIsAnEmptyOneAndNothingElseIsSent() throws Exception {
    try (RunningProcess server =
        RunningProcess.start(List.of("python3", "-c", COUNTING_SERVER, "60"), Map.of())) {
      String port = server.nextLine();
      String closingStdin = "exec \"$0\" connect 127.0.0.1 \"$1\" <&-";
      try (RunningProcess connect =
          RunningProcess.start(
              List.of(
                  "bash",
                  "-c",
                  closingStdin,
                  RunningProcess.REPO.resolve("jsock").toString(),
                  port),
              Map.of())) {
        assertThat(connect.exitCode()).as(connect.stderrSoFar()).isZero();
        assertThat(connect.lines()).containsExactly("got 0 bytes");
      }
      assertThat(server.nextLine()).isEqualTo("eof after 0");
    }
  }

  /**
   * A server that answers and closes at once: stdin's later bytes meet its reset, which came before
   * the half-close, and jsock said "shutdown …: transport endpoint is not connected" (exit 1), as
   * if no connection had been made. It is the reset it is, on the data sent (ncat: "Connection
   * reset by peer"); the exit code stays 1 (docs/cli/connect-listen.md: the send fails).
   */
  @Test
  void stdinSentToAServerThatClosedIsSaidAsTheResetItMeets() throws Exception {
    String closing =
        """
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        c, _ = s.accept(); c.sendall(b"hello\\n"); c.close()
        print("closed", flush=True)
        """;
    Path out = dir.resolve("out");
    try (RunningProcess server =
        RunningProcess.start(List.of("python3", "-c", closing), Map.of())) {
      String port = server.nextLine();
      try (PipedProcess connect =
          jsock(Redirect.PIPE, Redirect.to(out.toFile()), "connect", "127.0.0.1", port)) {
        await().atMost(LIMIT).until(() -> Files.readString(out).equals("hello\n"));
        assertThat(server.nextLine()).isEqualTo("closed");
        connect.stdin().write("hi\n".getBytes(UTF_8));
        connect.stdin().close();
        int code = connect.exitCode();
        assertThat(connect.stderr()).doesNotContain("not connected");
        if (code != 0) { // the reset may come after the half-close: then no one says it
          assertThat(code).isEqualTo(1);
          assertThat(connect.stderr())
              .containsPattern(
                  "jsock: (send to|recv from) 127\\.0\\.0\\.1:"
                      + port
                      + ": connection reset by peer\n");
        }
      }
    }
  }

  /** {@code printf hi | jsock connect OPTIONS} against the counting server: exit code, stdouts. */
  private List<String> eofScenario(String serverTimeout, String... options) throws Exception {
    Path hi = Files.writeString(dir.resolve("hi"), "hi");
    Path out = dir.resolve("out");
    try (RunningProcess server =
        RunningProcess.start(List.of("python3", "-c", COUNTING_SERVER, serverTimeout), Map.of())) {
      String port = server.nextLine();
      List<String> args = new ArrayList<>(List.of("connect"));
      args.addAll(List.of(options));
      args.addAll(List.of("127.0.0.1", port));
      try (PipedProcess connect =
          jsock(
              Redirect.from(hi.toFile()), Redirect.to(out.toFile()), args.toArray(String[]::new))) {
        int code = connect.exitCode();
        return List.of("" + code, Files.readString(out), server.nextLine());
      }
    }
  }

  // ---------------------------------------------------------------- timeouts and failures

  @Test
  void tlsHandshakeWithASilentServerTimesOutAfterWaitWithExitCode4() throws Exception {
    try (Socket silent = Socket.create()) {
      silent.bind("127.0.0.1", 0);
      silent.listen(); // the kernel completes the TCP handshake; nobody ever answers TLS
      int port = ((InetSocketAddress) silent.getSockName()).getPort();
      long start = System.nanoTime();
      try (PipedProcess connect =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "--tls",
              "-w",
              "500ms",
              "127.0.0.1",
              "" + port)) {
        assertThat(connect.exitCode()).isEqualTo(4);
        assertThat(connect.stderr()).startsWith("jsock: ").containsIgnoringCase("timed out");
        assertThat(connect.stderr().lines()).hasSize(1);
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(500));
    }
  }

  @Test
  void aUdpRefusalIsSaidWithoutAClosedLineBeforeItAsNcatSaysIt() throws Exception {
    // ncat 7.93 -u -v: "Connected to 127.0.0.1:P." then "Connection refused.", exit 1; jsock said
    // "closed 127.0.0.1:P" first, as if the connection had ended well
    int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_DGRAM);
    Path hi = Files.writeString(dir.resolve("hi"), "hi\n");
    try (PipedProcess connect =
        jsock(
            Redirect.from(hi.toFile()),
            Redirect.DISCARD,
            "connect",
            "-u",
            "-v",
            "127.0.0.1",
            "" + port)) {
      assertThat(connect.exitCode()).isEqualTo(3);
      assertThat(connect.stderr())
          .matches(
              "jsock: connected to 127\\.0\\.0\\.1:"
                  + port
                  + " \\(UDP\\)\njsock: (send to|recv from) 127\\.0\\.0\\.1:"
                  + port
                  + ": connection refused\n");
    }
  }

  @Test
  void refusedConnectionIsExitCode3() throws Exception {
    try (Socket bound = Socket.create()) {
      bound.bind("127.0.0.1", 0); // bound, not listening: refused
      int port = ((InetSocketAddress) bound.getSockName()).getPort();
      try (PipedProcess connect =
          jsock(Redirect.from(devNull()), Redirect.DISCARD, "connect", "127.0.0.1", "" + port)) {
        assertThat(connect.exitCode()).isEqualTo(3);
        assertThat(connect.stderr())
            .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
      }
    }
  }

  /**
   * As ncat ("Connection to ::1 failed: Connection refused. Trying next address...") and Python's
   * create_connection: an address of several that fails is said with -v as the next is tried, and
   * when every one fails the last one's error is the one reported (ncat's "Connection refused."
   * after its tries).
   */
  @Test
  void aHostWithSeveralAddressesTriesTheNextAndSaysSoWithVerbose() throws Exception {
    Path hosts =
        Files.writeString(dir.resolve("hosts"), "127.0.0.2 twoaddrs\n127.0.0.1 twoaddrs\n");
    Map<String, String> env = Map.of("JSOCK_JAVA_OPTS", "-Djdk.net.hosts.file=" + hosts);
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0); // on 127.0.0.1 only: 127.0.0.2 refuses
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock("connect", "-v", "twoaddrs", "" + port),
              env,
              Redirect.from(devNull()),
              Redirect.DISCARD)) {
        listener.accept().conn().close();
        assertThat(connect.exitCode()).isZero();
        assertThat(connect.stderr().lines())
            .startsWith(
                "jsock: connect to 127.0.0.2:"
                    + port
                    + ": connection refused; trying the next address",
                "jsock: connected to 127.0.0.1:" + port + " (TCP)");
      }
    }
    int unused = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);
    Files.writeString(hosts, "127.0.0.1 twoaddrs\n127.0.0.2 twoaddrs\n");
    try (PipedProcess connect =
        PipedProcess.start(
            PipedProcess.jsock("connect", "-v", "twoaddrs", "" + unused),
            env,
            Redirect.from(devNull()),
            Redirect.DISCARD)) {
      assertThat(connect.exitCode()).isEqualTo(3);
      assertThat(connect.stderr().lines())
          .containsExactly(
              "jsock: connect to 127.0.0.1:"
                  + unused
                  + ": connection refused; trying the next address",
              "jsock: connect to 127.0.0.2:" + unused + ": connection refused");
    }
  }

  @Test
  void unknownHostIsExitCode6() throws Exception {
    Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
    try (PipedProcess connect =
        PipedProcess.start(
            PipedProcess.jsock("connect", "nosuchhost.invalid", "80"),
            Map.of("JSOCK_JAVA_OPTS", "-Djdk.net.hosts.file=" + hosts),
            Redirect.from(devNull()),
            Redirect.DISCARD)) {
      assertThat(connect.exitCode()).isEqualTo(6);
      assertThat(connect.stderr()).startsWith("jsock: resolve nosuchhost.invalid:80: ");
    }
  }

  @Test
  void idleTimeoutEndsASilentConnectionWithExitCode4() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      long start = System.nanoTime();
      try (PipedProcess connect =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "-i",
              "700ms",
              "127.0.0.1",
              "" + port)) {
        listener.setTimeout(LIMIT);
        try (Socket accepted = listener.accept().conn()) {
          assertThat(connect.exitCode()).isEqualTo(4);
          assertThat(connect.stderr())
              .isEqualTo("jsock: idle timeout: no data either way for 700ms (-i)\n");
        }
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(700));
    }
  }

  // ncat -i counts from the end of a blocking write to stdout (its timer is the next read's): a
  // slow stdout reader is not an idle connection. jsock's clock started before the write, so a
  // stdout blocked longer than -i ended a connection whose data was still coming, exit 4
  @Tag("slow")
  @Test
  void idleTimeoutDoesNotRunWhileStdoutIsSlowToTakeTheData() throws Exception {
    byte[] data = new byte[4 << 20];
    new Random(7).nextBytes(data);
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      try (PipedProcess connect =
          jsock(
              Redirect.from(devNull()),
              Redirect.PIPE,
              "connect",
              "-i",
              "2s", // a margin for a loaded machine between the bridge's start and the first data
              "127.0.0.1",
              "" + port)) {
        listener.setTimeout(LIMIT);
        try (Socket accepted = listener.accept().conn()) {
          Thread sender =
              Thread.ofVirtual()
                  .start(
                      () -> {
                        try {
                          accepted.sendAll(data);
                          accepted.shutdown(Shutdown.SHUT_WR);
                        } catch (IOException e) {
                          // the client gone: the assertions below say why
                        }
                      });
          // stdout's reader is slow, longer than -i: jsock's write to the pipe blocks meanwhile
          Thread.sleep(4_500);
          byte[] out = connect.stdout().readAllBytes();
          sender.join();
          assertThat(connect.exitCode()).as(connect.stderr()).isZero();
          assertThat(out).isEqualTo(data);
        }
      }
    }
  }

  @Test
  void usageErrorsNameTheOptionWithExitCode2() throws Exception {
    // one process here; OptionsTest runs each usage error of connect and listen in-process
    try (PipedProcess p =
        PipedProcess.start(
            PipedProcess.jsock("connect", "127.0.0.1", "70000"),
            Map.of(),
            Redirect.from(devNull()),
            Redirect.DISCARD)) {
      assertThat(p.exitCode()).as(p.stderr()).isEqualTo(2);
      assertThat(p.stderr()).startsWith("jsock: ").contains("--help");
    }
  }

  // ---------------------------------------------------------------- TLS verification

  @Test
  void tlsToASelfSignedServerFailsWithExitCode5UnlessInsecure() throws Exception {
    try (PipedProcess listen =
        jsock(Redirect.from(devNull()), Redirect.DISCARD, "listen", "-k", "--tls", "0")) {
      int port = listen.listeningPort();
      assertThat(listen.stderr()).contains("self-signed development certificate");
      try (PipedProcess verified =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "--tls",
              "localhost",
              "" + port)) {
        assertThat(verified.exitCode()).isEqualTo(5);
        assertThat(verified.stderr()).startsWith("jsock: ").containsIgnoringCase("certificate");
        assertThat(verified.stderr().lines()).hasSize(1);
      }
      try (PipedProcess insecure =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "--tls",
              "--insecure",
              "localhost",
              "" + port)) {
        assertThat(insecure.exitCode()).as(insecure.stderr()).isZero();
        assertThat(insecure.stderr()).containsOnlyOnce("verification is OFF");
      }
    }
  }

  @Tag("slow")
  @Test
  void listenKeepOpenSaysThatAClientsTlsHandshakeTimedOutAndServesTheNext() throws Exception {
    try (PipedProcess listen =
            jsock(Redirect.from(devNull()), Redirect.DISCARD, "listen", "-k", "--tls", "0");
        Socket silent = Socket.create()) {
      int port = listen.listeningPort();
      silent.connect("127.0.0.1", port); // and never speaks TLS: the handshake times out (10 s)
      await()
          .atMost(LIMIT)
          .until(
              () -> listen.stderr().contains("timed out") || listen.stderr().contains("Exception"));
      assertThat(listen.stderr())
          .containsPattern(
              "jsock: 127\\.0\\.0\\.1:\\d+: tls handshake with 127\\.0\\.0\\.1:\\d+: timed out\n")
          .doesNotContain("Exception")
          .doesNotContain("idle");
      try (PipedProcess next =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "--tls",
              "--insecure",
              "localhost",
              "" + port)) {
        assertThat(next.exitCode()).as(next.stderr()).isZero();
      }
    }
  }

  // ---------------------------------------------------------------- listen -k, access lists, -x

  /**
   * {@code jsock listen -k 5000 | head -n 1}: once stdout's reader has gone, jsock stops quietly
   * and exits 0, as connect and listen without -k do (ncat -k dies of the broken pipe). With -k it
   * dropped what came and went on accepting clients for ever, so the pipeline never ended.
   */
  @ParameterizedTest
  @MethodSource("keepOpenTransports")
  void keepOpenEndsWhenStdoutsReaderHasGone(SocketKind kind, String flag) throws Exception {
    List<String> args = new ArrayList<>(List.of("listen", "-k", "0"));
    if (flag != null) {
      args.add(1, flag);
    }
    // stdin stays open: only stdout's reader ends the listener
    try (PipedProcess listen = jsock(Redirect.PIPE, Redirect.PIPE, args.toArray(String[]::new))) {
      int port = listen.listeningPort();
      InputStream stdout = listen.stdout();
      try (Socket first = Socket.create(Family.AF_INET, kind)) {
        first.connect("127.0.0.1", port);
        first.sendAll("first\n".getBytes(UTF_8));
        assertThat(stdout.readNBytes(6)).isEqualTo("first\n".getBytes(UTF_8));
        stdout.close(); // as head does once it has its line
        for (int i = 0; i < 3 && listen.isAlive(); i++) { // the next write finds the pipe broken
          try (Socket next = Socket.create(Family.AF_INET, kind)) {
            next.connect("127.0.0.1", port);
            next.sendAll("more\n".getBytes(UTF_8));
          } catch (IOException gone) {
            break; // the listener has gone already
          }
        }
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
      assertThat(listen.stderr()).doesNotContain("Exception", "roken pipe");
    }
  }

  /**
   * {@code jsock listen -k 5000 > /dev/full}: a stdout that cannot be written (not a reader gone)
   * ends the listener with exit 1 and the write's reason, as listen without -k and -u -k do (ncat
   * -k exits too). With -k over TCP it said so per client and went on accepting, every client's
   * data lost.
   */
  @ParameterizedTest
  @MethodSource("keepOpenTransports")
  void keepOpenEndsWithTheReasonWhenStdoutCannotBeWritten(SocketKind kind, String flag)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("listen", "-k", "0"));
    if (flag != null) {
      args.add(1, flag);
    }
    try (PipedProcess listen =
        jsock(Redirect.PIPE, Redirect.to(new File("/dev/full")), args.toArray(String[]::new))) {
      int port = listen.listeningPort();
      for (int i = 0; i < 3 && listen.isAlive(); i++) { // the first client's data fails the write
        try (Socket client = Socket.create(Family.AF_INET, kind)) {
          client.connect("127.0.0.1", port);
          client.sendAll("data\n".getBytes(UTF_8));
        } catch (IOException gone) {
          break; // the listener has gone already
        }
      }
      assertThat(listen.exitCode()).as(listen.stderr()).isEqualTo(1);
      assertThat(listen.stderr())
          .matches("jsock: listening on \\S+\njsock: write to stdout: No space left on device\n");
    }
  }

  static Stream<Arguments> keepOpenTransports() {
    return Stream.of(
        Arguments.of(SocketKind.SOCK_STREAM, null), Arguments.of(SocketKind.SOCK_DGRAM, "-u"));
  }

  @Test
  void keepOpenCollectsConcurrentClientsOnStdoutAndBroadcastsStdin() throws Exception {
    int clients = 20;
    // The process is closed (killed) before the pool, whose reader of its stdout then ends.
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        PipedProcess listen = jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-k", "-v", "0")) {
      int port = listen.listeningPort();
      OutputStream stdin = listen.stdin();
      InputStream stdout = listen.stdout();
      Future<byte[]> collected = pool.submit(() -> stdout.readAllBytes());
      List<Socket> conns = new ArrayList<>();
      try {
        for (int i = 0; i < clients; i++) {
          Socket conn = Socket.create();
          conn.setTimeout(LIMIT);
          conn.connect("127.0.0.1", port);
          conns.add(conn);
        }
        await()
            .atMost(LIMIT)
            .until(() -> listen.stderr().split("jsock: accepted ", -1).length - 1 == clients);
        stdin.write("hello all\n".getBytes(UTF_8));
        stdin.close(); // end of stdin: every client is half-closed after the broadcast
        List<Future<String>> replies = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
          Socket conn = conns.get(i);
          String line = "client %02d says %s\n".formatted(i, "x".repeat(100 + i));
          replies.add(
              pool.submit(
                  () -> {
                    conn.sendAll(line.getBytes(UTF_8));
                    String got = new String(readToEnd(conn), UTF_8);
                    conn.close();
                    return got;
                  }));
        }
        for (Future<String> reply : replies) {
          assertThat(reply.get(LIMIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("hello all\n");
        }
        await()
            .atMost(LIMIT)
            .until(() -> listen.stderr().split("jsock: closed ", -1).length - 1 == clients);
      } finally {
        for (Socket conn : conns) {
          conn.close();
        }
      }
      listen.close();
      List<String> lines =
          new String(collected.get(LIMIT.toSeconds(), TimeUnit.SECONDS), UTF_8)
              .lines()
              .sorted()
              .toList();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        expected.add("client %02d says %s".formatted(i, "x".repeat(100 + i)));
      }
      assertThat(lines).isEqualTo(expected);
    }
  }

  /**
   * As ncat -k, which pays attention to stdin only once a client is connected: stdin that is there
   * (and ended) before anyone connects goes to the first client, then the half-close. jsock read it
   * at once and broadcast it to nobody, so {@code printf x | jsock listen -k} sent nothing.
   */
  @Test
  void keepOpenKeepsStdinForTheFirstClientAsNcatDoes() throws Exception {
    Path in = Files.writeString(dir.resolve("in.txt"), "before anyone came\n");
    try (PipedProcess listen =
        jsock(Redirect.from(in.toFile()), Redirect.PIPE, "listen", "-k", "-v", "0")) {
      int port = listen.listeningPort();
      try (Socket first = Socket.create()) {
        first.setTimeout(LIMIT);
        first.connect("127.0.0.1", port);
        assertThat(new String(readToEnd(first), UTF_8)).isEqualTo("before anyone came\n");
      }
    }
  }

  /**
   * As ncat -k, which stops reading stdin when its last client leaves: stdin given while nobody is
   * connected, after a first client came and went, goes to the next client, then the half-close.
   * jsock went on reading and broadcast it to nobody, so the second client got the end of file
   * alone.
   */
  @Test
  void keepOpenKeepsStdinGivenBetweenClientsForTheNextAsNcatDoes() throws Exception {
    try (PipedProcess listen = jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-k", "-v", "0")) {
      int port = listen.listeningPort();
      try (Socket first = Socket.create()) {
        first.connect("127.0.0.1", port);
        listen.awaitStderr("accepted 127\\.0\\.0\\.1:");
      }
      listen.awaitStderr("closed 127\\.0\\.0\\.1:");
      try (OutputStream stdin = listen.stdin()) {
        stdin.write("while nobody was connected\n".getBytes(UTF_8));
      }
      try (Socket second = Socket.create()) {
        second.setTimeout(LIMIT);
        second.connect("127.0.0.1", port);
        assertThat(new String(readToEnd(second), UTF_8)).isEqualTo("while nobody was connected\n");
      }
    }
  }

  /**
   * --send-only exits once stdin has ended and the connection is half-closed, with -k too, as ncat
   * -k --send-only does: jsock listen -k --send-only half-closed its clients and went on accepting
   * until interrupted.
   */
  @Test
  void keepOpenSendOnlyExitsOnceStdinHasEndedAsNcatDoes() throws Exception {
    Path in = Files.writeString(dir.resolve("in.txt"), "all of stdin\n");
    try (PipedProcess listen =
        jsock(
            Redirect.from(in.toFile()), Redirect.PIPE, "listen", "-k", "--send-only", "-v", "0")) {
      int port = listen.listeningPort();
      try (Socket client = Socket.create()) {
        client.setTimeout(LIMIT);
        client.connect("127.0.0.1", port);
        assertThat(new String(readToEnd(client), UTF_8)).isEqualTo("all of stdin\n");
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
    }
  }

  /**
   * A client that half-closes first still gets all of stdin from {@code listen -k --send-only}, as
   * from ncat -l -k --send-only (which does not read its clients): jsock closed it at its end of
   * file, the rest of stdin unsent (found by cli/src/test/resources/ncat-differential.py).
   */
  @Test
  void keepOpenSendOnlyGoesOnSendingToAClientThatHalfClosedFirst() throws Exception {
    try (PipedProcess listen =
        jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-k", "--send-only", "-v", "0")) {
      int port = listen.listeningPort();
      try (Socket client = Socket.create()) {
        client.setTimeout(LIMIT);
        client.connect("127.0.0.1", port);
        client.sendAll("dropped\n".getBytes(UTF_8));
        client.shutdown(Shutdown.SHUT_WR);
        listen.awaitStderr("accepted 127\\.0\\.0\\.1:");
        try (OutputStream stdin = listen.stdin()) {
          stdin.write("sent after the client's end of file\n".getBytes(UTF_8));
        }
        assertThat(new String(readToEnd(client), UTF_8))
            .isEqualTo("sent after the client's end of file\n");
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
    }
  }

  /**
   * The same with -u -k: jsock exits at stdin's end, as ncat -l -k --send-only does over TCP (ncat
   * 7.93 refuses -u -l -k without --exec).
   */
  @Test
  void keepOpenUdpSendOnlyExitsOnceStdinHasEndedAsNcatDoes() throws Exception {
    Path in = Files.writeString(dir.resolve("in.txt"), "all of stdin\n");
    try (PipedProcess listen =
            jsock(
                Redirect.from(in.toFile()),
                Redirect.PIPE,
                "listen",
                "-u",
                "-k",
                "--send-only",
                "-v",
                "0");
        Socket peer = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      peer.setTimeout(LIMIT);
      peer.connect("127.0.0.1", port);
      peer.send("hello".getBytes(UTF_8));
      assertThat(new String(peer.recv(100), UTF_8)).isEqualTo("all of stdin\n");
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  @Test
  void keepOpenGoesOnServingAfterAcceptRanOutOfFileDescriptors() throws Exception {
    // 64 descriptors: enough for the JVM, the listener and a few clients, not for 120 of them.
    List<String> command =
        new ArrayList<>(List.of("sh", "-c", "ulimit -n 64 && exec \"$@\"", "sh"));
    command.addAll(PipedProcess.jsock("listen", "-k", "--max-clients", "200", "0"));
    try (PipedProcess listen =
        PipedProcess.start(command, Map.of(), Redirect.from(devNull()), Redirect.PIPE)) {
      int port = listen.listeningPort();
      List<Socket> crowd = new ArrayList<>();
      try {
        for (int i = 0; i < 120; i++) {
          Socket conn = Socket.create();
          crowd.add(conn);
          conn.connect("127.0.0.1", port); // the kernel's backlog takes them all
        }
        listen.awaitStderr("too many open files");
      } finally {
        for (Socket conn : crowd) {
          conn.close();
        }
      }
      try (Socket after = Socket.create()) {
        after.setTimeout(LIMIT);
        after.connect("127.0.0.1", port);
        after.sendAll("served after\n".getBytes(UTF_8));
        assertThat(new String(listen.stdout().readNBytes(13), UTF_8)).isEqualTo("served after\n");
      }
      assertThat(listen.isAlive()).isTrue();
    }
  }

  @Test
  void keepOpenClosesAClientThatDoesNotTakeABroadcastAndSaysWhy() throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        PipedProcess listen =
            jsock(Redirect.PIPE, Redirect.DISCARD, "listen", "-k", "-v", "-i", "1s", "0");
        Socket stuck = Socket.create()) {
      int port = listen.listeningPort();
      stuck.setSockOpt(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
      stuck.connect("127.0.0.1", port);
      listen.awaitStderr("jsock: accepted 127.0.0.1:");
      // It keeps sending, so it is never idle on the way in; it never reads the broadcast.
      Future<?> talking =
          pool.submit(
              () -> {
                while (true) {
                  stuck.sendAll(new byte[] {'.'});
                  Thread.sleep(100);
                }
              });
      Future<?> feeding =
          pool.submit(
              () -> {
                listen.stdin().write(new byte[8 << 20]); // far more than the client's buffers
                return null;
              });
      listen.awaitStderr("jsock: closed 127.0.0.1:");
      talking.cancel(true);
      feeding.cancel(true);
      assertThat(listen.stderr())
          .contains("did not take a broadcast within 1s (-i)")
          .doesNotContain("socket is closed");
    }
  }

  @Test
  void keepOpenSaysAClientsResetByItsErrorAloneAndAClosedLineOnlyOnACleanEnd() throws Exception {
    // ncat 7.93 -l -k -v says neither; jsock -v said "closed 127.0.0.1:P" after the reset's error,
    // as if the client had ended well (connect and listen without -k say the error alone)
    try (PipedProcess listen =
            jsock(Redirect.PIPE, Redirect.DISCARD, "listen", "-k", "-v", "127.0.0.1", "0");
        Socket resets = Socket.create();
        Socket ends = Socket.create()) {
      int port = listen.listeningPort();
      resets.connect("127.0.0.1", port);
      int resetsPort = ((InetSocketAddress) resets.getSockName()).getPort();
      listen.awaitStderr("jsock: accepted 127\\.0\\.0\\.1:" + resetsPort + "\n");
      resets.setSockOpt(java.net.StandardSocketOptions.SO_LINGER, 0);
      resets.close();
      listen.awaitStderr(resetsPort + ": connection reset by peer\n");
      ends.connect("127.0.0.1", port);
      int endsPort = ((InetSocketAddress) ends.getSockName()).getPort();
      listen.awaitStderr("jsock: accepted 127\\.0\\.0\\.1:" + endsPort + "\n");
      ends.close();
      listen.awaitStderr("jsock: closed 127\\.0\\.0\\.1:" + endsPort + "\n");
      assertThat(listen.stderr())
          .contains(
              "jsock: 127.0.0.1:"
                  + resetsPort
                  + ": recv from 127.0.0.1:"
                  + resetsPort
                  + ": connection reset by peer\n")
          .doesNotContain("closed 127.0.0.1:" + resetsPort);
    }
  }

  @Test
  void denyRefusesAPeerByAddressAndServesTheOthers() throws Exception {
    try (PipedProcess listen =
        jsock(
            Redirect.from(devNull()),
            Redirect.PIPE,
            "listen",
            "-k",
            "-v",
            "--deny",
            "127.0.0.2/32",
            "0.0.0.0",
            "0")) {
      int port = listen.listeningPort();
      try (Socket denied = Socket.create()) {
        denied.setTimeout(LIMIT);
        denied.bind("127.0.0.2", 0);
        denied.connect("127.0.0.1", port);
        int deniedPort = ((InetSocketAddress) denied.getSockName()).getPort();
        assertThat(readToEnd(denied)).as("closed at once").isEmpty();
        listen.awaitStderr("jsock: refused 127.0.0.2:" + deniedPort + " \\(--allow/--deny\\)");
      }
      try (Socket allowed = Socket.create()) {
        allowed.setTimeout(LIMIT);
        allowed.connect("127.0.0.1", port);
        allowed.sendAll("let in\n".getBytes(UTF_8));
        byte[] line = listen.stdout().readNBytes(7);
        assertThat(new String(line, UTF_8)).isEqualTo("let in\n");
      }
    }
  }

  @Test
  void hexDumpShowsBothDirectionsOnStderrAndOnlyDataOnStdout() throws Exception {
    Path hi = Files.writeString(dir.resolve("hi"), "hello, world!\n");
    Path out = dir.resolve("out");
    try (RunningProcess server =
        RunningProcess.start(List.of("python3", "-c", COUNTING_SERVER, "60"), Map.of())) {
      String port = server.nextLine();
      try (PipedProcess connect =
          jsock(
              Redirect.from(hi.toFile()),
              Redirect.to(out.toFile()),
              "connect",
              "-x",
              "127.0.0.1",
              port)) {
        assertThat(connect.exitCode()).isZero();
        assertThat(connect.stderr())
            .isEqualTo(
                """
                jsock: > 14 bytes to 127.0.0.1:%1$s
                00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a        |hello, world!.|
                jsock: < 12 bytes from 127.0.0.1:%1$s
                00000000  67 6f 74 20 31 34 20 62  79 74 65 73              |got 14 bytes|
                """
                    .formatted(port));
      }
      assertThat(Files.readString(out)).isEqualTo("got 14 bytes");
    }
  }

  // ---------------------------------------------------------------- UDP, AF_UNIX, IPv6

  @Test
  void udpListenPrintsTheFirstPeersDatagramsAndSendsStdinBack() throws Exception {
    try (PipedProcess listen = jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-u", "0");
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      client.setTimeout(LIMIT);
      client.connect(new InetSocketAddress("127.0.0.1", port));
      client.send("ping\n".getBytes(UTF_8));
      assertThat(new String(listen.stdout().readNBytes(5), UTF_8)).isEqualTo("ping\n");
      listen.stdin().write("pong\n".getBytes(UTF_8));
      listen.stdin().flush();
      assertThat(new String(client.recv(65536), UTF_8)).isEqualTo("pong\n");
      listen.stdin().close();
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  // --send-only throws what arrives away; listen -u printed its first peer's first datagram anyway
  @Test
  void udpListenSendOnlyPrintsNoDatagramNotEvenTheFirst() throws Exception {
    try (PipedProcess listen =
            jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-u", "--send-only", "0");
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      client.setTimeout(LIMIT);
      client.connect(new InetSocketAddress("127.0.0.1", port));
      client.send("first\n".getBytes(UTF_8));
      listen.stdin().write("reply\n".getBytes(UTF_8)); // read once the first datagram has come
      listen.stdin().flush();
      assertThat(new String(client.recv(65536), UTF_8)).isEqualTo("reply\n");
      client.send("second\n".getBytes(UTF_8));
      listen.stdin().close();

      assertThat(listen.stdout().readAllBytes()).isEmpty();
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  // --recv-only reads no stdin, so none ends: as ncat -u -l --recv-only, a UDP listener prints on
  // after a silence; jsock took stdin for ended and exited a second after the first datagram
  @Test
  void udpListenRecvOnlyGoesOnPrintingAfterASilenceLongerThanTheLinger() throws Exception {
    try (PipedProcess listen =
            jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-u", "--recv-only", "0");
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      client.connect(new InetSocketAddress("127.0.0.1", port));
      client.send("one\n".getBytes(UTF_8));
      assertThat(new String(listen.stdout().readNBytes(4), UTF_8)).isEqualTo("one\n");
      Thread.sleep(Bridge.UDP_LINGER.multipliedBy(2)); // the silence: a lower bound, not a guess
      client.send("two\n".getBytes(UTF_8));

      assertThat(new String(listen.stdout().readNBytes(4), UTF_8)).isEqualTo("two\n");
      assertThat(listen.isAlive()).as(listen.stderr()).isTrue();
    }
  }

  // Linux's connect filters only the datagrams that come after it: another sender's datagram
  // queued behind the first peer's was printed as the peer's, even one --deny refuses
  @Test
  void udpListenIgnoresAnotherSendersDatagramQueuedBehindTheFirstPeers() throws Exception {
    try (PipedProcess listen =
            jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-u", "--deny", "127.0.0.2", "0");
        Socket peer = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket denied = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
      denied.bind("127.0.0.2", 0);
      signal("STOP", listen.pid()); // all three datagrams queue before listen receives one
      try {
        peer.sendTo("from the peer\n".getBytes(UTF_8), to);
        denied.sendTo("from 127.0.0.2\n".getBytes(UTF_8), to);
        peer.sendTo("the peer again\n".getBytes(UTF_8), to);
      } finally {
        signal("CONT", listen.pid());
      }
      listen.stdin().close(); // it ends once no datagram has come for a second

      assertThat(new String(listen.stdout().readAllBytes(), UTF_8))
          .isEqualTo("from the peer\nthe peer again\n");
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, "" + pid).inheritIO().start();
    assertThat(kill.waitFor()).isZero();
  }

  // nc -u -l prints a burst from its peer whole; jsock printed the first datagram only: its
  // connect to the peer discarded the datagrams already queued behind it
  @Test
  void udpListenPrintsEveryDatagramOfABurstFromTheFirstPeer() throws Exception {
    try (PipedProcess listen = jsock(Redirect.PIPE, Redirect.PIPE, "listen", "-u", "0");
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      int port = listen.listeningPort();
      client.connect(new InetSocketAddress("127.0.0.1", port));
      // The first datagram, printed once listen has connected to its sender; then a burst. (A
      // burst sent before the connect is kept too, but not what arrives during the JDK's connect,
      // which discards the queue: the library's SocketDatagramTest shows the kept queue.)
      client.send("00;".getBytes(UTF_8));
      assertThat(new String(listen.stdout().readNBytes(3), UTF_8)).isEqualTo("00;");
      StringBuilder burst = new StringBuilder();
      for (int i = 1; i < 100; i++) {
        byte[] datagram = String.format("%02d;", i).getBytes(UTF_8);
        client.send(datagram);
        burst.append(new String(datagram, UTF_8));
      }
      listen.stdin().close(); // it ends once no datagram has come for a second

      assertThat(new String(listen.stdout().readAllBytes(), UTF_8)).isEqualTo(burst.toString());
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
  }

  @Test
  void udpConnectSendsStdinAsADatagramAndPrintsTheReply() throws Exception {
    Path ping = Files.writeString(dir.resolve("ping"), "ping\n");
    Path out = dir.resolve("out");
    try (Socket server = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      server.bind("127.0.0.1", 0);
      server.setTimeout(LIMIT);
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      try (PipedProcess connect =
          jsock(
              Redirect.from(ping.toFile()),
              Redirect.to(out.toFile()),
              "connect",
              "-u",
              "127.0.0.1",
              "" + port)) {
        var datagram = server.recvFrom(65536);
        assertThat(new String(datagram.data(), UTF_8)).isEqualTo("ping\n");
        server.sendTo("pong\n".getBytes(UTF_8), datagram.address());
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      }
      assertThat(Files.readString(out)).isEqualTo("pong\n");
    }
  }

  /**
   * O_NONBLOCK belongs to the open pipe or terminal, shared by every process using it, so a stdin
   * may come non-blocking: its empty reads made {@code connect -u} send an empty datagram each, in
   * a loop, between the lines given (and a TCP bridge spin).
   */
  @Test
  void udpConnectWithANonBlockingStdinSendsOnlyWhatStdinGives() throws Exception {
    String nonBlockingStdin =
        "import fcntl, os, sys\n"
            + "fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)\n"
            + "os.execv(sys.argv[1], sys.argv[1:])\n";
    try (Socket server = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      server.bind("127.0.0.1", 0);
      server.setTimeout(LIMIT);
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      List<String> command = new ArrayList<>(List.of("python3", "-c", nonBlockingStdin));
      command.addAll(PipedProcess.jsock("connect", "-u", "127.0.0.1", "" + port));
      try (PipedProcess connect =
          PipedProcess.start(command, Map.of(), Redirect.PIPE, Redirect.PIPE)) {
        connect.stdin().write("one\n".getBytes(UTF_8));
        connect.stdin().flush();
        var first = server.recvFrom(65536);
        assertThat(new String(first.data(), UTF_8)).isEqualTo("one\n");
        server.sendTo("pong\n".getBytes(UTF_8), first.address());
        assertThat(new String(connect.stdout().readNBytes(5), UTF_8)).isEqualTo("pong\n");

        connect.stdin().write("two\n".getBytes(UTF_8)); // jsock has read stdin empty meanwhile
        connect.stdin().close();
        assertThat(new String(server.recv(65536), UTF_8)).isEqualTo("two\n");
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      }
    }
  }

  @Test
  void unixListenAndConnectExchangeBothWaysAndTheSocketFileIsRemoved() throws Exception {
    Path path = dir.resolve("bridge.sock");
    Path toListen = randomFile("to-listen.bin", 200_000, 11);
    Path toConnect = randomFile("to-connect.bin", 150_000, 12);
    Path listenOut = dir.resolve("listen.out");
    Path connectOut = dir.resolve("connect.out");
    try (PipedProcess listen =
        jsock(
            Redirect.from(toConnect.toFile()),
            Redirect.to(listenOut.toFile()),
            "listen",
            "-v",
            "-U",
            path.toString())) {
      listen.awaitStderr("listening on " + path);
      try (PipedProcess connect =
          jsock(
              Redirect.from(toListen.toFile()),
              Redirect.to(connectOut.toFile()),
              "connect",
              "-U",
              path.toString())) {
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
    }
    assertThat(sha256(listenOut)).isEqualTo(sha256(toListen));
    assertThat(sha256(connectOut)).isEqualTo(sha256(toConnect));
    assertThat(path).doesNotExist();
  }

  // -w waits for room in an AF_UNIX listener's full queue (socat's blocking connect waits for it
  // too): the library's connect with a timeout gives EAGAIN at once, as CPython's, which ended
  // jsock with exit 1 'resource temporarily unavailable' however long -w was
  @Test
  void unixConnectWaitsUpToItsWaitForRoomInAFullQueueThenTimesOut() throws Exception {
    Path path = dir.resolve("full.sock");
    List<Socket> queued = new ArrayList<>();
    try (Socket listener = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      listener.bind(UnixDomainSocketAddress.of(path));
      listener.listen(0);
      for (int i = 0; i < 64; i++) { // the kernel queues one more than the backlog
        Socket filler = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
        queued.add(filler);
        filler.setBlocking(false);
        if (filler.connectEx(UnixDomainSocketAddress.of(path)) != 0) {
          break;
        }
        filler.shutdown(Shutdown.SHUT_WR); // read to its end at once once accepted: no wait
      }
      try (PipedProcess connect =
          jsock(
              Redirect.from(devNull()),
              Redirect.DISCARD,
              "connect",
              "-w",
              "300ms",
              "-U",
              "" + path)) {
        assertThat(connect.exitCode()).as(connect.stderr()).isEqualTo(4);
        assertThat(connect.stderr()).isEqualTo("jsock: connect to " + path + ": timed out\n");
      }

      Path hi = Files.writeString(dir.resolve("hi"), "room at last\n");
      try (PipedProcess connect =
          jsock(
              Redirect.from(hi.toFile()),
              Redirect.DISCARD,
              "connect",
              "-w",
              "60s",
              "-U",
              "" + path)) {
        // once jsock has its socket (and so is trying), the queue makes room, one at a time
        Path fds = Path.of("/proc/" + connect.pid() + "/fd");
        await().atMost(LIMIT).until(() -> holdsASocket(fds));
        listener.setTimeout(LIMIT);
        String got = "";
        for (int i = 0; i <= queued.size() && got.isEmpty(); i++) {
          try (Socket conn = listener.accept().conn()) {
            conn.setTimeout(LIMIT);
            got = new String(readToEnd(conn), UTF_8); // a filler's is empty
          }
        }
        assertThat(got).isEqualTo("room at last\n");
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      }
    } finally {
      for (Socket filler : queued) {
        filler.close();
      }
    }
  }

  private static boolean holdsASocket(Path fds) throws IOException {
    try (Stream<Path> each = Files.list(fds)) {
      return each.anyMatch(
          fd -> {
            try {
              return Files.readSymbolicLink(fd).toString().startsWith("socket:");
            } catch (IOException gone) {
              return false;
            }
          });
    }
  }

  @Test
  void ipv6OnlyListensOnLoopbackV6AndConnectReachesIt() throws Exception {
    Path hi = Files.writeString(dir.resolve("hi"), "over IPv6\n");
    Path out = dir.resolve("out");
    try (PipedProcess listen =
        jsock(Redirect.from(devNull()), Redirect.to(out.toFile()), "listen", "-6", "-v", "0")) {
      int port = Integer.parseInt(listen.awaitStderr("listening on \\[::1\\]:(\\d+)").group(1));
      try (PipedProcess connect =
          jsock(
              Redirect.from(hi.toFile()),
              Redirect.DISCARD,
              "connect",
              "-6",
              "-v",
              "::1",
              "" + port)) {
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(connect.stderr()).contains("jsock: connected to [::1]:" + port + " (TCP)");
      }
      assertThat(listen.exitCode()).isZero();
    }
    assertThat(Files.readString(out)).isEqualTo("over IPv6\n");
  }

  /** As ncat -6: a listener on {@code ::} with {@code -6} is IPv6-only (IPV6_V6ONLY). */
  @Test
  void ipv6OnlyOnTheWildcardRefusesIpv4Clients() throws Exception {
    Path out = dir.resolve("out");
    try (PipedProcess listen =
        jsock(Redirect.from(devNull()), Redirect.to(out.toFile()), "listen", "-6", "::", "0")) {
      int port = Integer.parseInt(listen.awaitStderr("listening on \\[::\\]:(\\d+)").group(1));
      try (Socket v4 = Socket.create()) {
        v4.setTimeout(LIMIT);
        assertThatThrownBy(() -> v4.connect("127.0.0.1", port))
            .isInstanceOf(ConnectionRefusedException.class);
      }
      try (Socket v6 = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM)) {
        v6.setTimeout(LIMIT);
        v6.connect("::1", port);
        v6.sendAll("over IPv6\n".getBytes(UTF_8));
        v6.shutdown(Shutdown.SHUT_WR);
        assertThat(readToEnd(v6)).isEmpty();
      }
      assertThat(listen.exitCode()).as(listen.stderr()).isZero();
    }
    assertThat(Files.readString(out)).isEqualTo("over IPv6\n");
  }

  // ---------------------------------------------------------------- tools

  private static PipedProcess jsock(Redirect in, Redirect out, String... args) {
    return PipedProcess.start(PipedProcess.jsock(args), Map.of(), in, out);
  }

  private static File devNull() {
    return new File("/dev/null");
  }

  private Path randomFile(String name, int size, long seed) throws IOException {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return Files.write(dir.resolve(name), data);
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        digest.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static byte[] readToEnd(Socket conn) throws IOException {
    var all = new ByteArrayOutputStream();
    byte[] chunk;
    while ((chunk = conn.recv(65536)).length > 0) {
      all.writeBytes(chunk);
    }
    return all.toByteArray();
  }

  private static List<String> withPort(List<String> command, int port) {
    return command.stream().map(arg -> arg.replace("PORT", "" + port)).toList();
  }

  /**
   * Waits until a socket listens on 127.0.0.1:port, as /proc/net/tcp tells, without connecting: the
   * listeners of nc and its kind serve the first connection only.
   */
  static void awaitListening(int port) {
    awaitListening("0100007F:%04X".formatted(port)::equals);
  }

  /**
   * Waits until a TCP socket listens on {@code port} on any IPv4 address (ncat's HTTP proxy listens
   * on 0.0.0.0 whatever address it is given), as /proc/net/tcp tells.
   */
  static void awaitListeningOnAnyAddress(int port) {
    String anyAddress = ":%04X".formatted(port);
    awaitListening(local -> local.endsWith(anyAddress));
  }

  private static void awaitListening(Predicate<String> local) {
    await()
        .atMost(LIMIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                Files.readAllLines(Path.of("/proc/net/tcp")).stream()
                    .map(line -> line.strip().split("\\s+"))
                    .anyMatch(f -> f.length > 3 && local.test(f[1]) && f[3].equals("0A")));
  }
}
