package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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

  // python3 with TCP_USER_TIMEOUT 1000: sendall raises TimeoutError [Errno 110] once the sent data
  // has gone unacknowledged for a second, not after tcp_retries2 (some 15 minutes)
  @Test
  @Timeout(60)
  void aUserTimeoutFailsABlockingSendAllToAVanishedPeerWithEtimedout() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (NetnsHost host = NetnsHost.create()) {
      startSilentPeer(host);
      InetSocketAddress peer = new InetSocketAddress(host.address(), 7000);
      try (Socket sock = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        sock.connect(peer);
        sock.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000);
        host.firewall("add rule inet test input drop");

        assertThatThrownBy(() -> sock.sendAll(new byte[8 << 20]))
            .isInstanceOfSatisfying(
                ConnectionTimedOutException.class,
                e -> {
                  assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT);
                  assertThat(e.address()).isEqualTo(peer);
                })
            .hasMessage(
                "send to " + host.address().getHostAddress() + ":7000: connection timed out");
      }
    }
  }

  // python3 with TCP_SYNCNT 1: a blocking connect to a port that drops raises TimeoutError
  // [Errno 110] after one retransmission (some 3 s), not after tcp_syn_retries (some 127 s)
  @Test
  @Timeout(60)
  void aSynCountOfOneFailsABlockingConnectToADroppedPortWithEtimedout() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (NetnsHost host = NetnsHost.create()) {
      host.firewall("add rule inet test input tcp dport 7001 drop");
      InetSocketAddress dropped = new InetSocketAddress(host.address(), 7001);
      try (Socket sock = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        sock.setSockOpt(Sockets.TCP_SYNCNT, 1);

        assertThatThrownBy(() -> sock.connect(dropped))
            .isInstanceOfSatisfying(
                ConnectionTimedOutException.class,
                e -> {
                  assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT);
                  assertThat(e.address()).isEqualTo(dropped);
                })
            .hasMessage(
                "connect to " + host.address().getHostAddress() + ":7001: connection timed out");
        assertThat(sock.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(1); // the fresh channel's
      }
    }
  }

  // python3 with TCP_SYNCNT 1: connect_ex to a port that drops returns 110 (ETIMEDOUT, the
  // kernel's), not 11 (EAGAIN, which it returns only when its own timeout passes)
  @Test
  @Timeout(60)
  void aConnectExWhoseSynsGoUnansweredReturnsEtimedoutNotEagain() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (NetnsHost host = NetnsHost.create()) {
      host.firewall("add rule inet test input tcp dport 7001 drop");
      InetSocketAddress dropped = new InetSocketAddress(host.address(), 7001);
      try (Socket sock = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        sock.setSockOpt(Sockets.TCP_SYNCNT, 1);
        assertThat(sock.connectEx(dropped)).isEqualTo(Errno.ETIMEDOUT);

        sock.setTimeout(java.time.Duration.ofSeconds(30)); // longer than the kernel's retries
        assertThat(sock.connectEx(dropped)).isEqualTo(Errno.ETIMEDOUT);
      }
    }
  }
}
