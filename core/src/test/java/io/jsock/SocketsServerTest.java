package io.jsock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jsock.testing.Loopback;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
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
  void everyAddressTakingFunctionHasAHostAndPortForm() throws Exception {
    // the naming contract: each method taking an address also takes (String host, int port)
    try (Socket server = Sockets.createServer("localhost", 0)) {
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      assertThat(server.getSockName()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
      try (Socket plain = Sockets.createConnection("localhost", port);
          Socket timed = Sockets.createConnection("127.0.0.1", port, Duration.ofSeconds(5));
          Socket sourced =
              Sockets.createConnection(
                  "localhost", port, ConnectOptions.defaults().withSourceAddress("127.0.0.2", 0))) {
        assertThat(plain.getPeerName()).isEqualTo(server.getSockName());
        assertThat(timed.getTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(((InetSocketAddress) sourced.getSockName()).getHostString())
            .isEqualTo("127.0.0.2");
      }
    }
    try (Socket everywhere = Sockets.createServer("", 0, ServerOptions.defaults().withBacklog(5))) {
      assertThat(((InetSocketAddress) everywhere.getSockName()).getAddress().isAnyLocalAddress())
          .isTrue();
    }
    assertThat(Sockets.getNameInfo("127.0.0.1", 80)).isEqualTo(new NameInfo("localhost", "http"));
    assertThat(Sockets.getNameInfo("127.0.0.1", 80, NameInfoFlag.NI_NUMERICHOST))
        .isEqualTo(new NameInfo("127.0.0.1", "http"));
    try (Socket receiver = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket sender = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      receiver.bind("127.0.0.1", 0);
      receiver.setTimeout(Duration.ofSeconds(5));
      int port = ((InetSocketAddress) receiver.getSockName()).getPort();
      assertThat(sender.sendTo(java.nio.ByteBuffer.wrap("hi".getBytes(UTF_8)), "localhost", port))
          .isEqualTo(2);
      assertThat(receiver.recv(10)).isEqualTo("hi".getBytes(UTF_8));
    }
  }

  @Test
  void theHostAndPortFormsNameABadArgument() {
    assertThatThrownBy(() -> Sockets.createConnection(null, 80))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("host");
    assertThatThrownBy(() -> Sockets.createServer("localhost", 70000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 70000");
    assertThatThrownBy(() -> Sockets.getNameInfo("127.0.0.1", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: -1");
    assertThatThrownBy(() -> ConnectOptions.defaults().withSourceAddress("127.0.0.1", 65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 65536");
  }

  @Test
  void aDualStackServerAcceptsIpv4AndIpv6Clients() throws Exception {
    assertThat(Sockets.hasDualStackIpv6()).isTrue();
    try (Socket server =
        Sockets.createServer(
            new InetSocketAddress("::", 0), ServerOptions.defaults().withDualStack(true))) {
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      assertThat(server.getSockOpt(Sockets.IPV6_V6ONLY)).isFalse();
      assertThatThrownBy(() -> Sockets.createServer(new InetSocketAddress("0.0.0.0", port)))
          .isInstanceOf(AddressInUseException.class)
          .hasMessage("bind to 0.0.0.0:" + port + ": address already in use");
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

  // python3: create_server(("::", p), family=AF_INET6) sets IPV6_V6ONLY (getsockopt gives 1), so
  // create_server(("0.0.0.0", p)) takes the same port and its IPv4 clients, in either order
  @Test
  void anIpv6ServerWithoutDualStackLeavesIpv4ToAServerOnTheSamePort() throws Exception {
    // ports no bind to port 0 is given, in this process or another: one the kernel chose for one
    // family may meanwhile be any other program's on the other, which the first does not hold
    int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);
    try (Socket v6 = Sockets.createServer(new InetSocketAddress("::", port))) {
      if (Boolean.getBoolean("jsock.selectorPoller")) {
        // documented in README: without the FFM calls the JDK's IPv6 socket stays dual-stack
        assertThat(v6.getSockOpt(Sockets.IPV6_V6ONLY)).isFalse();
        assertThatThrownBy(() -> Sockets.createServer(new InetSocketAddress("0.0.0.0", port)))
            .isInstanceOf(AddressInUseException.class);
        return;
      }
      assertThat(v6.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
      try (Socket v4 = Sockets.createServer(new InetSocketAddress("0.0.0.0", port));
          Socket ipv4Client = Sockets.createConnection(new InetSocketAddress("127.0.0.1", port));
          Socket ipv6Client = Sockets.createConnection(new InetSocketAddress("::1", port))) {
        assertThat(v4.accept().address()).isEqualTo(ipv4Client.getSockName());
        assertThat(v6.accept().address()).isEqualTo(ipv6Client.getSockName());
      }
    }
    int other = Loopback.unusedPort(Family.AF_INET6, SocketKind.SOCK_STREAM);
    try (Socket v4 = Sockets.createServer(new InetSocketAddress("0.0.0.0", other))) {
      try (Socket v6 = Sockets.createServer(InetSocketAddress.createUnresolved("::", other));
          Socket ipv6Client = Sockets.createConnection(new InetSocketAddress("::1", other))) {
        assertThat(v6.accept().address()).isEqualTo(ipv6Client.getSockName());
      }
    }
  }

  // python3: create_server(("", 0)) listens on ('0.0.0.0', port), and with family=AF_INET6,
  // dualstack_ipv6=True on ('::', port), as bind takes "" for the wildcard address
  @Test
  void createServerTakesAnEmptyHostAsTheWildcardAddress() throws Exception {
    try (Socket v4 = Sockets.createServer(InetSocketAddress.createUnresolved("", 0));
        Socket dual =
            Sockets.createServer(
                InetSocketAddress.createUnresolved("", 0),
                ServerOptions.defaults().withDualStack(true))) {
      InetSocketAddress v4Name = (InetSocketAddress) v4.getSockName();
      assertThat(v4Name.getAddress().getHostAddress()).isEqualTo("0.0.0.0");
      assertThat(((InetSocketAddress) dual.getSockName()).getAddress().isAnyLocalAddress())
          .isTrue();
      assertThat(dual.family()).isEqualTo(Family.AF_INET6);
      try (Socket client =
          Sockets.createConnection(new InetSocketAddress("127.0.0.1", v4Name.getPort()))) {
        assertThat(v4.accept().address()).isEqualTo(client.getSockName());
      }
    }
  }

  // python3: create_server(("name", 0), family=AF_INET6, dualstack_ipv6=True) binds the name's
  // IPv6 address, though the resolver gives its IPv4 one first
  @Test
  void aDualStackServerBindsTheIpv6AddressOfAName() throws Exception {
    assertThat(Sockets.getAddrInfo("loopbacks", 0, null, null).getFirst().family())
        .isEqualTo(Family.AF_INET);
    try (Socket server =
        Sockets.createServer(
            InetSocketAddress.createUnresolved("loopbacks", 0),
            ServerOptions.defaults().withDualStack(true))) {
      assertThat(server.family()).isEqualTo(Family.AF_INET6);
      assertThat(((InetSocketAddress) server.getSockName()).getAddress().isLoopbackAddress())
          .isTrue();
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
  void createConnectionWithANonBlockingDefaultTimeoutConnectsAsTheDefaultOptionsDo()
      throws Exception {
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      Sockets.setDefaultTimeout(Duration.ZERO);
      try (Socket client = Sockets.createConnection(server.getSockName())) {
        assertThat(client.getPeerName()).isEqualTo(server.getSockName());
        assertThat(client.getTimeout()).isNull();
      } finally {
        Sockets.setDefaultTimeout(null);
      }
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

  // an address the JDK scopes by an interface (as NetworkInterface lists them: ::1%lo) was written
  // as text and resolved again, and getAddrInfo takes an interface name only for a link-local
  // scope: EAI_NONAME, where Socket.connect of the same address connects
  @Test
  void createConnectionConnectsToAResolvedAddressAsItIs() throws Exception {
    var lo = NetworkInterface.getByName("lo");
    var scoped = Inet6Address.getByAddress(null, Sockets.inetPton(Family.AF_INET6, "::1"), lo);
    try (Socket server = Sockets.createServer("::1", 0)) {
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      try (Socket client =
          Sockets.createConnection(new InetSocketAddress(scoped, port), Duration.ofSeconds(5))) {
        assertThat(client.family()).isEqualTo(Family.AF_INET6);
        assertThat(server.accept().address()).isEqualTo(client.getSockName());
      }
    }
  }

  // it was refused by the bind of the first attempt, as "address: an AF_INET socket takes ..."
  @Test
  void aSourceAddressThatIsNotInetIsAnErrorNamingIt() throws Exception {
    var unix = UnixDomainSocketAddress.of("/tmp/s");
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      assertThatThrownBy(
              () ->
                  Sockets.createConnection(
                      server.getSockName(), ConnectOptions.defaults().withSourceAddress(unix)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("sourceAddress: an InetSocketAddress, not /tmp/s");
    }
  }

  // python3 on Linux: create_connection(('127.0.0.1', p), source_address=('::1', 0)) raises
  // gaierror(EAI_ADDRFAMILY) from the bind, whichever way the source address is given; jsock threw
  // IllegalArgumentException for a resolved one (and gaierror's equivalent for host and port)
  @Test
  void aSourceAddressOfTheOtherFamilyOnlyIsAnAddressFamilyError() throws Exception {
    try (Socket server = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      for (ConnectOptions options :
          new ConnectOptions[] {
            ConnectOptions.defaults().withSourceAddress(new InetSocketAddress("::1", 0)),
            ConnectOptions.defaults().withSourceAddress("::1", 0)
          }) {
        AddressResolutionException e =
            catchThrowableOfType(
                AddressResolutionException.class,
                () -> Sockets.createConnection("127.0.0.1", port, options));

        assertThat(e.errno()).isEqualTo(-9).isEqualTo(Errno.EAI_ADDRFAMILY);
        assertThat(e).hasMessage("bind to [::1]:0: address family for hostname not supported");
        assertThat(((InetSocketAddress) e.address()).getPort()).isZero();
        assertThat(((InetSocketAddress) e.address()).getHostString())
            .isIn("::1", "0:0:0:0:0:0:0:1");
      }
    }
  }

  // python3: create_connection(("twice.example.test", port)) with both of its addresses refusing
  // raises the last attempt's error (Lib/socket.py keeps only the last unless all_errors); jsock
  // threw the first's
  @Test
  void createConnectionThrowsTheLastAttemptsErrorWithTheEarlierOnesSuppressed() throws Exception {
    int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);

    ConnectionRefusedException e =
        catchThrowableOfType(
            ConnectionRefusedException.class,
            () -> Sockets.createConnection("twice.example.test", port));

    assertThat(e).hasMessage("connect to 127.0.0.5:" + port + ": connection refused");
    assertThat(e.getSuppressed())
        .singleElement()
        .satisfies(
            first ->
                assertThat(first)
                    .hasMessage("connect to 127.0.0.4:" + port + ": connection refused"));
  }

  @Test
  void createConnectionReportsTheErrorOrAllOfThem() throws Exception {
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
