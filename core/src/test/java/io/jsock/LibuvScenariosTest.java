package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.Shutdown.SHUT_RDWR;
import static io.jsock.Shutdown.SHUT_WR;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.AddressText.text;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Scenarios from libuv's socket tests ({@code test/test-*.c} of libuv/libuv) and Node's ({@code
 * test/parallel/test-net-*.js}, {@code test-dgram-*.js} of nodejs/node), each a behaviour a socket
 * layer once got wrong, translated to jsock with what CPython on Linux does as the expected result
 * (checked with python3 on loopback). Each test names the test it comes from.
 */
@Timeout(60) // a safety net: a hung socket fails its test instead of the build
class LibuvScenariosTest {
  /** How long something that should happen at once may take before the test fails. */
  private static final Duration PROMPTLY = Duration.ofSeconds(10);

  /** Not an address of this host, in the range tests may use; only bound to, never sent to. */
  private static final String NOT_LOCAL_IPV4 = "198.18.0.1";

  @TempDir Path dir;

  // libuv test-tcp-bind-error.c tcp_bind_error_addrinuse_listen (first as test-bind-error.c
  // bind_error_addrinuse): two sockets with SO_REUSEADDR bind one port, the first listens and the
  // second's listen fails with EADDRINUSE. python3: the second stays bound to the port, and
  // listens on it once the first has closed
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aSecondSocketBoundToAListenersPortCannotListenUntilTheListenerCloses(Family family)
      throws IOException {
    try (Socket first = Socket.create(family, SOCK_STREAM);
        Socket second = Socket.create(family, SOCK_STREAM)) {
      first.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      second.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      first.bind(new InetSocketAddress(Loopback.ip(family), 0));
      SocketAddress port = first.getSockName();
      second.bind(port);
      first.listen();

      AddressInUseException e = catchThrowableOfType(AddressInUseException.class, second::listen);

      assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
      assertThat(e).hasMessage("listen on " + text(port) + ": address already in use");
      assertThat(second.getSockName()).isEqualTo(port);
      first.close();
      second.listen();
      try (Socket client = Sockets.createConnection(port, PROMPTLY);
          Socket served = second.accept().conn()) {
        assertThat(served.getPeerName()).isEqualTo(client.getSockName());
      }
    }
  }

  // libuv test-tcp-bind-error.c tcp_bind_error_addrnotavail_1, test-tcp-bind6-error.c
  // bind6_error_addrnotavail, test-udp-bind.c / Node test-dgram-error-message-address.js: a bind
  // to an address this host does not have fails with EADDRNOTAVAIL (python3: OSError 99, "Cannot
  // assign requested address"), for TCP and UDP alike
  @ParameterizedTest
  @EnumSource(SocketKind.class)
  void bindToAnAddressThisHostDoesNotHaveIsNotAvailable(SocketKind kind) throws IOException {
    for (String host : new String[] {NOT_LOCAL_IPV4, "::2"}) {
      Family family = host.contains(":") ? AF_INET6 : AF_INET;
      try (Socket socket = Socket.create(family, kind)) {
        ErrnoException e = catchThrowableOfType(ErrnoException.class, () -> socket.bind(host, 0));

        assertThat(e.errno()).isEqualTo(99).isEqualTo(Errno.EADDRNOTAVAIL);
        SocketAddress address = new InetSocketAddress(InetAddress.ofLiteral(host), 0);
        assertThat(e.address()).isEqualTo(address);
        assertThat(e).hasMessage("bind to " + text(address) + ": cannot assign requested address");
        socket.bind(new InetSocketAddress(Loopback.ip(family), 0)); // the socket is as it was
      }
    }
  }

  // libuv test-tcp-bind-error.c tcp_listen_without_bind: listen on a TCP socket never bound binds
  // it to the wildcard address and a port the kernel chooses (python3: ('0.0.0.0', port) and
  // ('::', port, 0, 0)), and clients connect to that port
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void listenWithoutBindTakesAPortOnTheWildcardAddress(Family family) throws IOException {
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      listener.listen();

      InetSocketAddress name = (InetSocketAddress) listener.getSockName();
      assertThat(name.getAddress().isAnyLocalAddress()).isTrue();
      assertThat(name.getAddress() instanceof Inet6Address).isEqualTo(family == AF_INET6);
      assertThat(name.getPort()).isPositive();
      try (Socket client =
              Sockets.createConnection(
                  new InetSocketAddress(Loopback.ip(family), name.getPort()), PROMPTLY);
          Socket served = listener.accept().conn()) {
        client.sendAll(bytes("hello"));
        assertThat(served.recv(10)).isEqualTo(bytes("hello"));
      }
    }
  }

  // libuv test-shutdown-twice.c: a second shutdown of the writing side, and a SHUT_RDWR after it,
  // are no errors (python3 on Linux: both return None) and the peer reads the data, then one end
  // of stream
  @ParameterizedTest
  @EnumSource(Family.class)
  void shuttingDownTheWritingSideTwiceIsNoError(Family family) throws IOException {
    try (Pair pair = Loopback.pair(family, dir)) {
      pair.client().sendAll(bytes("hi"));
      pair.client().shutdown(SHUT_WR);

      pair.client().shutdown(SHUT_WR);
      pair.client().shutdown(SHUT_RDWR);

      assertThat(pair.server().recv(10)).isEqualTo(bytes("hi"));
      assertThat(pair.server().recv(10)).isEmpty();
      assertThat(pair.client().recv(10)).isEmpty();
    }
  }

  // libuv test-udp-dgram-too-big.c, Node test-dgram-msgsize.js: a datagram larger than IP can carry
  // (65,507 bytes of payload over IPv4, 65,527 over IPv6) fails with EMSGSIZE (python3: OSError 90,
  // "Message too long") and sends nothing; the largest that fits arrives whole
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aDatagramLargerThanIpCarriesIsTooLongAndTheLargestThatFitsArrivesWhole(Family family)
      throws IOException {
    int largest = family == AF_INET ? 65_507 : 65_527;
    try (Socket receiver = Socket.create(family, SOCK_DGRAM);
        Socket sender = Socket.create(family, SOCK_DGRAM)) {
      receiver.bind(new InetSocketAddress(Loopback.ip(family), 0));
      SocketAddress to = receiver.getSockName();

      ErrnoException e =
          catchThrowableOfType(
              ErrnoException.class, () -> sender.sendTo(new byte[largest + 1], to));

      assertThat(e.errno()).isEqualTo(90).isEqualTo(Errno.EMSGSIZE);
      assertThat(e).hasMessage("send to " + text(to) + ": message too long");
      byte[] whole = new byte[largest];
      Arrays.fill(whole, (byte) 'x');
      assertThat(sender.sendTo(whole, to)).isEqualTo(largest);
      assertThat(receiver.recv(70_000)).isEqualTo(whole);
      sender.connect(to);
      ErrnoException connected =
          catchThrowableOfType(ErrnoException.class, () -> sender.send(new byte[largest + 1]));
      assertThat(connected.errno()).isEqualTo(Errno.EMSGSIZE);
      receiver.setBlocking(false);
      assertThat(catchThrowableOfType(WouldBlockException.class, () -> receiver.recv(70_000)))
          .isNotNull(); // neither datagram too long was sent
    }
  }

  // libuv test-udp-bind.c udp_bind / udp_bind_reuseaddr, Node test-dgram-bind-shared-ports.js: a
  // second UDP socket cannot bind a port one holds (python3: OSError 98) unless both have
  // SO_REUSEADDR (neither, or only one of them, is not enough), and then it can
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aSecondUdpSocketBindsAHeldPortOnlyWithSoReuseAddrOnBoth(Family family) throws IOException {
    boolean[][] notBoth = {{false, false}, {true, false}, {false, true}};
    for (boolean[] reuse : notBoth) {
      try (Socket first = Socket.create(family, SOCK_DGRAM);
          Socket second = Socket.create(family, SOCK_DGRAM)) {
        first.setSockOpt(StandardSocketOptions.SO_REUSEADDR, reuse[0]);
        second.setSockOpt(StandardSocketOptions.SO_REUSEADDR, reuse[1]);
        first.bind(new InetSocketAddress(Loopback.ip(family), 0));
        SocketAddress held = first.getSockName();

        AddressInUseException e =
            catchThrowableOfType(AddressInUseException.class, () -> second.bind(held));

        assertThat(e).as("SO_REUSEADDR %s", Arrays.toString(reuse)).isNotNull();
        assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
        assertThat(e).hasMessage("bind to " + text(held) + ": address already in use");
      }
    }
    try (Socket first = Socket.create(family, SOCK_DGRAM);
        Socket second = Socket.create(family, SOCK_DGRAM)) {
      first.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      second.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      first.bind(new InetSocketAddress(Loopback.ip(family), 0));

      second.bind(first.getSockName());

      assertThat(second.getSockName()).isEqualTo(first.getSockName());
    }
  }

  // libuv test-udp-ipv6.c udp_ipv6_only, Node test-dgram-ipv6only.js: a UDP socket on "::" with
  // IPV6_V6ONLY leaves the IPv4 side of its port to another socket (python3: the AF_INET bind
  // succeeds), and each gets the datagrams of its own family
  @Test
  void anIpv6OnlyUdpSocketLeavesTheIpv4SideOfItsPortToAnotherSocket() throws IOException {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "IPV6_V6ONLY is the epoll path's");
    try (Socket v6 = Socket.create(AF_INET6, SOCK_DGRAM);
        Socket v4 = Socket.create(AF_INET, SOCK_DGRAM);
        Socket sender4 = Socket.create(AF_INET, SOCK_DGRAM);
        Socket sender6 = Socket.create(AF_INET6, SOCK_DGRAM)) {
      v6.setSockOpt(Sockets.IPV6_V6ONLY, true);
      int port = Loopback.unusedPort(AF_INET, SOCK_DGRAM);
      v6.bind("::", port);

      v4.bind("0.0.0.0", port);

      sender4.sendTo(bytes("four"), "127.0.0.1", port);
      sender6.sendTo(bytes("six"), "::1", port);
      int sender4Port = ((InetSocketAddress) sender4.getSockName()).getPort();
      assertThat(v4.recvFrom(10))
          .isEqualTo(new Datagram(bytes("four"), new InetSocketAddress("127.0.0.1", sender4Port)));
      assertThat(v6.recv(10)).isEqualTo(bytes("six"));
    }
  }

  // libuv test-udp-ipv6.c udp_dual_stack: a dual-stack UDP socket on "::" receives an IPv4
  // sender's datagram, and its reply to the address recvfrom gave reaches that sender (python3:
  // recvfrom gives ('::ffff:127.0.0.1', port, 0, 0), and sendto of it arrives)
  @Test
  void aDualStackUdpSocketAnswersAnIpv4SenderAtTheAddressRecvFromGave() throws IOException {
    try (Socket server = Socket.create(AF_INET6, SOCK_DGRAM);
        Socket client = Socket.create(AF_INET, SOCK_DGRAM)) {
      server.bind("::", 0);
      int port = ((InetSocketAddress) server.getSockName()).getPort();
      client.sendTo(bytes("ping"), "127.0.0.1", port);

      Datagram ping = server.recvFrom(10);
      server.sendTo(bytes("pong"), ping.address());

      assertThat(ping.data()).isEqualTo(bytes("ping"));
      Datagram pong = client.recvFrom(10);
      assertThat(pong.data()).isEqualTo(bytes("pong"));
      assertThat(((InetSocketAddress) pong.address()).getPort()).isEqualTo(port);
    }
  }

  // libuv test-tcp-close-accept.c (connections queued on a listener that closes), Node
  // test-net-server-close.js: a client whose connection waited in the queue of a listener that
  // closed is reset (python3: recv raises ConnectionResetError, then gives b''; AF_UNIX too, and
  // a send there raises BrokenPipeError)
  @ParameterizedTest
  @EnumSource(Family.class)
  void aConnectionQueuedOnAListenerThatClosesIsReset(Family family) throws IOException {
    Socket listener = Socket.create(family, SOCK_STREAM);
    try (listener;
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      client.connect(listener.getSockName()); // completes in the backlog
      client.sendAll(bytes("never read"));

      listener.close();

      ConnectionResetException e =
          catchThrowableOfType(ConnectionResetException.class, () -> client.recv(10));
      assertThat(e.errno()).isEqualTo(Errno.ECONNRESET);
      if (family == AF_UNIX) {
        assertThat(catchThrowableOfType(BrokenPipeException.class, () -> client.send(bytes("x"))))
            .isNotNull();
      } else {
        assertThat(client.recv(10)).isEmpty();
      }
    }
  }

  // libuv test-connect-unspecified.c connect_unspecified: a TCP connect to the unspecified address
  // ("0.0.0.0", "::") is no EADDRNOTAVAIL: Linux connects it to the loopback address of the
  // family (python3: connect(('0.0.0.0', p)) reaches a listener on 127.0.0.1:p, and
  // connect(('::', p)) one on ::1:p, whose address getpeername then gives; "" is the same)
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aConnectToTheUnspecifiedAddressReachesTheLoopbackListener(Family family) throws IOException {
    String unspecified = family == AF_INET ? "0.0.0.0" : "::";
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      listener.bind(new InetSocketAddress(Loopback.ip(family), 0));
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      for (String host : new String[] {unspecified, ""}) {
        try (Socket client = Socket.create(family, SOCK_STREAM)) {
          client.connect(host, port);

          try (Socket served = listener.accept().conn()) {
            assertThat(client.getPeerName()).isEqualTo(listener.getSockName());
            assertThat(served.getPeerName()).isEqualTo(client.getSockName());
          }
        }
      }
    }
  }

  // libuv test-tcp-bind-error.c tcp_bind_error_addrinuse_connect: a socket bound (SO_REUSEADDR)
  // to the address and port of another that is connected to the same peer cannot connect there
  // too, the four-tuple being taken (python3 on Linux: OSError 99, "Cannot assign requested
  // address"), and getsockname still gives the address it was bound to
  @Test
  void aConnectWhoseAddressesAnotherConnectionHoldsIsNotAvailable() throws IOException {
    try (Socket listener = Socket.create(AF_INET, SOCK_STREAM);
        Socket first = Socket.create(AF_INET, SOCK_STREAM);
        Socket second = Socket.create(AF_INET, SOCK_STREAM)) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      SocketAddress peer = listener.getSockName();
      first.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      second.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      first.bind("127.0.0.2", 0);
      SocketAddress local = first.getSockName();
      second.bind(local);
      first.connect(peer);

      ErrnoException e = catchThrowableOfType(ErrnoException.class, () -> second.connect(peer));

      assertThat(e.errno()).isEqualTo(99).isEqualTo(Errno.EADDRNOTAVAIL);
      assertThat(e.address()).isEqualTo(peer);
      assertThat(e).hasMessage("connect to " + text(peer) + ": cannot assign requested address");
      assertThat(second.getSockName()).isEqualTo(local);
    }
  }

  // libuv test-tcp-rst.c tcp_rst: a socket its peer reset is still a TCP socket of its own
  // (python3: after ConnectionResetError, getsockname gives the address it had, options read and
  // set, recv gives b'' and send raises BrokenPipeError)
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aSocketItsPeerResetKeepsItsNameAndOptions(Family family) throws IOException {
    try (Pair pair = Loopback.pair(family)) {
      Socket client = pair.client();
      SocketAddress name = client.getSockName();
      pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      pair.server().close(); // resets

      assertThat(catchThrowableOfType(ConnectionResetException.class, () -> client.recv(10)))
          .isNotNull();

      assertThat(client.getSockName()).isEqualTo(name);
      assertThat(client.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isPositive();
      client.setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
      assertThat(client.getSockOpt(StandardSocketOptions.TCP_NODELAY)).isTrue();
      assertThat(client.recv(10)).isEmpty();
      assertThat(catchThrowableOfType(BrokenPipeException.class, () -> client.send(bytes("x"))))
          .isNotNull();
      assertThat(client.isClosed()).isFalse();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }
}
