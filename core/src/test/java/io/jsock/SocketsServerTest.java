package io.jsock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.Loopback;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link Sockets#createServer} and {@link Sockets#createConnection} with their options. */
class SocketsServerTest {
  @Test
  void createServerListensWithReuseAddrAndTheBacklog() throws Exception {
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      assertThat(server.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isTrue();
      try (Socket client = Sockets.createConnection(server.getSockName(), Duration.ofSeconds(5))) {
        assertThat(server.accept().address()).isEqualTo(client.getSockName());
        assertThat(client.getTimeout()).isEqualTo(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void aDualStackServerAcceptsIpv4AndIpv6Clients() throws Exception {
    assertThat(Sockets.hasDualStackIpv6()).isTrue();
    try (Socket server =
        Sockets.createServer(
            new InetSocketAddress("::", 0), ServerOptions.defaults().withDualStack(true))) {
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      try (Socket v4 = Sockets.createConnection(new InetSocketAddress("127.0.0.1", port));
          Socket v6 = Sockets.createConnection(new InetSocketAddress("::1", port))) {
        InetSocketAddress first = (InetSocketAddress) server.accept().address();
        InetSocketAddress second = (InetSocketAddress) server.accept().address();
        assertThat(first.getAddress()).isInstanceOf(Inet4Address.class);
        assertThat(second.getAddress()).isInstanceOf(Inet6Address.class);
        assertThat(v4.family()).isEqualTo(Family.AF_INET);
        assertThat(v6.family()).isEqualTo(Family.AF_INET6);
      }
    }
  }

  @Test
  void dualStackNeedsAnIpv6Address() {
    assertThatThrownBy(
            () ->
                Sockets.createServer(
                    new InetSocketAddress("127.0.0.1", 0),
                    ServerOptions.defaults().withDualStack(true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("dualStack needs an IPv6 address");
  }

  @Test
  void reusePortLetsTwoServersShareAPort() throws Exception {
    ServerOptions shared = ServerOptions.defaults().withReusePort(true);
    try (Socket one = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0), shared);
        Socket two = Sockets.createServer(one.getSockName(), shared)) {
      assertThat(two.getSockName()).isEqualTo(one.getSockName());
      assertThat(one.getSockOpt(StandardSocketOptions.SO_REUSEPORT)).isTrue();
    }
  }

  @Test
  void createConnectionBindsTheSourceAddress() throws Exception {
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0));
        Socket client =
            Sockets.createConnection(
                server.getSockName(),
                ConnectOptions.defaults()
                    .withSourceAddress(new InetSocketAddress("127.0.0.2", 0)))) {
      InetSocketAddress seen = (InetSocketAddress) server.accept().address();
      assertThat(seen.getAddress().getHostAddress()).isEqualTo("127.0.0.2");
      client.sendAll("hi".getBytes(UTF_8));
    }
  }

  // The default timeout zero (non-blocking) is no mode for a connection being made:
  // ConnectOptions.defaults() takes it as blocking, and so does createConnection(address)
  @Test
  void createConnectionWithANonBlockingDefaultTimeoutConnectsAsItsDefaultOptionsDo()
      throws Exception {
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      Sockets.setDefaultTimeout(Duration.ZERO);
      try (Socket client = Sockets.createConnection(server.getSockName());
          Socket withDefaults =
              Sockets.createConnection(server.getSockName(), ConnectOptions.defaults())) {
        assertThat(client.getPeerName()).isEqualTo(server.getSockName());
        assertThat(client.getTimeout()).isEqualTo(withDefaults.getTimeout()).isNull();
      } finally {
        Sockets.setDefaultTimeout(null);
      }
    }
  }

  @Test
  void createConnectionReportsTheFirstErrorOrAllOfThem() throws Exception {
    try (Loopback.Refusing refusing = Loopback.refusingAddress(Family.AF_INET)) {
      assertThatThrownBy(() -> Sockets.createConnection(refusing.address()))
          .isInstanceOf(ConnectionRefusedException.class)
          .hasMessageEndingWith(": connection refused");
      assertThatThrownBy(
              () ->
                  Sockets.createConnection(
                      refusing.address(), ConnectOptions.defaults().withAllErrors(true)))
          .isInstanceOf(ErrnoException.class)
          .hasMessageStartingWith("create_connection: all attempts failed: connect to 127.0.0.1:")
          .satisfies(e -> assertThat(((SocketError) e).errno()).isEqualTo(Errno.ECONNREFUSED))
          .satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
    }
  }
}
