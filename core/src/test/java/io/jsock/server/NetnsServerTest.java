package io.jsock.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.testing.CapturedLogs;
import io.jsock.testing.NetnsHost;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.awaitility.Awaitility;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TcpServer} with many misbehaving clients on a host of their own ({@link NetnsHost},
 * python3 scripts): the limits, the counters and the shutdown as {@link ServerConfig} documents
 * them.
 */
class NetnsServerTest {
  /**
   * Opens N connections at once that send nothing, or half a TLS ClientHello, then says what each
   * read: "data eof reset".
   */
  private static final String SILENT_CLIENTS =
      """
      import socket, ssl, sys
      n, host, port, half_hello = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
      first = b""
      if half_hello:
          ctx = ssl.create_default_context()
          ctx.check_hostname = False
          ctx.verify_mode = ssl.CERT_NONE
          out = ssl.MemoryBIO()
          engine = ctx.wrap_bio(ssl.MemoryBIO(), out)
          try:
              engine.do_handshake()
          except ssl.SSLWantReadError:
              pass
          hello = out.read()
          first = hello[: len(hello) // 2]
      conns = []
      outcomes = {"data": 0, "eof": 0, "reset": 0}
      for i in range(n):
          c = socket.create_connection((host, port))
          try:
              if first:
                  c.sendall(first)
          except ConnectionResetError:  # refused before the send: the server was full
              outcomes["reset"] += 1
              continue
          conns.append(c)
      for c in conns:
          c.settimeout(30)
          try:
              outcomes["data" if c.recv(10) else "eof"] += 1
          except ConnectionResetError:
              outcomes["reset"] += 1
      print(outcomes["data"], outcomes["eof"], outcomes["reset"], flush=True)
      """;

  /**
   * Opens N connections that each send a request and then stop reading: from source ports 20000 and
   * up (which the host's firewall makes vanish) or after a half-close.
   */
  private static final String STALLED_CLIENTS =
      """
      import socket, sys, time
      n, host, local, port, vanish = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
      conns = []
      for i in range(n):
          c = socket.socket()
          if vanish:
              c.bind((host, 20000 + i))
          c.connect((local, port))
          c.sendall(b"GET\\n")
          if not vanish:
              c.shutdown(socket.SHUT_WR)
          conns.append(c)
      print("sent", flush=True)
      time.sleep(120)
      """;

  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  @Test
  @Timeout(120)
  void twoHundredSilentClientsAreRefusedOrResetAtTheFirstByteDeadlineAndCountedExactly()
      throws Exception {
    try (NetnsHost host = NetnsHost.create();
        CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      ServerConfig config =
          ServerConfig.defaults()
              .withAddress(new InetSocketAddress(host.localAddress(), 0))
              .withMaxConnections(50)
              .withFirstByteTimeout(Duration.ofSeconds(2));
      try (TcpServer server = TcpServer.start(config, TcpServerTest::echo)) {
        String outcomes = runClients(host, server, SILENT_CLIENTS, 200, "0");

        assertThat(outcomes).isEqualTo("0 0 200"); // every one reset: refused, or at its deadline
        // the reset comes first; a handler's thread counts and logs its end a moment later
        whenQuiet(
            () -> {
              assertThat(server.stats()).isEqualTo(new ServerStats(0, 50, 150, 50, 0, 0, 0, 0));
              assertThat(logs.at(Level.FINE))
                  .filteredOn(r -> r.getMessage().contains("reset, the first-byte deadline passed"))
                  .hasSize(50);
            });
        assertThat(logs.at(Level.WARNING)).isEmpty();
      }
    }
  }

  @Test
  @Timeout(120)
  void clientsWithHalfATlsClientHelloFailTheirHandshakeInTimeAndAreCountedAsTlsFailed()
      throws Exception {
    try (NetnsHost host = NetnsHost.create();
        CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      ServerConfig config =
          ServerConfig.defaults()
              .withAddress(new InetSocketAddress(host.localAddress(), 0))
              .withMaxConnections(60)
              .withFirstByteTimeout(Duration.ofSeconds(2))
              .withTls(Tls.server(KeyMaterial.selfSigned("localhost", "127.0.0.1")));
      try (TcpServer server = TcpServer.start(config, TcpServerTest::echo)) {
        String[] outcomes = runClients(host, server, SILENT_CLIENTS, 100, "1").split(" ");

        // the 60 served read the alerts of a handshake ended at its timeout; 40 were refused
        assertThat(Integer.parseInt(outcomes[0]) + Integer.parseInt(outcomes[1])).isEqualTo(60);
        assertThat(outcomes[2]).isEqualTo("40");
        // the alert and the close come first; a handshake's thread counts and logs a moment later
        whenQuiet(
            () -> {
              ServerStats stats = server.stats();
              assertThat(stats.open()).isZero();
              assertThat(stats.accepted()).isEqualTo(60);
              assertThat(stats.refused()).isEqualTo(40);
              assertThat(stats.tlsFailed()).isEqualTo(60);
              assertThat(stats.timedOut()).isZero();
              assertThat(logs.at(Level.INFO))
                  .map(LogRecord::getMessage)
                  .filteredOn(m -> m.contains(": TLS handshake failed: "))
                  .hasSize(60);
            });
        assertThat(logs.at(Level.WARNING)).isEmpty();
      }
    }
  }

  @Test
  @Timeout(120)
  void aShutdownEndsVanishedAndHalfClosedClientsStalledInLongRepliesAndCountsNothingLeftOpen()
      throws Exception {
    try (NetnsHost host = NetnsHost.create();
        CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      host.firewall(
          "add rule inet test input tcp dport 20000-20099 tcp flags & (syn|ack) == ack drop");
      ServerConfig config =
          ServerConfig.defaults()
              .withAddress(new InetSocketAddress(host.localAddress(), 0))
              .withShutdownGrace(Duration.ofSeconds(1));
      TcpServer server = TcpServer.start(config, NetnsServerTest::longReply);
      try {
        start(host, server, STALLED_CLIENTS, 100, "1");
        start(host, server, STALLED_CLIENTS, 100, "0");
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> server.stats().bytesIn() == 200 * 4);
      } finally {
        server.close();
      }

      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      ServerStats stats = server.stats();
      assertThat(stats.open()).isZero();
      assertThat(stats.accepted()).isEqualTo(200);
      assertThat(stats.timedOut()).isZero(); // the write timeout (30 s) had not passed
      assertThat(logs.at(Level.WARNING)).isEmpty();
      assertThat(logs.at(Level.FINE))
          .filteredOn(r -> r.getMessage().contains("reset, the server shut down"))
          .hasSize(200);
    }
  }

  @Test
  @Timeout(120)
  void aClientTheKernelGivesUpOnIsThePeersFailureNotATimeout() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "TCP_USER_TIMEOUT: the FFM calls");
    try (NetnsHost host = NetnsHost.create();
        CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      host.firewall(
          "add rule inet test input tcp dport 20000-20099 tcp flags & (syn|ack) == ack drop");
      ServerConfig config =
          ServerConfig.defaults().withAddress(new InetSocketAddress(host.localAddress(), 0));
      TcpServer server =
          TcpServer.start(
              config,
              conn -> {
                conn.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000); // the kernel gives up in 1 s
                longReply(conn);
              });
      try {
        start(host, server, STALLED_CLIENTS, 1, "1");
        whenQuiet(
            () -> {
              assertThat(server.stats().accepted()).isEqualTo(1);
              assertThat(server.stats().open()).isZero();
              assertThat(logs.at(Level.INFO))
                  .filteredOn(r -> r.getMessage().endsWith(": connection timed out"))
                  .hasSize(1);
            });
        // the peer vanished: its doing, as a reset is, not a timeout of the server's
        assertThat(server.stats().timedOut()).isZero();
        assertThat(logs.at(Level.WARNING)).isEmpty();
      } finally {
        server.close();
      }
    }
  }

  /**
   * Asserts once the server is quiet ({@link ServerStats}: exact then): a client sees its reset or
   * alert before the connection's thread has counted and logged its end; 30 s at most.
   */
  private static void whenQuiet(ThrowingRunnable assertions) {
    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(assertions);
  }

  /** The long reply, one for every handler: 200 copies would hold 1.6 GB of heap. */
  private static final byte[] LONG_REPLY = new byte[8 << 20];

  /** Reads a 4-byte request, then sends 8 MiB, which a client that stopped reading stalls. */
  private static void longReply(Socket conn) throws IOException {
    if (TcpServerTest.recvExactly(conn, 4).length == 4) {
      conn.sendAll(LONG_REPLY);
    }
  }

  private static Process start(NetnsHost host, TcpServer server, String script, int n, String flag)
      throws IOException {
    InetSocketAddress at = (InetSocketAddress) server.address();
    Process clients =
        host.start(
            "python3",
            "-c",
            script,
            Integer.toString(n),
            host.address().getHostAddress(),
            at.getAddress().getHostAddress(),
            Integer.toString(at.getPort()),
            flag);
    assertThat(new String(clients.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
        .isEqualTo("sent\n");
    return clients;
  }

  private static String runClients(
      NetnsHost host, TcpServer server, String script, int n, String flag) throws IOException {
    InetSocketAddress at = (InetSocketAddress) server.address();
    Process clients =
        host.start(
            "python3",
            "-c",
            script,
            Integer.toString(n),
            at.getAddress().getHostAddress(),
            Integer.toString(at.getPort()),
            flag);
    return new String(clients.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }
}
