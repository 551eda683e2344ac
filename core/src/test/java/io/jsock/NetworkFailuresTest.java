package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Connects to a host on a network of its own ({@link NetnsHost}) that drops, resets or answers with
 * ICMP, as loopback never does. Each outcome is python3's against the same host (checked by hand:
 * class, errno, and the same order of attempts).
 */
class NetworkFailuresTest {
  private static final int DROPPED = 7001;
  private static NetnsHost host;

  @BeforeAll
  static void createHost() throws IOException {
    NetnsHost.assumeAvailable();
    host = NetnsHost.create();
    // the host's own ICMP rate limit (per peer: a burst of 6, then 1 a second) dropped most of the
    // 16 rejections below: each connect waited for its SYN's retransmissions (1 s, 3 s, ...)
    host.run("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0");
    host.firewall(
        """
        add rule inet test input tcp dport 7001 drop
        add rule inet test input tcp dport 7002 reject with tcp reset
        add rule inet test input tcp dport 7003 reject with icmp type host-unreachable
        add rule inet test input tcp dport 7004 reject with icmp type admin-prohibited
        add rule inet test input tcp dport 7005 reject with icmp type net-unreachable
        add rule inet test input tcp dport 7006 reject with icmp type port-unreachable
        """);
  }

  @AfterAll
  static void deleteHost() throws IOException {
    if (host != null) {
      host.close();
    }
  }

  private static InetSocketAddress at(int port) {
    return new InetSocketAddress(host.address(), port);
  }

  private static String text(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  // python3: TimeoutError('timed out'), then BlockingIOError [Errno 114], connect_ex 114
  @Test
  void aDroppedConnectTimesOutAndGoesOnInTheKernelAsPythonsDoes() throws IOException {
    try (Socket socket = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      socket.setTimeout(Duration.ofMillis(300));
      SocketTimeoutException timedOut =
          catchThrowableOfType(SocketTimeoutException.class, () -> socket.connect(at(DROPPED)));
      assertThat(timedOut).hasMessage("connect to " + text(at(DROPPED)) + ": timed out");

      WouldBlockException again =
          catchThrowableOfType(WouldBlockException.class, () -> socket.connect(at(DROPPED)));
      assertThat(again.errno()).isEqualTo(Errno.EALREADY);
      assertThat(again)
          .hasMessage("connect to " + text(at(DROPPED)) + ": operation already in progress");
      assertThat(socket.connectEx(at(DROPPED))).isEqualTo(Errno.EALREADY);
    }
  }

  // python3, blocking and with a timeout alike: ConnectionRefusedError 111, OSError 113 (also for
  // admin-prohibited), OSError 101, and ConnectionRefusedError 111 for an ICMP port unreachable
  @ParameterizedTest
  @CsvSource({
    "7002, ConnectionRefusedException, 111, connection refused",
    "7003, ErrnoException, 113, no route to host",
    "7004, ErrnoException, 113, no route to host",
    "7005, ErrnoException, 101, network is unreachable",
    "7006, ConnectionRefusedException, 111, connection refused",
  })
  void aRejectedConnectFailsWithTheErrnoPythonGives(
      int port, String type, int errno, String description) throws IOException {
    for (Duration timeout : new Duration[] {null, Duration.ofSeconds(30)}) {
      try (Socket socket = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        socket.setTimeout(timeout);
        Throwable failed = catchThrowable(() -> socket.connect(at(port)));
        assertThat(failed.getClass().getSimpleName()).isEqualTo(type);
        assertThat(failed).hasMessage("connect to " + text(at(port)) + ": " + description);
        assertThat(((SocketError) failed).errno()).isEqualTo(errno);
        assertThat(((SocketError) failed).address()).isEqualTo(at(port));
      }
      try (Socket socket = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        socket.setTimeout(timeout);
        assertThat(socket.connectEx(at(port))).isEqualTo(errno);
      }
    }
  }

  // the aggregate's errno is its first attempt's; an attempt that timed out has none of its own,
  // and was told as EIO ('input/output error'), where a timeout is ETIMEDOUT (Python's
  // TimeoutError)
  @Test
  void allErrorsOfACreateConnectionWhoseAttemptTimedOutCarryEtimedout() throws IOException {
    ErrnoException all =
        catchThrowableOfType(
            ErrnoException.class,
            () ->
                Sockets.createConnection(
                    at(DROPPED),
                    ConnectOptions.defaults()
                        .withTimeout(Duration.ofMillis(300))
                        .withSourceAddress(new InetSocketAddress(host.localAddress(), 0))
                        .withAllErrors(true)));
    assertThat(all)
        .hasMessage(
            "create_connection: all attempts failed: connect to "
                + text(at(DROPPED))
                + ": timed out");
    assertThat(all.errno()).isEqualTo(Errno.ETIMEDOUT);
    assertThat(all.getSuppressed()).singleElement().isInstanceOf(SocketTimeoutException.class);
  }
}
