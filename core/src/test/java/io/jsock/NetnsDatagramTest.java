package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * UDP to a host on a network of its own ({@link NetnsHost}) whose firewall answers datagrams with
 * ICMP, as loopback never does. Each outcome is python3's against the same host (checked by hand).
 */
class NetnsDatagramTest {
  private static NetnsHost host;

  @BeforeAll
  static void createHost() throws IOException {
    NetnsHost.assumeAvailable();
    host = NetnsHost.create();
    host.run("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0");
    host.firewall(
        """
        add rule inet test input udp dport 7101 reject with icmp type port-unreachable
        add rule inet test input udp dport 7104 reject with icmp type admin-prohibited
        add rule inet test input udp dport 7105 reject with icmp type prot-unreachable
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

  /**
   * A UDP socket connected to {@code port} that sent it one datagram, once the ICMP answer has
   * arrived (the kernel's pending error makes the socket readable).
   */
  private static Socket rejected(int port) throws IOException {
    Socket socket = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
    socket.setTimeout(Duration.ofSeconds(10));
    socket.connect(at(port));
    socket.send(new byte[] {'x'});
    try (SocketSelector selector = SocketSelector.open()) {
      selector.register(socket, Set.of(Event.EVENT_READ), null);
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
    }
    return socket;
  }

  // python3: s.connect(new) after an ICMP error from the old peer succeeds, and the next recv
  // raises the error the kernel kept: ConnectionRefusedError 111, OSError 113, OSError 92
  @ParameterizedTest
  @CsvSource({
    "7101, ConnectionRefusedException, 111, connection refused",
    "7104, ErrnoException, 113, no route to host",
    "7105, ErrnoException, 92, protocol not available",
  })
  void aConnectAfterAnIcmpErrorSucceedsAndTheNextRecvRaisesItAsPythonsDoes(
      int port, String type, int errno, String description) throws Exception {
    try (Socket socket = rejected(port)) {
      socket.connect(at(7199));

      assertThat(socket.getPeerName()).isEqualTo(at(7199));
      Throwable failed = catchThrowable(() -> socket.recv(10));
      assertThat(failed.getClass().getSimpleName()).isEqualTo(type);
      assertThat(failed)
          .hasMessage(
              "recv from " + host.address().getHostAddress() + ":" + port + ": " + description);
      assertThat(((SocketError) failed).errno()).isEqualTo(errno);
    }
  }
}
