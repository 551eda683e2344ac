package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link Socket#setSockOpt} and {@link Socket#getSockOpt} with standard and extended options. */
class SocketOptionsTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void keepAliveAndItsTimersRoundTrip(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      Socket s = pair.client();
      s.setSockOpt(StandardSocketOptions.SO_KEEPALIVE, true);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE, 30);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPINTERVAL, 5);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT, 4);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE)).isEqualTo(30);
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPINTERVAL)).isEqualTo(5);
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT)).isEqualTo(4);
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void lingerBuffersAndTosRoundTrip(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      Socket s = pair.client();
      s.setSockOpt(StandardSocketOptions.SO_LINGER, 3);
      s.setSockOpt(StandardSocketOptions.SO_SNDBUF, 65_536);
      s.setSockOpt(StandardSocketOptions.SO_RCVBUF, 65_536);
      s.setSockOpt(StandardSocketOptions.IP_TOS, 0x10);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_LINGER)).isEqualTo(3);
      // Linux doubles the buffer sizes it is given, for its own bookkeeping.
      assertThat(s.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isGreaterThanOrEqualTo(65_536);
      assertThat(s.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isGreaterThanOrEqualTo(65_536);
      assertThat(s.getSockOpt(StandardSocketOptions.IP_TOS)).isEqualTo(0x10);
    }
  }

  // python3 on Linux: getsockopt(SO_RCVBUF) after setsockopt(SO_RCVBUF, 65536) gives 131072, the
  // doubled size the kernel keeps (socket(7)); SO_SNDBUF alike, TCP and UDP
  @ParameterizedTest
  @EnumSource(SocketKind.class)
  void bufferSizesReadAsLinuxReportsThemDoubled(SocketKind kind) throws Exception {
    try (Socket s = Socket.create(Family.AF_INET, kind)) {
      s.setSockOpt(StandardSocketOptions.SO_RCVBUF, 65_536);
      s.setSockOpt(StandardSocketOptions.SO_SNDBUF, 65_536);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isEqualTo(131_072);
      assertThat(s.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isEqualTo(131_072);
    }
  }

  // python3 on Linux: a new socket's SO_RCVBUF is the kernel's default, tcp_rmem's middle value
  // for TCP and rmem_default for UDP
  @ParameterizedTest
  @EnumSource(SocketKind.class)
  void aNewSocketsReceiveBufferIsTheKernelsDefault(SocketKind kind) throws Exception {
    Path setting =
        Path.of(
            kind == SocketKind.SOCK_STREAM
                ? "/proc/sys/net/ipv4/tcp_rmem"
                : "/proc/sys/net/core/rmem_default");
    assumeTrue(Files.isReadable(setting), "Linux's " + setting);
    // (readString would read one byte: the file's size reads as 0)
    String[] values = Files.readAllLines(setting).getFirst().strip().split("\\s+");
    int expected = Integer.parseInt(values[kind == SocketKind.SOCK_STREAM ? 1 : 0]);
    try (Socket s = Socket.create(Family.AF_INET, kind)) {
      assertThat(s.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isEqualTo(expected & ~1);
    }
  }

  @Test
  void aListenerAndTheSocketsItAcceptsReportTheirBufferSizesAsLinuxDoes() throws Exception {
    try (Socket listener = Socket.create();
        Socket client = Socket.create()) {
      listener.setSockOpt(StandardSocketOptions.SO_RCVBUF, 65_536);
      listener.setSockOpt(StandardSocketOptions.SO_SNDBUF, 65_536); // held for accepted sockets
      listener.bind(new InetSocketAddress(Loopback.ip(Family.AF_INET), 0));
      listener.listen();

      assertThat(listener.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isEqualTo(131_072);
      assertThat(listener.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isEqualTo(131_072);
      client.connect(listener.getSockName());
      try (Socket conn = listener.accept().conn()) {
        assertThat(conn.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isEqualTo(131_072);
        assertThat(conn.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isEqualTo(131_072);
      }
    }
  }

  // python3 on Linux: TCP_QUICKACK 0 set before listen() reads 1 on the listener (listen starts
  // its acknowledgements afresh) and on the sockets it accepts, copies of it; jsock set the 0 on
  // each accepted socket again, as it sets the options its listener cannot hold, so they read 0
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void optionsAListenerHoldsReachTheSocketsItAcceptsAsLinuxCopiesThem(Family family)
      throws Exception {
    try (Socket listener = Socket.create(family, SocketKind.SOCK_STREAM)) {
      listener.setSockOpt(ExtendedSocketOptions.TCP_QUICKACK, false);
      listener.setSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE, 30);
      listener.bind(new InetSocketAddress(Loopback.ip(family), 0));
      listener.listen();
      listener.setSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT, 3);

      assertThat(listener.getSockOpt(ExtendedSocketOptions.TCP_QUICKACK)).isTrue();
      try (Socket client = Sockets.createConnection(listener.getSockName());
          Socket conn = listener.accept().conn()) {
        assertThat(conn.getSockOpt(ExtendedSocketOptions.TCP_QUICKACK)).isTrue();
        assertThat(conn.getSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE)).isEqualTo(30);
        assertThat(conn.getSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT)).isEqualTo(3);
      }
    }
  }

  // python3 on Linux: IP_TOS (IPV6_TCLASS over IPv6) set on a TCP socket before or after listen()
  // reads back on the listener and is inherited by every socket it accepts; jsock refused it on a
  // listener ("does not apply to an AF_INET SOCK_STREAM socket") and its accepted sockets had 0
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aListenersTosIsInheritedByTheSocketsItAccepts(Family family) throws Exception {
    try (Socket before = Socket.create(family, SocketKind.SOCK_STREAM);
        Socket after = Socket.create(family, SocketKind.SOCK_STREAM)) {
      before.bind(new InetSocketAddress(Loopback.ip(family), 0));
      before.setSockOpt(StandardSocketOptions.IP_TOS, 0x10);
      before.listen();
      after.bind(new InetSocketAddress(Loopback.ip(family), 0));
      after.listen();
      after.setSockOpt(StandardSocketOptions.IP_TOS, 0x20);

      for (Socket listener : new Socket[] {before, after}) {
        int tos = listener == before ? 0x10 : 0x20;
        assertThat(listener.getSockOpt(StandardSocketOptions.IP_TOS)).isEqualTo(tos);
        try (Socket client = Sockets.createConnection(listener.getSockName());
            Socket conn = listener.accept().conn()) {
          assertThat(conn.getSockOpt(StandardSocketOptions.IP_TOS)).isEqualTo(tos);
          assertThat(client.getSockOpt(StandardSocketOptions.IP_TOS)).isZero();
        }
      }
    }
  }

  // python3 on Linux: an AF_UNIX listener's SO_SNDBUF is an AF_UNIX socket's (wmem_default),
  // not TCP's, and setsockopt(IPPROTO_TCP, TCP_NODELAY) on it fails (EOPNOTSUPP)
  @Test
  void anUnixListenerReportsAndRefusesOptionsAsAnUnixSocket() throws Exception {
    try (Socket fresh = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
        Socket listener = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      listener.bind(UnixDomainSocketAddress.of(dir.resolve("s")));
      listener.listen();

      assertThat(listener.getSockOpt(StandardSocketOptions.SO_SNDBUF))
          .isEqualTo(fresh.getSockOpt(StandardSocketOptions.SO_SNDBUF));
      assertThatThrownBy(() -> listener.setSockOpt(StandardSocketOptions.TCP_NODELAY, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option TCP_NODELAY does not apply to an AF_UNIX SOCK_STREAM socket");
      assertThatThrownBy(() -> listener.getSockOpt(StandardSocketOptions.SO_KEEPALIVE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option SO_KEEPALIVE does not apply to an AF_UNIX SOCK_STREAM socket");
    }
  }

  // python3 on Linux: an AF_UNIX listener given SO_SNDBUF 32768 and SO_LINGER (1, 5) reports them,
  // but the sockets it accepts have a fresh AF_UNIX socket's SO_SNDBUF and no linger (Linux makes
  // them anew, where TCP clones the listener); jsock set both on every accepted AF_UNIX socket
  @Test
  void anUnixListenersOptionsAreNotGivenToTheSocketsItAccepts() throws Exception {
    UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("s"));
    try (Socket fresh = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
        Socket listener = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
        Socket client = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      listener.bind(path);
      listener.setSockOpt(StandardSocketOptions.SO_SNDBUF, 32_768);
      listener.setSockOpt(StandardSocketOptions.SO_LINGER, 5);
      listener.listen();
      client.connect(path);

      try (Socket conn = listener.accept().conn()) {
        assertThat(listener.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isEqualTo(65_536);
        assertThat(listener.getSockOpt(StandardSocketOptions.SO_LINGER)).isEqualTo(5);
        assertThat(conn.getSockOpt(StandardSocketOptions.SO_SNDBUF))
            .isEqualTo(fresh.getSockOpt(StandardSocketOptions.SO_SNDBUF));
        assertThat(conn.getSockOpt(StandardSocketOptions.SO_LINGER)).isEqualTo(-1);
      }
    }
  }

  @Test
  void aValueTheOptionCannotTakeIsAnErrorNamingTheOptionAndTheValue() throws Exception {
    try (Socket s = Socket.create()) {
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.SO_RCVBUF, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("value: SO_RCVBUF cannot be -1");
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.IP_TOS, 256))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("value: IP_TOS cannot be 256");
    }
  }

  // an option a listener holds for the sockets it accepts was taken unchecked, and then every
  // accept threw the JDK's IllegalArgumentException, closing the connection it had taken
  @Test
  void aListenerRefusesAtOnceAValueItsAcceptedSocketsCannotTake() throws Exception {
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      assertThatThrownBy(() -> listener.setSockOpt(StandardSocketOptions.SO_SNDBUF, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("value: SO_SNDBUF cannot be -1");
      try (Socket client = Sockets.createConnection(listener.getSockName());
          Socket conn = listener.accept().conn()) {
        assertThat(conn.getPeerName()).isEqualTo(client.getSockName());
      }
    }
  }

  // through a raw SocketOption, as code that reads option names from configuration does: a
  // listener's TCP_NODELAY, which jsock sets itself, threw a bare ClassCastException
  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void aValueOfTheWrongTypeIsAnErrorNamingTheOptionOnAListenerToo() throws Exception {
    try (Socket stream = Socket.create();
        Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      for (Socket s : new Socket[] {stream, listener}) {
        assertThatThrownBy(() -> s.setSockOpt((SocketOption) StandardSocketOptions.TCP_NODELAY, 1))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("value: TCP_NODELAY cannot be 1");
        assertThatThrownBy(() -> s.setSockOpt((SocketOption) StandardSocketOptions.SO_LINGER, "5"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("value: SO_LINGER cannot be 5");
        assertThat(s.getSockOpt(StandardSocketOptions.TCP_NODELAY)).isFalse();
      }
    }
  }

  // python3 on Linux: setsockopt(SOL_SOCKET, SO_INCOMING_NAPI_ID or SO_PEERCRED, ...) raises
  // OSError ENOPROTOOPT ("Protocol not available"), the option read-only; jsock threw EIO
  // ("input/output error"), an errno Linux never gives there, as the JDK's refusal had none
  @Test
  void aReadOnlyOptionSetIsRefusedWithEnoprotooptAsInPython() throws Exception {
    try (Socket tcp = Socket.create();
        Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      for (Socket s : new Socket[] {tcp, udp, listener}) {
        assertThatThrownBy(() -> s.setSockOpt(ExtendedSocketOptions.SO_INCOMING_NAPI_ID, 1))
            .isInstanceOfSatisfying(
                ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOPROTOOPT))
            .hasMessage("setsockopt SO_INCOMING_NAPI_ID: protocol not available");
        assertThat(s.getSockOpt(ExtendedSocketOptions.SO_INCOMING_NAPI_ID)).isZero();
      }
    }
    Socket[] pair = Sockets.socketPair();
    try (Socket a = pair[0];
        Socket b = pair[1]) {
      var credentials = a.getSockOpt(ExtendedSocketOptions.SO_PEERCRED);
      assertThatThrownBy(() -> a.setSockOpt(ExtendedSocketOptions.SO_PEERCRED, credentials))
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOPROTOOPT))
          .hasMessage("setsockopt SO_PEERCRED: protocol not available");
      assertThat(b.getSockOpt(ExtendedSocketOptions.SO_PEERCRED)).isEqualTo(credentials);
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void anOptionThatDoesNotFitTheSocketIsAClearError(Family family) throws Exception {
    try (Socket s = Socket.create(family, SocketKind.SOCK_STREAM)) {
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.SO_BROADCAST, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option SO_BROADCAST does not apply to an " + family + " SOCK_STREAM socket");
      assertThatThrownBy(() -> s.getSockOpt(StandardSocketOptions.IP_MULTICAST_TTL))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("option IP_MULTICAST_TTL does not apply");
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.SO_LINGER, null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("value");
    }
  }

  // python3 on Linux: an AF_INET6 socket starts with IPV6_V6ONLY 0; set to 1 before bind, its
  // listener takes IPv6 only (its accepted sockets read 1), and an AF_INET socket listens on the
  // same port; set on a bound socket it fails with EINVAL, on UDP it reads back, and an AF_INET
  // socket has no such option (ENOPROTOOPT)
  @Test
  void ipv6OnlyLeavesTheIpv4SideOfThePortToAnotherSocket() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Socket v6 = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM);
        Socket v4 = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
        Socket udp = Socket.create(Family.AF_INET6, SocketKind.SOCK_DGRAM)) {
      assertThat(v6.getSockOpt(Sockets.IPV6_V6ONLY)).isFalse();
      v6.setSockOpt(Sockets.IPV6_V6ONLY, true);
      assertThat(v6.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
      // a port no bind to port 0 is given, in this process or another: one the kernel chose for
      // v6 may meanwhile be any other program's on IPv4, which v6 (IPv6 only) does not hold
      int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);
      v6.bind("::", port);
      v6.listen(); // a new channel, which must have the option before its bind
      assertThat(v6.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
      v4.bind("0.0.0.0", port);
      v4.listen();
      try (Socket ipv4Client = Sockets.createConnection("127.0.0.1", port);
          Socket ipv6Client = Sockets.createConnection("::1", port);
          Socket fromV4 = v4.accept().conn();
          Socket fromV6 = v6.accept().conn()) {
        assertThat(fromV4.getPeerName()).isEqualTo(ipv4Client.getSockName());
        assertThat(fromV6.getPeerName()).isEqualTo(ipv6Client.getSockName());
        assertThat(fromV6.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
      }
      assertThatThrownBy(() -> v6.setSockOpt(Sockets.IPV6_V6ONLY, false))
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
          .hasMessage("setsockopt IPV6_V6ONLY: invalid argument");
      udp.setSockOpt(Sockets.IPV6_V6ONLY, true);
      assertThat(udp.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
      assertThatThrownBy(() -> v4.getSockOpt(Sockets.IPV6_V6ONLY))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option IPV6_V6ONLY does not apply to an AF_INET SOCK_STREAM socket");
      assertThatThrownBy(() -> v4.setSockOpt(Sockets.IPV6_V6ONLY, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option IPV6_V6ONLY does not apply to an AF_INET SOCK_STREAM socket");
    }
  }

  // the channel a failed connect closed is replaced by one with the same options (Python keeps
  // its socket), IPV6_V6ONLY included
  @Test
  void ipv6OnlyOutlivesAFailedConnect() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Loopback.Refusing refusing = Loopback.refusingAddress(Family.AF_INET6);
        Socket s = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM)) {
      s.setSockOpt(Sockets.IPV6_V6ONLY, true);
      assertThatThrownBy(() -> s.connect(refusing.address()))
          .isInstanceOf(ConnectionRefusedException.class);
      assertThat(s.getSockOpt(Sockets.IPV6_V6ONLY)).isTrue();
    }
  }

  // python3 on Linux: a socket bound to port 0, or with SO_REUSEADDR set off, still reads
  // SO_REUSEADDR 0 after its connect is refused; the fresh channel set it on for every bound socket
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void soReuseAddrOutlivesAFailedConnectAsItWas(Family family) throws Exception {
    try (Loopback.Refusing refusing = Loopback.refusingAddress(family);
        Socket portZero = Socket.create(family, SocketKind.SOCK_STREAM);
        Socket setOff = Socket.create(family, SocketKind.SOCK_STREAM);
        Socket byBind = Socket.create(family, SocketKind.SOCK_STREAM)) {
      portZero.bind(new InetSocketAddress(Loopback.ip(family), 0));
      setOff.setSockOpt(StandardSocketOptions.SO_REUSEADDR, false);
      // ports nobody has, below the ephemeral range: one taken from a socket bound to port 0 and
      // closed could go to any other socket's bind to port 0 (or connect) before these take it
      setOff.bind(new InetSocketAddress(Loopback.ip(family), unusedPort(family)));
      byBind.bind(new InetSocketAddress(Loopback.ip(family), unusedPort(family)));
      for (Socket s : new Socket[] {portZero, setOff, byBind}) {
        assertThatThrownBy(() -> s.connect(refusing.address()))
            .isInstanceOf(ConnectionRefusedException.class);
      }

      assertThat(portZero.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isFalse();
      assertThat(setOff.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isFalse();
      assertThat(byBind.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isTrue(); // as bind set it
    }
  }

  // python3 on Linux: a bind refused (the port has a listener) leaves SO_REUSEADDR 0, and a later
  // bind to port 0 picks its port without it; jsock's bind set it on before the refused bind
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aRefusedBindLeavesSoReuseAddrAsItWas(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SocketKind.SOCK_STREAM);
        Socket s = Socket.create(family, SocketKind.SOCK_STREAM)) {
      listener.bind(new InetSocketAddress(Loopback.ip(family), 0));
      listener.listen();
      assertThatThrownBy(() -> s.bind(listener.getSockName()))
          .isInstanceOf(AddressInUseException.class);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isFalse();
      s.bind(new InetSocketAddress(Loopback.ip(family), 0));
      assertThat(s.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isFalse();
    }
  }

  private static int unusedPort(Family family) throws Exception {
    return Loopback.unusedPort(family, SocketKind.SOCK_STREAM);
  }

  // documented in README: without the FFM calls the JDK's IPv6 sockets stay dual-stack
  @Test
  void ipv6OnlyCannotBeSetOnThePortablePath() throws Exception {
    assumeTrue(Boolean.getBoolean("jsock.selectorPoller"), "the portable path");
    try (Socket s = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM)) {
      s.setSockOpt(Sockets.IPV6_V6ONLY, false);
      assertThatThrownBy(() -> s.setSockOpt(Sockets.IPV6_V6ONLY, true))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("IPV6_V6ONLY");
      assertThat(s.getSockOpt(Sockets.IPV6_V6ONLY)).isFalse();
    }
  }

  // python3 on Linux: TCP_USER_TIMEOUT starts 0 and takes any int from 0 (-1: EINVAL); TCP_SYNCNT
  // reads the net.ipv4.tcp_syn_retries sysctl until set and takes 1 to 127 (0, 128, -1: EINVAL)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void userTimeoutAndSynCountRoundTripAsPythonsDo(Family family) throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    int synRetries =
        Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/tcp_syn_retries")).strip());
    try (Socket s = Socket.create(family, SocketKind.SOCK_STREAM)) {
      assertThat(s.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isZero();
      assertThat(s.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(synRetries);
      for (int millis : new int[] {1, 1000, Integer.MAX_VALUE, 0}) {
        s.setSockOpt(Sockets.TCP_USER_TIMEOUT, millis);
        assertThat(s.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isEqualTo(millis);
      }
      for (int count : new int[] {1, 127, 3}) {
        s.setSockOpt(Sockets.TCP_SYNCNT, count);
        assertThat(s.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(count);
      }
      assertThatThrownBy(() -> s.setSockOpt(Sockets.TCP_USER_TIMEOUT, -1))
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
          .hasMessage("setsockopt TCP_USER_TIMEOUT: invalid argument");
      for (int count : new int[] {0, 128, -1}) {
        assertThatThrownBy(() -> s.setSockOpt(Sockets.TCP_SYNCNT, count))
            .isInstanceOfSatisfying(
                ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
            .hasMessage("setsockopt TCP_SYNCNT: invalid argument");
      }
      assertThat(s.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isZero();
      assertThat(s.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(3);
    }
  }

  // python3 on Linux: a listener's TCP_USER_TIMEOUT and TCP_SYNCNT, set before listen or after,
  // are the sockets' it accepts (1234 and 3, then 777 and 2)
  @Test
  void userTimeoutAndSynCountOfAListenerAreItsAcceptedSockets() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      listener.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1234);
      listener.setSockOpt(Sockets.TCP_SYNCNT, 3);
      listener.bind("127.0.0.1", 0);
      listener.listen(); // a new channel, which must be given them
      assertThat(listener.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isEqualTo(1234);
      assertThat(listener.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(3);
      try (Socket client = Sockets.createConnection(listener.getSockName());
          Socket accepted = listener.accept().conn()) {
        assertThat(accepted.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isEqualTo(1234);
        assertThat(accepted.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(3);
      }
      listener.setSockOpt(Sockets.TCP_USER_TIMEOUT, 777);
      listener.setSockOpt(Sockets.TCP_SYNCNT, 2);
      try (Socket client = Sockets.createConnection(listener.getSockName());
          Socket accepted = listener.accept().conn()) {
        assertThat(accepted.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isEqualTo(777);
        assertThat(accepted.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(2);
      }
    }
  }

  // Python keeps its socket (and its options) after a refused connect; jsock's fresh channel too
  @Test
  void userTimeoutAndSynCountOutliveAFailedConnect() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Loopback.Refusing refusing = Loopback.refusingAddress(Family.AF_INET);
        Socket s = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      s.setSockOpt(Sockets.TCP_USER_TIMEOUT, 4321);
      s.setSockOpt(Sockets.TCP_SYNCNT, 5);
      assertThatThrownBy(() -> s.connect(refusing.address()))
          .isInstanceOf(ConnectionRefusedException.class);
      assertThat(s.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isEqualTo(4321);
      assertThat(s.getSockOpt(Sockets.TCP_SYNCNT)).isEqualTo(5);
    }
  }

  // python3: on UDP ENOPROTOOPT, on AF_UNIX EOPNOTSUPP; jsock refuses them as any option that does
  // not apply
  @Test
  void userTimeoutAndSynCountApplyToTcpOnly() throws Exception {
    try (Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket unix = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      for (SocketOption<Integer> option :
          java.util.List.of(Sockets.TCP_USER_TIMEOUT, Sockets.TCP_SYNCNT)) {
        assertThatThrownBy(() -> udp.setSockOpt(option, 1))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(
                "option " + option.name() + " does not apply to an AF_INET SOCK_DGRAM socket");
        assertThatThrownBy(() -> udp.getSockOpt(option))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(
                "option " + option.name() + " does not apply to an AF_INET SOCK_DGRAM socket");
        assertThatThrownBy(() -> unix.setSockOpt(option, 1))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(
                "option " + option.name() + " does not apply to an AF_UNIX SOCK_STREAM socket");
      }
    }
  }

  // documented in README: without the FFM calls no socket has a user timeout or a syn count of its
  // own
  @Test
  void userTimeoutAndSynCountCannotBeSetOnThePortablePath() throws Exception {
    assumeTrue(Boolean.getBoolean("jsock.selectorPoller"), "the portable path");
    try (Socket s = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      s.setSockOpt(Sockets.TCP_USER_TIMEOUT, 0);
      assertThat(s.getSockOpt(Sockets.TCP_USER_TIMEOUT)).isZero();
      assertThatThrownBy(() -> s.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("TCP_USER_TIMEOUT");
      assertThatThrownBy(() -> s.setSockOpt(Sockets.TCP_SYNCNT, 1))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("TCP_SYNCNT");
      assertThatThrownBy(() -> s.getSockOpt(Sockets.TCP_SYNCNT))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("TCP_SYNCNT");
    }
  }

  // python3 on Linux, fcntl.ioctl(s, termios.TIOCOUTQ): 0 unconnected, the bytes the peer has not
  // taken while it reads nothing, 0 once it has read them all; a listener EINVAL
  @Test
  void unsentBytesAreWhatTheKernelStillHoldsAsPythonsTiocoutqSays() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      assertThat(client.unsentBytes()).isZero();
      listener.bind("127.0.0.1", 0);
      listener.listen();
      assertThatThrownBy(listener::unsentBytes)
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
          .hasMessage("ioctl SIOCOUTQ: invalid argument");
      client.connect(listener.getSockName());
      try (Socket accepted = listener.accept().conn()) {
        client.setBlocking(false);
        long sent = 0;
        try {
          for (int i = 0; i < 100_000; i++) {
            sent += client.send(new byte[65536]);
          }
        } catch (WouldBlockException full) {
          // the send queue is full
        }
        assertThat(client.unsentBytes()).isPositive();
        accepted.setTimeout(java.time.Duration.ofSeconds(30));
        byte[] buf = new byte[65536];
        for (long read = 0; read < sent; ) {
          read += accepted.recvInto(buf, 0);
        }
        int left = client.unsentBytes();
        for (int i = 0; i < 1000 && left > 0; i++) { // the last acknowledgement may be on its way
          Thread.sleep(10);
          left = client.unsentBytes();
        }
        assertThat(left).isZero();
      }
    }
    Socket closed = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    closed.close();
    assertThatThrownBy(closed::unsentBytes).isInstanceOf(ClosedSocketException.class);
  }

  // documented in README: without the FFM calls the kernel cannot be asked
  @Test
  void unsentBytesCannotBeAskedOnThePortablePath() throws Exception {
    assumeTrue(Boolean.getBoolean("jsock.selectorPoller"), "the portable path");
    try (Socket s = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      assertThatThrownBy(s::unsentBytes)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("unsentBytes");
    }
  }

  // python3 on Linux, struct.unpack_from('Q', s.getsockopt(IPPROTO_TCP, TCP_INFO, 232), 120): 0
  // unconnected and for a listener, 1 for a connected client (its SYN), 0 for the accepted socket;
  // the bytes the peer's kernel took, read or not, and with what is unsent all that was sent
  @Test
  void bytesAcknowledgedAreWhatThePeerTookAsPythonsTcpInfoSays() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      assertThat(client.bytesAcknowledged()).isZero();
      listener.bind("127.0.0.1", 0);
      listener.listen();
      assertThat(listener.bytesAcknowledged()).isZero();
      client.connect(listener.getSockName());
      try (Socket accepted = listener.accept().conn()) {
        assertThat(client.bytesAcknowledged()).as("the client's SYN").isEqualTo(1);
        assertThat(accepted.bytesAcknowledged()).as("before any send").isZero();
        accepted.setBlocking(false);
        long sent = 0;
        try {
          for (int i = 0; i < 100_000; i++) {
            sent += accepted.send(new byte[65536]);
          }
        } catch (WouldBlockException full) {
          // the client's receive buffer and the send queue are full
        }
        long taken = accepted.bytesAcknowledged();
        int unsent = accepted.unsentBytes();
        for (int i = 0; i < 1000 && taken + unsent != sent; i++) { // an ack may be on its way
          Thread.sleep(10);
          taken = accepted.bytesAcknowledged();
          unsent = accepted.unsentBytes();
        }
        assertThat(taken).as("what the client's kernel took, unread").isPositive();
        assertThat(taken + unsent).as("acknowledged and unsent").isEqualTo(sent);
        client.setTimeout(java.time.Duration.ofSeconds(30));
        byte[] buf = new byte[65536];
        for (long read = 0; read < sent; ) {
          read += client.recvInto(buf, 0);
        }
        for (int i = 0; i < 1000 && accepted.bytesAcknowledged() < sent; i++) {
          Thread.sleep(10); // the last acknowledgement may be on its way
        }
        assertThat(accepted.bytesAcknowledged()).isEqualTo(sent);
        accepted.shutdown(Shutdown.SHUT_WR);
        for (int i = 0; i < 1000 && accepted.bytesAcknowledged() == sent; i++) {
          Thread.sleep(10);
        }
        assertThat(accepted.bytesAcknowledged()).as("and the FIN").isEqualTo(sent + 1);
      }
    }
    Socket closed = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    closed.close();
    assertThatThrownBy(closed::bytesAcknowledged)
        .isInstanceOf(ClosedSocketException.class)
        .hasMessageContaining("getsockopt TCP_INFO");
  }

  // python3 on Linux: getsockopt(IPPROTO_TCP, TCP_INFO, 232) of an AF_UNIX stream socket or a UDP
  // socket raises OSError EOPNOTSUPP
  @Test
  void bytesAcknowledgedOfASocketThatIsNotTcpIsNotSupportedAsLinuxAnswers() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Pair unix = Loopback.pair(Family.AF_UNIX, dir);
        Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      for (Socket notTcp : new Socket[] {unix.client(), udp}) {
        assertThatThrownBy(notTcp::bytesAcknowledged)
            .isInstanceOfSatisfying(
                ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EOPNOTSUPP))
            .hasMessage("getsockopt TCP_INFO: operation not supported");
      }
    }
  }

  // python3 on Linux: getsockopt(IPPROTO_TCP, TCP_INFO, 232) of an AF_INET6 UDP socket raises
  // OSError ENOPROTOOPT (92), not EOPNOTSUPP as AF_INET's: ipv6_getsockopt answers any level but
  // its own so, where do_ip_getsockopt answers EOPNOTSUPP. jsock passes on the kernel's errno.
  @Test
  void bytesAcknowledgedOfAnIpv6UdpSocketIsProtocolNotAvailableAsLinuxAnswers() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    try (Socket udp = Socket.create(Family.AF_INET6, SocketKind.SOCK_DGRAM)) {
      assertThatThrownBy(udp::bytesAcknowledged)
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOPROTOOPT))
          .hasMessage("getsockopt TCP_INFO: protocol not available");
    }
  }

  // documented in README: without the FFM calls the kernel cannot be asked
  @Test
  void bytesAcknowledgedCannotBeAskedOnThePortablePath() throws Exception {
    assumeTrue(Boolean.getBoolean("jsock.selectorPoller"), "the portable path");
    try (Socket s = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      assertThatThrownBy(s::bytesAcknowledged)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("bytesAcknowledged");
    }
  }
}
