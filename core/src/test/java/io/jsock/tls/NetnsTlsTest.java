package io.jsock.tls;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.ConnectionTimedOutException;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.testing.NetnsHost;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS across a real link: a host in a network namespace of its own ({@link NetnsHost}), with
 * certificates for its IP address, python3's {@code ssl} as the peer and the oracle.
 */
@Timeout(120)
class NetnsTlsTest {
  /** A python3 TLS echo server in the host: prints "ready", echoes each connection's bytes. */
  private static final String ECHO_SERVER =
      """
      import socket, ssl, sys, threading
      ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
      ctx.load_cert_chain(sys.argv[2], sys.argv[3])
      s = socket.create_server((sys.argv[1], 7443))
      print("ready", flush=True)
      def echo(c):
          try:
              t = ctx.wrap_socket(c, server_side=True)
              while True:
                  b = t.recv(65536)
                  if not b:
                      break
                  t.sendall(b)
              t.unwrap()
          except Exception as e:
              print("server:", type(e).__name__, e, file=sys.stderr, flush=True)
      while True:
          c, _ = s.accept()
          threading.Thread(target=echo, args=(c,), daemon=True).start()
      """;

  /** A peer that accepts connections and says nothing. */
  private static final String SILENT_PEER =
      """
      import socket, sys
      s = socket.create_server((sys.argv[1], 7000))
      print("ready", flush=True)
      conns = []
      while True:
          c, _ = s.accept()
          conns.append(c)
      """;

  @TempDir static Path dir;
  private static TestPki.Issued ca;
  private static Path caPem;

  @BeforeAll
  static void needsRootIpAndNft() throws Exception {
    NetnsHost.assumeAvailable();
    ca = TestPki.ca("netns tls CA");
    TestPki.writePem(caPem = dir.resolve("ca.pem"), ca.certificate());
  }

  private static void ready(Process process) throws IOException {
    assertThat(new String(process.getInputStream().readNBytes(6), UTF_8)).isEqualTo("ready\n");
  }

  private static Path leaf(String name, String... names) throws Exception {
    Path where = dir.resolve(name);
    TestPki.leaf(ca, names).write(where);
    return where;
  }

  private static void startEchoServer(NetnsHost host, Path certs) throws IOException {
    ready(
        host.start(
            "python3",
            "-c",
            ECHO_SERVER,
            host.address().getHostAddress(),
            certs.resolve("cert.pem").toString(),
            certs.resolve("key.pem").toString()));
  }

  @Test
  void aClientVerifiesAServerByItsIpAddressAcrossTheLink() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      startEchoServer(host, leaf("byIp", ip));
      Socket plain = Socket.create();
      plain.connect(ip, 7443);
      try (Socket tls = Tls.client().withTrust(caPem).wrap(plain, ip)) {
        tls.sendAll("hello\n".getBytes(UTF_8));
        assertThat(new String(tls.recv(100), UTF_8)).isEqualTo("hello\n");
      }
    }
  }

  // python3: SSLCertVerificationError: certificate verify failed: IP address mismatch, certificate
  // is not valid for '198.18.x.y'
  @Test
  void aCertificateForAnotherAddressOrOnlyNamesIsRefusedNamingTheMismatch() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      String other = host.silentAddress().getHostAddress();
      startEchoServer(host, leaf("wrongIp", "example.test", other));
      Socket plain = Socket.create();
      plain.connect(ip, 7443);
      InetSocketAddress server = new InetSocketAddress(host.address(), 7443);
      assertThatThrownBy(() -> Tls.client().withTrust(caPem).wrap(plain, ip))
          .isInstanceOf(TlsException.class)
          .hasMessage(
              "tls handshake with "
                  + ip
                  + ":7443: certificate for 'example.test', '"
                  + other
                  + "' does not match host name '"
                  + ip
                  + "'")
          .satisfies(e -> assertThat(((TlsException) e).address()).isEqualTo(server));
    }
  }

  @Test
  void aPythonClientInTheHostVerifiesAJsockServerByItsAddress() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String local = host.localAddress().getHostAddress();
      KeyMaterial key = TestPki.leaf(ca, local).write(dir.resolve("local"));
      try (Socket listener = Socket.create()) {
        listener.bind(local, 0);
        listener.listen();
        int port = ((InetSocketAddress) listener.getSockName()).getPort();
        Process client =
            host.start(
                "python3",
                "-c",
                """
                import socket, ssl, sys
                ctx = ssl.create_default_context(cafile=sys.argv[3])
                with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as s:
                    with ctx.wrap_socket(s, server_hostname=sys.argv[1]) as t:
                        t.sendall(b"ping\\n")
                        print(t.recv(100).decode(), end="", flush=True)
                """,
                local,
                Integer.toString(port),
                caPem.toString());
        try (Socket tls = Tls.server(key).wrap(listener.accept().conn())) {
          assertThat(new String(tls.recv(100), UTF_8)).isEqualTo("ping\n");
          tls.sendAll("pong\n".getBytes(UTF_8));
          assertThat(
                  new BufferedReader(new InputStreamReader(client.getInputStream(), UTF_8))
                      .readLine())
              .isEqualTo("pong");
        }
      }
    }
  }

  @Test
  void aHandshakeWhoseAnswerIsDroppedEndsAtItsTimeout() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      startEchoServer(host, leaf("dropped", ip));
      Socket plain = Socket.create();
      plain.connect(ip, 7443);
      host.firewall("add rule inet test output tcp sport 7443 drop");
      assertThatThrownBy(
              () ->
                  Tls.client()
                      .withTrust(caPem)
                      .withHandshakeTimeout(Duration.ofSeconds(1))
                      .wrap(plain, ip))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageStartingWith("tls handshake with " + ip + ":7443: ");
      assertThat(plain.isClosed()).isTrue();
    }
  }

  @Test
  void aBlockingHandshakeToAVanishedHostEndsAtTheUserTimeout() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      ready(host.start("python3", "-c", SILENT_PEER, ip));
      Socket plain = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
      plain.connect(ip, 7000);
      plain.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000);
      host.firewall("add rule inet test input drop");
      InetSocketAddress peer = new InetSocketAddress(host.address(), 7000);
      assertThatThrownBy(
              () ->
                  Tls.client()
                      .withTrust(caPem)
                      .withHandshakeTimeout(Duration.ofSeconds(60))
                      .wrap(plain, ip))
          .isInstanceOfSatisfying(
              ConnectionTimedOutException.class,
              e -> {
                assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT);
                assertThat(e.address()).isEqualTo(peer);
              })
          .hasMessage("tls handshake with " + ip + ":7000: connection timed out");
    }
  }

  // python3: SSLSocket.sendall with TCP_USER_TIMEOUT 1000 to a host gone silent raises
  // TimeoutError [Errno 110]
  @Test
  void aTlsSendAllToAVanishedHostEndsAtTheUserTimeout() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      startEchoServer(host, leaf("sendAll", ip));
      Socket plain = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
      plain.connect(ip, 7443);
      plain.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000);
      try (Socket tls = Tls.client().withTrust(caPem).wrap(plain, ip)) {
        host.firewall("add rule inet test input drop");
        InetSocketAddress peer = new InetSocketAddress(host.address(), 7443);
        assertThatThrownBy(() -> tls.sendAll(new byte[8 << 20]))
            .isInstanceOfSatisfying(
                ConnectionTimedOutException.class,
                e -> {
                  assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT);
                  assertThat(e.address()).isEqualTo(peer);
                })
            .hasMessage("send to " + ip + ":7443: connection timed out");
      }
    }
  }

  @Test
  void aCloseToAVanishedPeerReturns() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      startEchoServer(host, leaf("vanished", ip));
      Socket plain = Socket.create();
      plain.connect(ip, 7443);
      Socket tls = Tls.client().withTrust(caPem).wrap(plain, ip);
      tls.sendAll("x".getBytes(UTF_8));
      assertThat(tls.recv(1)).hasSize(1);
      host.firewall("add rule inet test input drop");
      tls.close();
      assertThat(tls.isClosed()).isTrue();
    }
  }

  @Test
  void recordsBothWaysAtOnceOverASlowSmallMtuLinkArriveIntact() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      host.mtu(576);
      host.rate("2mbit");
      startEchoServer(host, leaf("slow", ip));
      Socket plain = Socket.create();
      plain.connect(ip, 7443);
      try (Socket tls = Tls.client().withTrust(caPem).wrap(plain, ip)) {
        byte[] data = new byte[1 << 20];
        new java.util.Random(7).nextBytes(data);
        Thread sender =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        for (int i = 0; i < data.length; i += 16384) {
                          tls.sendAll(java.util.Arrays.copyOfRange(data, i, i + 16384));
                        }
                      } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                      }
                    });
        byte[] got = new byte[data.length];
        int n = 0;
        for (int i = 0; i < 100_000 && n < got.length; i++) {
          byte[] part = tls.recv(got.length - n);
          assertThat(part).isNotEmpty();
          System.arraycopy(part, 0, got, n, part.length);
          n += part.length;
        }
        sender.join();
        assertThat(got).isEqualTo(data);
      }
    }
  }
}
