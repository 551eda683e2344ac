package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls} across a real link: a python3 TLS server in a host of its own ({@link NetnsHost})
 * with a certificate for its IP address (or for another one).
 */
class NetnsTlsIT {
  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  /** A self-signed certificate for {@code san} (openssl's subjectAltName syntax) in {@code dir}. */
  private static PemFiles certificate(Path dir, String san) throws Exception {
    return PemFiles.selfSigned(dir, "netns test", san);
  }

  /** A python3 TLS server in the host on port 7443 that sends "hello\n" and reads to the end. */
  private static Process server(NetnsHost host, PemFiles pem) throws IOException {
    Process server =
        host.start(
            "python3",
            "-c",
            """
            import socket, ssl, sys
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[2], sys.argv[3])
            s = socket.create_server((sys.argv[1], 7443))
            print("ready", flush=True)
            while True:
                c, _ = s.accept()
                try:
                    t = ctx.wrap_socket(c, server_side=True)
                    t.sendall(b"hello\\n")
                    while data := t.recv(65536):
                        print(data.decode(), end="", flush=True)
                    t.unwrap().close()
                except Exception as e:
                    print("server:", type(e).__name__, e, file=sys.stderr, flush=True)
            """,
            host.address().getHostAddress(),
            pem.cert().toString(),
            pem.key().toString());
    assertThat(new String(server.getInputStream().readNBytes(6), UTF_8)).isEqualTo("ready\n");
    return server;
  }

  @Test
  void connectVerifiesTheServerByItsIpAddress(@TempDir Path dir) throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      PemFiles pem = certificate(dir, "IP:" + ip);
      Process server = server(host, pem);
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock("connect", "--tls", "--ca", pem.cert().toString(), ip, "7443"),
              Map.of(),
              Redirect.PIPE,
              Redirect.PIPE)) {
        assertThat(new String(connect.stdout().readNBytes(6), UTF_8)).isEqualTo("hello\n");
        OutputStream stdin = connect.stdin();
        stdin.write("bye\n".getBytes(UTF_8));
        stdin.close();
        assertThat(new String(server.getInputStream().readNBytes(4), UTF_8)).isEqualTo("bye\n");
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      }
    }
  }

  // ncat --ssl-verify: "Ncat: Certificate verification failed (...)."; python3: "IP address
  // mismatch, certificate is not valid for '198.18.x.y'"
  @Test
  void connectRefusesACertificateForAnotherAddressWithExitFive(@TempDir Path dir) throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      String other = host.silentAddress().getHostAddress();
      PemFiles pem = certificate(dir, "DNS:example.test,IP:" + other);
      server(host, pem);
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock("connect", "--tls", "--ca", pem.cert().toString(), ip, "7443"),
              Map.of(),
              Redirect.PIPE,
              Redirect.PIPE)) {
        connect.stdin().close();
        assertThat(connect.exitCode()).as(connect.stderr()).isEqualTo(5);
        assertThat(connect.stderr())
            .isEqualTo(
                "jsock: tls handshake with "
                    + ip
                    + ":7443: certificate for 'example.test', '"
                    + other
                    + "' does not match host name '"
                    + ip
                    + "'\n");
      }
    }
  }

  @Test
  void relayToATlsTargetVerifiesItByItsIpAddress(@TempDir Path dir) throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String ip = host.address().getHostAddress();
      PemFiles pem = certificate(dir, "IP:" + ip);
      Process server = server(host, pem);
      try (RunningProcess relay =
              RunningProcess.jsock(
                  "relay", "-v", "--ca", pem.cert().toString(), "0", "tls:" + ip + ":7443");
          Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        Matcher listening =
            Pattern.compile("relay listening on 127\\.0\\.0\\.1:(\\d+),").matcher("");
        for (int i = 0; i < 600 && !listening.reset(relay.stderrSoFar()).find(); i++) {
          Thread.sleep(50);
        }
        assertThat(listening.reset(relay.stderrSoFar()).find()).as(relay.stderrSoFar()).isTrue();
        client.setTimeout(Duration.ofSeconds(60));
        client.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(listening.group(1))));
        byte[] hello = new byte[6];
        for (int n = 0; n < 6; ) {
          byte[] part = client.recv(6 - n);
          assertThat(part).as(relay.stderrSoFar()).isNotEmpty();
          System.arraycopy(part, 0, hello, n, part.length);
          n += part.length;
        }
        assertThat(new String(hello, UTF_8)).isEqualTo("hello\n");
        client.sendAll("bye\n".getBytes(UTF_8));
        assertThat(new String(server.getInputStream().readNBytes(4), UTF_8)).isEqualTo("bye\n");
      }
    }
  }

  @Test
  void aPythonClientInTheHostVerifiesListenTlsByItsAddress(@TempDir Path dir) throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      String local = host.localAddress().getHostAddress();
      PemFiles pem = certificate(dir, "IP:" + local);
      try (PipedProcess listen =
          PipedProcess.start(
              PipedProcess.jsock(
                  "listen",
                  "--tls",
                  "--cert",
                  pem.cert().toString(),
                  "--key",
                  pem.key().toString(),
                  local,
                  "0"),
              Map.of(),
              Redirect.PIPE,
              Redirect.PIPE)) {
        int port = listen.listeningPort();
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
                        t.unwrap()
                """,
                local,
                Integer.toString(port),
                pem.cert().toString());
        assertThat(new String(listen.stdout().readNBytes(5), UTF_8)).isEqualTo("ping\n");
        OutputStream stdin = listen.stdin();
        stdin.write("pong\n".getBytes(UTF_8));
        stdin.close();
        assertThat(new String(client.getInputStream().readNBytes(5), UTF_8)).isEqualTo("pong\n");
        assertThat(client.waitFor()).isZero();
        assertThat(listen.exitCode()).as(listen.stderr()).isZero();
      }
    }
  }
}
