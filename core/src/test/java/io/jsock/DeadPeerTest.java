package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Established connections whose peer stops answering: a host in a network namespace of its own
 * ({@link NetnsHost}) whose firewall then drops everything.
 */
class DeadPeerTest {
  /** A peer that accepts connections and then reads nothing and says nothing. */
  private static final String SILENT_PEER =
      """
      import socket, time
      s = socket.create_server(("%s", 7000))
      print("ready", flush=True)
      conns = []
      while True:
          c, _ = s.accept()
          conns.append(c)
      """;

  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  private static void startSilentPeer(NetnsHost host) throws IOException {
    Process peer =
        host.start("python3", "-c", SILENT_PEER.formatted(host.address().getHostAddress()));
    assertThat(new String(peer.getInputStream().readNBytes(6), StandardCharsets.US_ASCII))
        .isEqualTo("ready\n");
  }

  @Test
  void aKeepaliveThatGoesUnansweredFailsABlockingRecvWithEtimedoutAsPythonSays() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      startSilentPeer(host);
      InetSocketAddress peer = new InetSocketAddress(host.address(), 7000);
      try (Socket sock = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        sock.connect(peer);
        sock.setSockOpt(StandardSocketOptions.SO_KEEPALIVE, true);
        sock.setSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE, 1);
        sock.setSockOpt(ExtendedSocketOptions.TCP_KEEPINTERVAL, 1);
        sock.setSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT, 1);
        host.firewall("add rule inet test input drop");

        // python3: TimeoutError: [Errno 110] Connection timed out
        assertThatThrownBy(() -> sock.recv(10))
            .isInstanceOf(SocketTimeoutException.class)
            .isInstanceOf(SocketError.class)
            .hasMessage(
                "recv from " + host.address().getHostAddress() + ":7000: connection timed out")
            .satisfies(
                e -> {
                  assertThat(((SocketError) e).errno()).isEqualTo(Errno.ETIMEDOUT);
                  assertThat(((SocketError) e).address()).isEqualTo(peer);
                });
        // then, as on Linux (and python3): the connection is gone
        assertThatThrownBy(() -> sock.send(new byte[10])).isInstanceOf(BrokenPipeException.class);
        assertThat(sock.recv(10)).isEmpty();
      }
    }
  }
}
