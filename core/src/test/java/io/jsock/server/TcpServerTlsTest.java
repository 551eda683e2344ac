package io.jsock.server;

import static io.jsock.server.TcpServerTest.connect;
import static io.jsock.server.TcpServerTest.recvExactly;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.ConnectionResetException;
import io.jsock.Socket;
import io.jsock.framing.Framed;
import io.jsock.framing.Framing;
import io.jsock.framing.Framing.Prefix;
import io.jsock.internal.Addresses;
import io.jsock.testing.CapturedLogs;
import io.jsock.testing.Echoes;
import io.jsock.testing.Echoes.Transfer;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpServer} with {@link ServerConfig#withTls}: concurrent echoes checked by SHA-256,
 * framing over TLS, the write timeout on TLS sends, and handshakes that fail (a plain-TCP client, a
 * stalled handshake) counted and logged without reaching the handler or disturbing other clients.
 */
class TcpServerTlsTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  private static KeyMaterial key;
  private static TlsContext server;
  private static TlsContext client;

  @BeforeAll
  static void makeCertificate() throws IOException {
    key = KeyMaterial.selfSigned("localhost", "127.0.0.1", "::1");
    server = Tls.server(key);
    client = Tls.client().withTrustedCertificates(key.certificateChain());
  }

  @Test
  void echoesFiftyConcurrentTlsClientsIntactAndCountsThem() throws Exception {
    int clients = 50;
    int size = 256 * 1024;
    TcpServerTest.DigestingEcho echo = new TcpServerTest.DigestingEcho();
    ServerConfig config = ServerConfig.defaults().withTls(server).withBacklog(1024);
    try (TcpServer tcp = TcpServer.start(config, echo);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Transfer>> futures = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        long seed = i;
        futures.add(pool.submit(() -> Echoes.exchange(connectTls(tcp.address()), seed, size)));
      }
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Transfer t = futures.get(i).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(t.intact()).as("client %d: %s", i, t).isTrue();
        assertThat(t.sent()).isEqualTo(Echoes.sha256Of(i, size));
        sent.add(t.sent());
      }
      assertThat(echo.received).as("SHA-256 of what the handlers received").containsAll(sent);
      await().atMost(LIMIT).until(() -> tcp.stats().open() == 0);
      ServerStats stats = tcp.stats();
      assertThat(stats.accepted()).isEqualTo(clients);
      assertThat(stats.tlsFailed()).isZero();
      assertThat(stats.timedOut()).isZero();
      long bytes = (long) clients * size;
      assertThat(stats.bytesIn()).as("bytes on the wire").isGreaterThan(bytes);
      assertThat(stats.bytesOut()).as("bytes on the wire").isGreaterThan(bytes);
    }
  }

  @Test
  void theHandlerGetsTheTlsSocketOnItsOwnVirtualThread() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    ConnectionHandler handler =
        conn -> {
          seen.set(
              Tls.isTls(conn)
                  + " "
                  + Thread.currentThread().isVirtual()
                  + " "
                  + Tls.session(conn).getProtocol());
          TcpServerTest.echo(conn);
        };
    try (TcpServer tcp = TcpServer.start(ServerConfig.defaults().withTls(server), handler);
        Socket conn = connectTls(tcp.address())) {
      conn.sendAll("ping".getBytes(UTF_8));
      assertThat(recvExactly(conn, 4)).isEqualTo("ping".getBytes(UTF_8));
      assertThat(seen.get()).isEqualTo("true true TLSv1.3");
    }
  }

  @Test
  void aHandshakeTimeoutLongerThanNanosecondsCanCountStillLetsClientsIn() throws Exception {
    // ChronoUnit.FOREVER's duration: the context's bound off, the first-byte deadline bounding
    TlsContext patient = server.withHandshakeTimeout(ChronoUnit.FOREVER.getDuration());
    try (TcpServer tcp =
            TcpServer.start(ServerConfig.defaults().withTls(patient), TcpServerTest::echo);
        Socket conn = connectTls(tcp.address())) {
      conn.sendAll("ping".getBytes(UTF_8));
      assertThat(recvExactly(conn, 4)).isEqualTo("ping".getBytes(UTF_8));
      assertThat(tcp.stats().tlsFailed()).isZero();
    }
  }

  @Test
  void aPlainTcpClientIsClosedCountedAndLoggedWithoutReachingTheHandler() throws Exception {
    AtomicLong handled = new AtomicLong();
    ConnectionHandler handler =
        conn -> {
          handled.incrementAndGet();
          TcpServerTest.echo(conn);
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        TcpServer tcp = TcpServer.start(ServerConfig.defaults().withTls(server), handler);
        Socket tlsClient = connectTls(tcp.address())) {
      assertEchoes(tlsClient, "before");

      SocketAddress plainPeer;
      try (Socket plain = connect(tcp.address())) {
        plainPeer = plain.getSockName();
        plain.sendAll("hello, are you there?\r\n\r\n".getBytes(UTF_8));
        byte[] reply = recvUntilEnd(plain);
        assertThat(new String(reply, UTF_8)).doesNotContain("hello");
      }
      await().atMost(LIMIT).until(() -> tcp.stats().tlsFailed() == 1);
      assertThat(logs.at(Level.INFO))
          .singleElement()
          .satisfies(
              r ->
                  assertThat(r.getMessage())
                      .contains("connection from " + Addresses.format(plainPeer))
                      .contains("TLS handshake failed"));

      assertEchoes(tlsClient, "after");
      ServerStats stats = tcp.stats();
      assertThat(stats.accepted()).isEqualTo(2);
      assertThat(stats.timedOut()).isZero();
      assertThat(handled.get()).as("handlers run").isEqualTo(1);
    }
  }

  @Test
  void aStalledHandshakeEndsWithinTheFirstByteTimeoutAndIsCounted() throws Exception {
    Duration firstByte = Duration.ofMillis(500); // shorter than the context's 10 s
    ServerConfig config = ServerConfig.defaults().withTls(server).withFirstByteTimeout(firstByte);
    try (TcpServer tcp = TcpServer.start(config, TcpServerTest::echo)) {
      // Taken before connecting: the server's bound starts once it has the connection.
      long start = System.nanoTime();
      try (Socket stalled = connect(tcp.address())) {
        // The first bytes of a TLS record header announcing a handshake message, then nothing.
        stalled.sendAll(new byte[] {0x16, 0x03, 0x01, 0x00, 0x40});
        recvUntilEnd(stalled);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
            .isGreaterThanOrEqualTo(firstByte)
            .isLessThan(firstByte.plusSeconds(5));
      }
      await().atMost(LIMIT).until(() -> tcp.stats().tlsFailed() == 1);
      try (Socket conn = connectTls(tcp.address())) {
        assertEchoes(conn, "still serving");
      }
    }
  }

  @Test
  void lengthPrefixedFramingWorksOverATlsServerConnection() throws Exception {
    Framing framing = Framing.lengthPrefixed(Prefix.U32, 1 << 20);
    ConnectionHandler reverser =
        conn -> {
          Framed framed = framing.on(conn);
          while (true) {
            byte[] message;
            try {
              message = framed.recvMsg();
            } catch (EOFException end) {
              return;
            }
            byte[] reversed = new byte[message.length];
            for (int i = 0; i < message.length; i++) {
              reversed[i] = message[message.length - 1 - i];
            }
            framed.sendMsg(reversed);
          }
        };
    try (TcpServer tcp = TcpServer.start(ServerConfig.defaults().withTls(server), reverser);
        Socket conn = connectTls(tcp.address())) {
      Framed framed = framing.on(conn);
      Random random = new Random(11);
      for (int size : new int[] {0, 1, 5, 300 * 1024, 1 << 20}) {
        byte[] message = new byte[size];
        random.nextBytes(message);
        framed.sendMsg(message);
        byte[] reply = framed.recvMsg();
        assertThat(reply).as("reply to %d bytes", size).hasSize(size);
        for (int i = 0; i < size; i++) {
          if (reply[i] != message[size - 1 - i]) {
            throw new AssertionError("byte " + i + " of the reply to " + size + " bytes differs");
          }
        }
      }
    }
  }

  @Test
  void writeTimeoutBoundsTlsSendsToAClientThatStopsReading() throws Exception {
    Duration write = Duration.ofSeconds(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong took = new AtomicLong();
    CountDownLatch ended = new CountDownLatch(1);
    ConnectionHandler flood =
        conn -> {
          conn.recv(1);
          long start = System.nanoTime();
          try {
            conn.sendAll(new byte[64 * 1024 * 1024]);
          } catch (IOException e) {
            failure.set(e);
            throw e;
          } finally {
            took.set(System.nanoTime() - start);
            ended.countDown();
          }
        };
    ServerConfig config = ServerConfig.defaults().withTls(server).withWriteTimeout(write);
    try (TcpServer tcp = TcpServer.start(config, flood);
        Socket stalled = connectTls(tcp.address())) {
      stalled.sendAll(new byte[] {'F'}); // and never reads
      assertThat(ended.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(failure.get()).isInstanceOf(SocketTimeoutException.class);
      assertThat(Duration.ofNanos(took.get()))
          .isGreaterThanOrEqualTo(write)
          .isLessThan(write.plusSeconds(10));
      await().atMost(LIMIT).until(() -> tcp.stats().timedOut() == 1);
    }
  }

  @Test
  void aTlsConnectionWhoseReplyWaitedTheWriteTimeoutIsReset() throws Exception {
    int size = 8 * 1024 * 1024; // far more than loopback buffers hold
    ConnectionHandler flood =
        conn -> {
          conn.recv(1);
          conn.sendAll(new byte[size]);
        };
    ServerConfig config =
        ServerConfig.defaults().withTls(server).withWriteTimeout(Duration.ofSeconds(1));
    try (TcpServer tcp = TcpServer.start(config, flood);
        Socket stalled = connectTls(tcp.address())) {
      stalled.sendAll(new byte[] {'F'}); // then reads nothing until the send has timed out
      await().atMost(LIMIT).until(() -> tcp.stats().timedOut() == 1);
      byte[] buf = new byte[64 * 1024];
      assertThatThrownBy(
              () -> {
                long total = 0;
                for (int i = 0; i <= size; i++) { // bounded: each recv takes at least a byte
                  int n = stalled.recvInto(buf, 0);
                  if (n == 0) {
                    break;
                  }
                  total += n;
                }
                throw new AssertionError("end of stream after " + total + " of " + size + " bytes");
              })
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  @Test
  void shutdownResetsTlsConnectionsAtOnceWithoutCloseNotifyEvenWhenTheirSendsAreStuck()
      throws Exception {
    int stuck = 10; // each close_notify attempt could take 200 ms: 2 s in all
    Duration grace = Duration.ofMillis(300);
    CountDownLatch started = new CountDownLatch(stuck + 1);
    ConnectionHandler handler =
        conn -> {
          started.countDown();
          if (conn.recv(1)[0] == 'F') {
            conn.sendAll(new byte[64 * 1024 * 1024]); // to a client that never reads
          }
          conn.recv(1); // the quiet client never sends again
        };
    ServerConfig config = ServerConfig.defaults().withTls(server).withShutdownGrace(grace);
    TcpServer tcp = TcpServer.start(config, handler);
    List<Socket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < stuck; i++) {
        Socket flooded = connectTls(tcp.address());
        flooded.sendAll(new byte[] {'F'});
        clients.add(flooded);
      }
      Socket quiet = connectTls(tcp.address());
      quiet.sendAll(new byte[] {'Q'});
      assertThat(started.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      await().atMost(LIMIT).until(() -> tcp.stats().bytesIn() > 0);

      long start = System.nanoTime();
      tcp.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(grace)
          .isLessThan(grace.plusSeconds(5)); // not for ever; a loaded machine may stall
      // A reset, as for plain TCP: not the orderly end a close_notify would announce.
      assertThatThrownBy(() -> quiet.recv(1)).isInstanceOf(ConnectionResetException.class);
      quiet.close();
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
  }

  @Test
  void shutdownResetsAConnectionStalledInItsHandshake() throws Exception {
    TcpServer tcp = TcpServer.start(ServerConfig.defaults().withTls(server), TcpServerTest::echo);
    try (Socket stalled = connect(tcp.address())) {
      // The first bytes of a TLS record header announcing a handshake message, then nothing.
      stalled.sendAll(new byte[] {0x16, 0x03, 0x01, 0x00, 0x40});
      await().atMost(LIMIT).until(() -> tcp.stats().bytesIn() == 5); // read by the handshake
      tcp.shutdown(Duration.ZERO);
      stalled.setTimeout(LIMIT);
      assertThatThrownBy(() -> stalled.recv(1)).isInstanceOf(ConnectionResetException.class);
      assertThat(tcp.awaitTermination(LIMIT)).isTrue();
      assertThat(tcp.stats().tlsFailed()).as("ended by the shutdown, not failed").isZero();
    } finally {
      tcp.close();
    }
  }

  @Test
  void aTlsSocketAHandlerMadeOfItsConnectionIsClosedWhenTheHandlerReturns() throws Exception {
    // STARTTLS: the handler wraps its plain connection (detaching it) and returns without closing
    // the TLS socket; the server closes it, as Python's socketserver drops (and so closes) it.
    ConnectionHandler startTls =
        conn -> {
          recvExactly(conn, "STARTTLS".length());
          conn.sendAll("OK".getBytes(UTF_8));
          Socket tls = server.wrap(conn);
          tls.sendAll("hello".getBytes(UTF_8));
        };
    try (TcpServer tcp = TcpServer.start(ServerConfig.defaults(), startTls);
        Socket plain = connect(tcp.address())) {
      plain.sendAll("STARTTLS".getBytes(UTF_8));
      assertThat(new String(recvExactly(plain, 2), UTF_8)).isEqualTo("OK");
      try (Socket tls = client.wrap(plain, "127.0.0.1")) {
        assertThat(new String(recvExactly(tls, 5), UTF_8)).isEqualTo("hello");
        assertThat(tls.recv(100)).as("end of stream once the handler has returned").isEmpty();
      }
      await().atMost(LIMIT).until(() -> tcp.stats().open() == 0);
    }
  }

  @Test
  void aUdpServerRefusesTls() {
    assertThatThrownBy(() -> UdpServer.start(ServerConfig.defaults().withTls(server), (d, s) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tls: ");
  }

  // ---------------------------------------------------------------- tools

  private static Socket connectTls(SocketAddress address) throws IOException {
    return client.wrap(connect(address), "127.0.0.1");
  }

  private static void assertEchoes(Socket conn, String text) throws IOException {
    byte[] data = text.getBytes(UTF_8);
    conn.sendAll(data);
    assertThat(new String(recvExactly(conn, data.length), UTF_8)).isEqualTo(text);
  }

  /** What a plain socket receives until the peer ends the connection (a reset counts as an end). */
  private static byte[] recvUntilEnd(Socket conn) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try {
      byte[] chunk;
      while ((chunk = conn.recv(4096)).length > 0) {
        all.write(chunk);
      }
    } catch (ConnectionResetException reset) {
      // the server may reset rather than close: an end all the same
    }
    return all.toByteArray();
  }
}
