package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.ConnectionResetException;
import io.jsock.Datagram;
import io.jsock.Family;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.testing.Echoes;
import io.jsock.testing.Echoes.Transfer;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Integration test (runs the real {@code ./jsock relay} between tiny in-test servers and clients on
 * loopback): half-close and reset carried across, TLS on either side, AF_UNIX, UDP, and each fault
 * option observed by a test client. Timing checks are lower bounds the relay guarantees by design.
 */
class RelayCommandIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final Pattern LISTENING =
      Pattern.compile("relay listening on (?:127\\.0\\.0\\.1:(\\d+)|(/.*)), forwarding");

  // ------------------------------------------------------------------ faithful relaying

  @Test
  void halfCloseTravelsThroughTheRelayAndTheReplyComesBack() throws Exception {
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  byte[] request = readAll(conn); // to the client's half-close
                  conn.sendAll(("got " + request.length + " bytes").getBytes(US_ASCII));
                  return request.length;
                });
        RunningProcess relay = jsock("relay", "-v", "0", "127.0.0.1:" + server.port())) {
      try (Socket client = connect(port(relay))) {
        client.sendAll(new byte[100_000]);
        client.shutdown(Shutdown.SHUT_WR);
        assertThat(new String(readAll(client), US_ASCII)).isEqualTo("got 100000 bytes");
      }
      assertThat(server.nextResult()).isEqualTo(100_000);
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  relay
                      .stderrSoFar()
                      .contains("closed: both directions ended (up 100000 bytes, down 16 bytes)"));
    }
  }

  @Test
  void onPortZeroWithoutVerboseTheRelaySaysWhichPortItGot() throws Exception {
    // it said nothing without -v, so no client could find it
    try (TinyServer server = TinyServer.start(conn -> readAll(conn).length);
        RunningProcess relay = jsock("relay", "0", "127.0.0.1:" + server.port())) {
      try (Socket client = connect(port(relay))) {
        client.sendAll(new byte[10]);
        client.shutdown(Shutdown.SHUT_WR);
        assertThat(readAll(client)).isEmpty();
      }
      assertThat(server.nextResult()).isEqualTo(10);
    }
  }

  @Test
  void aResetOnEitherSideResetsTheOther() throws Exception {
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  byte[] first = conn.recv(1);
                  if (first[0] == 'R') { // the server resets
                    conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
                    return "reset";
                  }
                  return conn.recv(1024); // the client resets: this recv fails
                });
        RunningProcess relay = jsock("relay", "-v", "0", "127.0.0.1:" + server.port())) {
      int port = port(relay);
      try (Socket client = connect(port)) {
        client.sendAll("R".getBytes(US_ASCII));
        assertThat(server.nextResult()).isEqualTo("reset");
        assertThatThrownBy(() -> readAll(client)).isInstanceOf(ConnectionResetException.class);
      }
      Socket client = connect(port);
      client.sendAll("C".getBytes(US_ASCII));
      await().atMost(LIMIT).until(() -> relay.stderrSoFar().contains("#2 127.0.0.1:"));
      client.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      client.close();
      assertThat(server.nextResult()).isInstanceOf(ConnectionResetException.class);
    }
  }

  /**
   * A target that resets while the relay is both writing to it and reading from it: Linux reports
   * the reset once, to whichever call asks first, so when the up direction's send took it, the down
   * direction's recv saw a plain end of file and passed it on as a half-close before the write's
   * failure reset the client. The client then saw a clean end of stream, its reset coming after as
   * a broken pipe (found by cli/src/test/resources/socat-differential.py, seed 54; a few
   * connections in a hundred). A client whose send is cut by the target's reset must meet a reset.
   */
  @Test
  void aTargetsResetWhileTheRelayWritesToItNeverReachesTheClientAsAnEndOfStream() throws Exception {
    assertATargetsResetWhileTheRelayWritesToItReachesTheClientAsAReset(onPath("epoll"));
  }

  /**
   * The same on the portable path, where the relay cannot tell that end of stream from a FIN: the
   * JDK's channel keeps the kernel's answers from it ({@code getRemoteAddress} is remembered, a
   * {@code shutdownInput} drops {@code ENOTCONN}, an empty write makes no system call), so the
   * client sees a clean end of stream now and then (a few connections in a hundred).
   */
  @Disabled(
      "fails on the portable path (a clean end of stream, no reset at all, within 100 attempts):"
          + " the JDK's channel hides whether a TCP connection was reset or half-closed once a send"
          + " took the reset's error; /proc/self/net/tcp{,6} still tells (a half-closed"
          + " connection is listed in CLOSE_WAIT, a reset one is gone), not done yet")
  @Test
  void onThePortablePathATargetsResetWhileTheRelayWritesToItNeverReachesTheClientAsAnEndOfStream()
      throws Exception {
    assertATargetsResetWhileTheRelayWritesToItReachesTheClientAsAReset(onPath("portable"));
  }

  private static void assertATargetsResetWhileTheRelayWritesToItReachesTheClientAsAReset(
      Map<String, String> env) throws Exception {
    try (TinyServer server = TinyServer.start(RelayCommandIT::resetAfter1000Bytes);
        RunningProcess relay = jsock(env, "relay", "0", "127.0.0.1:" + server.port())) {
      assertEachClientSendingMoreThanTheTargetReadsIsReset(port(relay), server, 100);
    }
  }

  /**
   * An AF_UNIX target that closes with the relay's bytes unread, which Linux reports to the relay's
   * read as {@code ECONNRESET} (and to its send as {@code EPIPE}, which takes nothing): the TCP
   * client meets a reset, never an end of stream.
   */
  @ParameterizedTest(name = "{0} path")
  @ValueSource(strings = {"epoll", "portable"})
  void anAfUnixTargetsCloseWithBytesUnreadReachesTheClientAsAReset(String path, @TempDir Path dir)
      throws Exception {
    Path targetPath = dir.resolve("target.sock");
    try (TinyServer server = TinyServer.startOnUnix(targetPath, RelayCommandIT::read1000Bytes);
        RunningProcess relay = jsock(onPath(path), "relay", "0", "unix:" + targetPath)) {
      assertEachClientSendingMoreThanTheTargetReadsIsReset(port(relay), server, 50);
    }
  }

  @Tag("slow")
  @Test
  void theIdleTimeoutDoesNotCutATransferToASlowButSteadyReader(@TempDir Path dir) throws Exception {
    // A write to a client that reads slowly moves bytes all the while, as socat -T counts them;
    // the relay counted only a write done, and with an AF_UNIX client (whose buffers do not grow
    // as loopback TCP's do) one took longer than the idle timeout, so the relay closed the
    // connection in mid-transfer. Each part of a write that goes counts now; the kernel lets a
    // writer on an AF_UNIX socket go on once its reader has taken most of what is queued (about
    // 160 KiB here), so the reader takes 32 KiB every 100 ms, the idle timeout is 2 s and the
    // whole transfer takes several seconds (7 to 11 measured).
    int size = 2 * 1024 * 1024;
    Path path = dir.resolve("relay.sock");
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  conn.sendAll(new byte[size]); // as fast as the relay takes it
                  return "sent";
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "--idle-timeout",
                "2s",
                "unix:" + path,
                "127.0.0.1:" + server.port());
        Socket client = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      port(relay);
      client.setTimeout(LIMIT);
      client.connect(UnixDomainSocketAddress.of(path));
      byte[] buf = new byte[32 * 1024];
      long received = 0;
      for (int i = 0; i < 1000 && received < size; i++) { // up to 32 KiB every 100 ms
        int n = client.recvInto(buf, 0);
        if (n == 0) {
          break;
        }
        received += n;
        Thread.sleep(100);
      }
      assertThat(received).as("relay's stderr: %s", relay.stderrSoFar()).isEqualTo(size);
      assertThat(server.nextResult()).isEqualTo("sent");
    }
  }

  @Test
  void theIdleTimeoutClosesAConnectionWhoseReaderHasStoppedTakingData(@TempDir Path dir)
      throws Exception {
    // A write waiting on a reader that takes nothing moves no byte, as socat -T counts it: the
    // relay stood its idle clock still for the whole blocked write and kept such a connection
    // open for as long as the reader kept still (for ever)
    Path path = dir.resolve("relay.sock");
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  try {
                    conn.sendAll(new byte[16 * 1024 * 1024]); // more than every buffer between
                    return "sent";
                  } catch (IOException e) {
                    return "cut";
                  }
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "--idle-timeout",
                "1s",
                "unix:" + path,
                "127.0.0.1:" + server.port());
        Socket client = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      port(relay);
      client.connect(UnixDomainSocketAddress.of(path)); // and never reads
      await().atMost(LIMIT).until(() -> relay.stderrSoFar().contains("closed: idle for 1s"));
      assertThat(server.nextResult()).isEqualTo("cut");
    }
  }

  @Test
  void theIdleTimeoutClosesAConnectionOnWhichNeitherSideSends() throws Exception {
    try (TinyServer server = TinyServer.start(conn -> readAll(conn).length);
        RunningProcess relay =
            jsock("relay", "-v", "--idle-timeout", "500ms", "0", "127.0.0.1:" + server.port());
        Socket client = connect(port(relay))) {
      assertThat(readAll(client)).isEmpty(); // the relay's close, with nothing sent either way
      assertThat(server.nextResult()).isEqualTo(0);
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  relay
                      .stderrSoFar()
                      .contains("closed: idle for 500ms (up 0 bytes, down 0 bytes)"));
    }
  }

  @Test
  void anUnreachableTargetResetsTheClientAndSaysWhy() throws Exception {
    int nobody = FreePort.find();
    try (RunningProcess relay = jsock("relay", "0", "127.0.0.1:" + nobody, "-v")) {
      assertResetWhileConnectingOrReading(port(relay));
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  relay
                      .stderrSoFar()
                      .contains("connect to 127.0.0.1:" + nobody + ": connection refused"));
    }
  }

  @Test
  void tlsOnTheListenerInFrontOfAPlainServer() throws Exception {
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo);
        RunningProcess relay = jsock("relay", "-v", "tls:0", "127.0.0.1:" + server.port())) {
      Socket plain = connect(port(relay));
      Socket client = Tls.client().insecureNoVerification().wrap(plain, null);
      Transfer t = Echoes.exchange(client, 1, 256 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();
      assertThat(relay.stderrSoFar()).contains("development certificate");
    }
  }

  @Test
  void aTargetsResetReachesATlsClientAsAResetNotAnOrderlyEnd() throws Exception {
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  conn.recv(1);
                  conn.sendAll("partial".getBytes(US_ASCII));
                  conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
                  return "reset";
                });
        RunningProcess relay = jsock("relay", "-v", "tls:0", "127.0.0.1:" + server.port())) {
      try (Socket client = Tls.client().insecureNoVerification().wrap(connect(port(relay)), null)) {
        client.sendAll("?".getBytes(US_ASCII));
        assertThat(server.nextResult()).isEqualTo("reset");
        assertThat(new String(client.recv(7), US_ASCII)).isEqualTo("partial");
        assertThatThrownBy(() -> readAll(client)).isInstanceOf(ConnectionResetException.class);
      }
    }
  }

  @Test
  void connectTimeoutBoundsTheTlsHandshakeWithTheTarget() throws Exception {
    // a target that accepts but never answers the ClientHello; the handshake's own bound is 10 s
    try (TinyServer server = TinyServer.start(conn -> readAll(conn).length);
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "0",
                "tls:127.0.0.1:" + server.port(),
                "--insecure",
                "--connect-timeout",
                "300ms")) {
      try (Socket client = connect(port(relay))) {
        client.setTimeout(Duration.ofSeconds(5)); // generous beside 300 ms, short of 10 s
        assertThatThrownBy(() -> readAll(client)).isInstanceOf(ConnectionResetException.class);
      }
      await().atMost(LIMIT).until(() -> relay.stderrSoFar().contains("timed out; client reset"));
    }
  }

  @Test
  void tlsToTheTargetIsVerifiedWithCa(@TempDir Path dir) throws Exception {
    KeyMaterial key = KeyMaterial.selfSigned("localhost", "127.0.0.1");
    Path ca = dir.resolve("ca.pem");
    Files.writeString(
        ca,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder().encodeToString(key.certificateChain().getFirst().getEncoded())
            + "\n-----END CERTIFICATE-----\n");
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo, Tls.server(key))) {
      String target = "tls:localhost:" + server.port();
      try (RunningProcess relay = jsock("relay", "-v", "0", target, "--ca", ca.toString())) {
        Transfer t = Echoes.exchange(connect(port(relay)), 2, 256 * 1024);
        assertThat(t.intact()).as("%s", t).isTrue();
      }
      try (RunningProcess untrusting = jsock("relay", "-v", "0", target);
          Socket client = connect(port(untrusting))) {
        assertThatThrownBy(() -> readAll(client)).isInstanceOf(ConnectionResetException.class);
        await().atMost(LIMIT).until(() -> untrusting.stderrSoFar().contains("; client reset"));
      }
    }
  }

  @Test
  void anAfUnixListenerRelaysToTcp(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("relay.sock");
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo);
        RunningProcess relay = jsock("relay", "-v", "unix:" + path, "127.0.0.1:" + server.port())) {
      port(relay);
      Socket client = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
      client.setTimeout(LIMIT);
      client.connect(UnixDomainSocketAddress.of(path));
      Transfer t = Echoes.exchange(client, 3, 256 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();
    }
  }

  @Test
  void udpDatagramsGoBothWaysPerClientAddress() throws Exception {
    try (Socket server = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      server.bind("127.0.0.1", 0);
      int serverPort = ((InetSocketAddress) server.getSockName()).getPort();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  for (int i = 0; i < 100; i++) { // bounded: the test sends four
                    Datagram d = server.recvFrom(65536);
                    server.sendTo(
                        new String(d.data(), US_ASCII).toUpperCase().getBytes(US_ASCII),
                        d.address());
                  }
                } catch (IOException e) {
                  // closed by the test
                }
              });
      try (RunningProcess relay = jsock("relay", "-v", "udp:0", "udp:127.0.0.1:" + serverPort);
          Socket one = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
          Socket two = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
          Socket three = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
        int port = port(relay);
        for (Socket client : List.of(one, two)) {
          client.setTimeout(LIMIT);
          client.connect(new InetSocketAddress("127.0.0.1", port));
        }
        one.send("one".getBytes(US_ASCII));
        two.send("two".getBytes(US_ASCII));
        assertThat(new String(two.recv(100), US_ASCII)).isEqualTo("TWO");
        assertThat(new String(one.recv(100), US_ASCII)).isEqualTo("ONE");
        one.send("x".repeat(60_000).getBytes(US_ASCII));
        assertThat(new String(one.recv(65536), US_ASCII)).isEqualTo("X".repeat(60_000));
        // an empty datagram is a datagram too (keep-alives, probes); sent with sendTo, as the
        // JDK's connected channel in this JVM (no StreamCalls) would send nothing
        InetSocketAddress relayAddress = new InetSocketAddress("127.0.0.1", port);
        three.bind("127.0.0.1", 0);
        three.setTimeout(LIMIT);
        three.sendTo(new byte[0], relayAddress);
        assertThat(three.recvFrom(100).data()).isEmpty();
        three.sendTo("after".getBytes(US_ASCII), relayAddress);
        assertThat(new String(three.recvFrom(100).data(), US_ASCII)).isEqualTo("AFTER");
        await()
            .atMost(LIMIT)
            .until(() -> relay.stderrSoFar().split(" session to udp:").length == 4);
      }
    }
  }

  @Test
  void aDeniedPeerIsResetAndNeverReachesTheTarget() throws Exception {
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo);
        RunningProcess relay =
            jsock("relay", "-v", "0", "127.0.0.1:" + server.port(), "--deny", "127.0.0.0/8")) {
      assertResetWhileConnectingOrReading(port(relay));
      await()
          .atMost(LIMIT)
          .until(() -> relay.stderrSoFar().contains("refused: not allowed by --allow/--deny"));
    }
  }

  @Test
  void aListenPortInUseExitsWithSeven() throws Exception {
    try (Socket taken = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      taken.bind("127.0.0.1", 0);
      taken.listen(1);
      int port = ((InetSocketAddress) taken.getSockName()).getPort();
      try (RunningProcess relay = jsock("relay", String.valueOf(port), "127.0.0.1:9")) {
        assertThat(relay.exitCode()).isEqualTo(7);
        assertThat(relay.stderr()).startsWith("jsock: ").contains("already in use");
      }
    }
  }

  // ------------------------------------------------------------------ faults

  @Test
  void latencyDelaysEachDirection() throws Exception {
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo);
        RunningProcess relay =
            jsock("relay", "-v", "0", "127.0.0.1:" + server.port(), "--latency", "150ms±50ms")) {
      try (Socket client = connect(port(relay))) {
        for (int i = 0; i < 3; i++) {
          long start = System.nanoTime();
          client.sendAll(("ping" + i).getBytes(US_ASCII));
          assertThat(new String(client.recv(100), US_ASCII)).isEqualTo("ping" + i);
          assertThat(millisSince(start))
              .as("round trip through two directions of at least 100 ms each")
              .isGreaterThanOrEqualTo(200);
        }
      }
    }
  }

  @Test
  void withLatencyAResetComesAfterTheBytesSentBeforeIt() throws Exception {
    // A peer that sends a few bytes and then resets: the other side reads the bytes, then the
    // reset, as it would directly (and as the relay without --latency delivers them). With
    // --latency the reset was carried across at once, overtaking the bytes still held for their
    // due time, which were lost.
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  byte[] first = conn.recv(1);
                  if (first[0] == 'R') { // the server answers, then resets
                    conn.sendAll("answer".getBytes(US_ASCII));
                    conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
                    return "reset";
                  }
                  String got = new String(conn.recv(100), US_ASCII);
                  try {
                    return got + ", then " + conn.recv(100).length + " bytes";
                  } catch (ConnectionResetException e) {
                    return got + ", then a reset";
                  }
                });
        RunningProcess relay =
            jsock("relay", "-v", "0", "127.0.0.1:" + server.port(), "--latency", "300ms")) {
      int port = port(relay);
      try (Socket client = connect(port)) {
        client.sendAll("R".getBytes(US_ASCII));
        assertThat(server.nextResult()).isEqualTo("reset");
        assertThat(new String(client.recv(100), US_ASCII)).isEqualTo("answer");
        assertThatThrownBy(() -> client.recv(100)).isInstanceOf(ConnectionResetException.class);
      }
      Socket client = connect(port);
      client.sendAll("Cquestion".getBytes(US_ASCII));
      await().atMost(LIMIT).until(() -> relay.stderrSoFar().contains("#2 127.0.0.1:")); // accepted
      client.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      client.close(); // the client asks, then resets
      assertThat(server.nextResult()).isEqualTo("question, then a reset");
    }
  }

  @Test
  void bandwidthPacesTheStream() throws Exception {
    byte[] data = random(16 * 1024);
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  conn.sendAll(data);
                  return null;
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "0",
                "127.0.0.1:" + server.port(),
                "--bandwidth",
                "16KiB/s",
                "--direction",
                "down")) {
      int port = port(relay);
      long start = System.nanoTime();
      try (Socket client = connect(port)) {
        assertThat(readAll(client)).isEqualTo(data);
      }
      // 16 KiB at 16 KiB/s, the first piece (1/20 s worth) free: at least 0.95 s.
      assertThat(millisSince(start)).isGreaterThanOrEqualTo(900);
    }
  }

  @Test
  void sliceCutsEachChunkIntoSmallWrites() throws Exception {
    byte[] data = random(300);
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  List<Integer> reads = new ArrayList<>();
                  ByteArrayOutputStream all = new ByteArrayOutputStream();
                  byte[] buf = new byte[4096];
                  int n;
                  while ((n = conn.recvInto(buf, 0)) > 0) {
                    reads.add(n);
                    all.write(buf, 0, n);
                  }
                  return List.of(reads, all.toByteArray());
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-vv",
                "0",
                "127.0.0.1:" + server.port(),
                "--slice",
                "7±5",
                "--slice-delay",
                "5ms")) {
      try (Socket client = connect(port(relay))) {
        client.sendAll(data);
        client.shutdown(Shutdown.SHUT_WR);
        assertThat(readAll(client)).isEmpty();
      }
      List<?> result = (List<?>) server.nextResult();
      assertThat((byte[]) result.get(1)).isEqualTo(data);
      assertThat((List<?>) result.get(0)).as("reads at the server").hasSizeGreaterThan(10);
      await().atMost(LIMIT).until(() -> relay.stderrSoFar().contains("closed: both directions"));
      Matcher pieces = Pattern.compile("#1 [^ ]+ > (\\d+) bytes\n").matcher(relay.stderrSoFar());
      int total = 0;
      int count = 0;
      while (pieces.find()) {
        // 2 to 12 bytes each, but a chunk's last piece is what is left of it: 1 byte or more
        assertThat(Integer.parseInt(pieces.group(1))).isBetween(1, 12);
        total += Integer.parseInt(pieces.group(1));
        count++;
      }
      assertThat(total).as("bytes written in pieces, by the relay's -vv").isEqualTo(300);
      assertThat(count).as("pieces").isGreaterThanOrEqualTo(300 / 12);
    }
  }

  @Test
  void limitDataDeliversExactlyThatManyBytesThenCloses() throws Exception {
    byte[] data = random(5000);
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  conn.sendAll(data);
                  return readAll(conn).length; // until the relay closes
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "0",
                "127.0.0.1:" + server.port(),
                "--limit-data",
                "1000",
                "--direction",
                "down")) {
      try (Socket client = connect(port(relay))) {
        assertThat(readAll(client)).isEqualTo(Arrays.copyOf(data, 1000));
      }
      await()
          .atMost(LIMIT)
          .until(() -> relay.stderrSoFar().contains("closed: --limit-data 1000 reached"));
    }
  }

  @Test
  void resetAfterResetsTheConnectionOnTime() throws Exception {
    try (TinyServer server = TinyServer.start(RelayCommandIT::echo);
        RunningProcess relay =
            jsock("relay", "-v", "0", "127.0.0.1:" + server.port(), "--reset-after", "300ms")) {
      int port = port(relay);
      long start = System.nanoTime();
      try (Socket client = connect(port)) {
        client.sendAll("a".getBytes(US_ASCII));
        assertThat(client.recv(1)).containsExactly('a');
        assertThatThrownBy(() -> readAll(client)).isInstanceOf(ConnectionResetException.class);
      }
      assertThat(millisSince(start)).isGreaterThanOrEqualTo(300);
      assertThat(server.nextResult()).isInstanceOf(ConnectionResetException.class);
    }
  }

  @Test
  void timeoutDeliversNothingThenCloses() throws Exception {
    try (TinyServer server = TinyServer.start(conn -> readAll(conn).length);
        RunningProcess relay =
            jsock("relay", "-v", "0", "127.0.0.1:" + server.port(), "--timeout", "400ms")) {
      int port = port(relay);
      long start = System.nanoTime();
      try (Socket client = connect(port)) {
        client.sendAll("hello?".getBytes(US_ASCII));
        assertThat(readAll(client)).isEmpty();
      }
      assertThat(millisSince(start)).isGreaterThanOrEqualTo(400);
      assertThat(server.nextResult()).as("bytes the server got").isEqualTo(0);
    }
  }

  @Test
  void slowCloseDelaysTheEndOfStream() throws Exception {
    try (TinyServer server =
            TinyServer.start(
                conn -> {
                  byte[] request = readAll(conn);
                  long endSeen = System.nanoTime();
                  conn.sendAll(request);
                  return endSeen;
                });
        RunningProcess relay =
            jsock(
                "relay",
                "-v",
                "0",
                "127.0.0.1:" + server.port(),
                "--slow-close",
                "400ms",
                "--direction",
                "up",
                "-x")) {
      long halfClosed;
      try (Socket client = connect(port(relay))) {
        client.sendAll("x".getBytes(US_ASCII));
        halfClosed = System.nanoTime();
        client.shutdown(Shutdown.SHUT_WR);
        assertThat(readAll(client)).containsExactly('x');
      }
      long endSeen = (Long) server.nextResult();
      assertThat((endSeen - halfClosed) / 1_000_000).isGreaterThanOrEqualTo(400);
      // -x: each chunk dumped under a header, both ways
      Pattern up = Pattern.compile("#1 127\\.0\\.0\\.1:\\d+ > 1 bytes\n00000000  78 .*\\|x\\|");
      Pattern down = Pattern.compile("#1 127\\.0\\.0\\.1:\\d+ < 1 bytes\n00000000  78 ");
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  up.matcher(relay.stderrSoFar()).find()
                      && down.matcher(relay.stderrSoFar()).find());
    }
  }

  // ------------------------------------------------------------------ tools

  /** The relay's listening port (or 0 for AF_UNIX), from its {@code -v} line on stderr. */
  private static int port(RunningProcess relay) {
    await()
        .atMost(LIMIT)
        .until(() -> !relay.isAlive() || LISTENING.matcher(relay.stderrSoFar()).find());
    Matcher m = LISTENING.matcher(relay.stderrSoFar());
    assertThat(m.find()).as("relay's stderr: %s", relay.stderrSoFar()).isTrue();
    return m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
  }

  private static Socket connect(int port) throws IOException {
    Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    client.setTimeout(LIMIT);
    client.connect(new InetSocketAddress("127.0.0.1", port));
    return client;
  }

  /**
   * A connection the relay resets at once: the kernel completes the handshake before the relay
   * accepts, so the reset reaches the client while its connect is finishing or at its first read.
   */
  private static void assertResetWhileConnectingOrReading(int port) {
    assertThatThrownBy(
            () -> {
              try (Socket client = connect(port)) {
                readAll(client);
              }
            })
        .isInstanceOf(ConnectionResetException.class);
  }

  /**
   * {@code attempts} clients in turn through the relay at {@code port}, each sending 4 MiB (the
   * relay is still writing to the target when the target's handler has read its 1,000 bytes and
   * closes; some may still fit in the buffers on the way, and then the client's read meets the
   * reset): each must meet a reset, never a clean end of stream.
   */
  private static void assertEachClientSendingMoreThanTheTargetReadsIsReset(
      int port, TinyServer server, int attempts) throws Exception {
    for (int i = 0; i < attempts; i++) {
      try (Socket client = connect(port)) {
        assertThatThrownBy(
                () -> {
                  client.sendAll(new byte[4 << 20]);
                  readAll(client);
                })
            .as("attempt %d of %d", i + 1, attempts)
            .isInstanceOf(ConnectionResetException.class);
      }
      assertThat(server.nextResult()).isEqualTo(1000);
    }
  }

  /** The relay's environment for {@code path}: "epoll" (the default) or "portable". */
  private static Map<String, String> onPath(String path) {
    return path.equals("portable")
        ? Map.of("JSOCK_JAVA_OPTS", "-Djsock.selectorPoller=true")
        : Map.of();
  }

  /** Reads 1,000 bytes and returns how many came; the close then finds more unread. */
  private static int read1000Bytes(Socket conn) throws IOException {
    byte[] some = new byte[1000];
    int got = 0;
    int n = 1;
    while (got < some.length && n > 0) {
      n = conn.recvInto(some, some.length - got);
      got += n;
    }
    return got;
  }

  /** {@link #read1000Bytes}, then a reset (SO_LINGER 0 for the close). */
  private static int resetAfter1000Bytes(Socket conn) throws IOException {
    int got = read1000Bytes(conn);
    conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
    return got;
  }

  private static byte[] readAll(Socket conn) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[16 * 1024];
    int n;
    while ((n = conn.recvInto(buf, 0)) > 0) {
      all.write(buf, 0, n);
    }
    return all.toByteArray();
  }

  private static Object echo(Socket conn) throws IOException {
    EchoCommand.echo(conn);
    return null;
  }

  private static byte[] random(int size) {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return data;
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
