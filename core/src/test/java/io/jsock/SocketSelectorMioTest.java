package io.jsock;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Event.EVENT_WRITE;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.Running.PROMPTLY;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Scenarios of mio's test suite (tokio-rs/mio, tests/*.rs), each a behaviour of non-blocking
 * sockets and their readiness on Linux, played on jsock's {@link SocketSelector} and checked
 * against what python3's {@code selectors} does in the same scenario.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SocketSelectorMioTest {
  private static final Set<Event> READ = Set.of(EVENT_READ);
  private static final Set<Event> WRITE = Set.of(EVENT_WRITE);
  private static final Set<Event> BOTH = Set.of(EVENT_READ, EVENT_WRITE);

  @TempDir Path dir;

  private SocketSelector selector;

  @BeforeEach
  void openSelector() throws IOException {
    selector = SocketSelector.open();
  }

  @AfterEach
  void closeSelector() throws IOException {
    selector.close();
  }

  // mio tcp_stream.rs smoke test, regressions.rs issue_776
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aConnectReportedWritableIsUsableWithoutASecondConnect(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      SocketAddress address = listener.getSockName();
      client.setBlocking(false);
      assertThat(client.connectEx(address)).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, BOTH, null);

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));

      assertThatThrownBy(() -> client.recv(16)).isInstanceOf(WouldBlockException.class);
      assertThat(client.getPeerName()).isEqualTo(address);
      assertThat(client.send(bytes("Hello world!"))).isEqualTo(12);
      try (Socket conn = listener.accept().conn()) {
        assertThat(conn.recv(100)).isEqualTo(bytes("Hello world!"));
        conn.sendAll(bytes("echo"));
        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
        assertThat(client.recv(100)).isEqualTo(bytes("echo"));
      }
    }
  }

  // mio tcp_stream.rs smoke test: readable once the peer sends, before any other call
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aConnectReportedWritableBecomesReadableWhenThePeerSends(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      SocketAddress address = listener.getSockName();
      client.setBlocking(false);
      assertThat(client.connectEx(address)).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, BOTH, null);
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));

      try (Socket conn = listener.accept().conn()) {
        conn.sendAll(bytes("welcome"));

        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
        assertThat(client.recv(100)).isEqualTo(bytes("welcome"));
      }
    }
  }

  // mio tcp_stream.rs registering (READABLE only while connecting)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aSocketWatchedForReadingWhileItConnectsIsReadableWhenThePeerSends(Family family)
      throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      SocketAddress address = listener.getSockName();
      client.setBlocking(false);
      assertThat(client.connectEx(address)).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, READ, null);

      try (Socket conn = listener.accept().conn()) {
        assertThat(selector.select(Duration.ofMillis(100))).as("connected, nothing sent").isEmpty();
        conn.sendAll(bytes("welcome"));

        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
        assertThat(client.recv(100)).isEqualTo(bytes("welcome"));
      }
    }
  }

  // python3 selectors: the select that sees the connect complete reports the input already there
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void theSelectThatSeesAConnectCompleteReportsInputThatHasArrived(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      client.setBlocking(false);
      assertThat(client.connectEx(listener.getSockName())).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, BOTH, null);
      try (Socket conn = listener.accept().conn()) {
        conn.sendAll(bytes("welcome"));

        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
        assertThat(client.recv(100)).isEqualTo(bytes("welcome"));
        assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, WRITE));
      }
    }
  }

  // python3 selectors: one select(0) once the connect completed in the kernel and input arrived
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aReadOnlyRegistrationPolledOnceAfterTheConnectAndTheInputIsReadable(Family family)
      throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      client.setBlocking(false);
      assertThat(client.connectEx(listener.getSockName())).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, READ, null);
      try (Socket conn = listener.accept().conn()) {
        conn.sendAll(bytes("welcome"));
        conn.shutdown(Shutdown.SHUT_WR);

        assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, READ));
        assertThat(client.recv(100)).isEqualTo(bytes("welcome"));
        assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, READ));
        assertThat(client.recv(100)).isEmpty();
      }
    }
  }

  // mio tcp_stream.rs: a refused connect watched for reading only
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aRefusedConnectWatchedForReadingIsReadable(Family family) throws Exception {
    try (Loopback.Refusing refusing = Loopback.refusingAddress(family);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      client.setBlocking(false);
      assertThat(client.connectEx(refusing.address())).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, READ, null);

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThatThrownBy(() -> client.recv(100)).isInstanceOf(ConnectionRefusedException.class);
    }
  }

  // mio tcp_stream.rs shutdown_write
  @ParameterizedTest
  @EnumSource(Family.class)
  void afterShutdownForWritingSendIsABrokenPipeAndTheEchoStillArrives(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket client = pair.client();
      client.setBlocking(false);
      SelectorKey key = selector.register(client, BOTH, null);
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));
      assertThat(client.send(bytes("Hello world!"))).isEqualTo(12);
      client.shutdown(Shutdown.SHUT_WR);

      assertThatThrownBy(() -> client.send(bytes("Hello mars!")))
          .isInstanceOf(BrokenPipeException.class);

      assertThat(pair.server().recv(100)).isEqualTo(bytes("Hello world!"));
      pair.server().sendAll(bytes("Hello world!"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
      assertThat(client.recv(100)).isEqualTo(bytes("Hello world!"));
    }
  }

  // mio tcp_stream.rs shutdown_both
  @ParameterizedTest
  @EnumSource(Family.class)
  void afterShutdownOfBothRecvIsTheEndAndSendABrokenPipe(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket client = pair.client();
      client.setBlocking(false);
      SelectorKey key = selector.register(client, BOTH, null);
      client.send(bytes("Hello world!"));
      pair.server().sendAll(pair.server().recv(100));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));

      assertThat(client.recv(100)).isEqualTo(bytes("Hello world!"));

      client.shutdown(Shutdown.SHUT_RDWR);

      assertThat(client.recv(100)).isEmpty();
      assertThatThrownBy(() -> client.send(bytes("Hello mars!")))
          .isInstanceOf(BrokenPipeException.class);
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, BOTH));
    }
  }

  // mio tcp_stream.rs reregistering, registering
  @ParameterizedTest
  @EnumSource(Family.class)
  void modifyFromReadToWriteReportsWritable(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket client = pair.client();
      client.setBlocking(false);
      selector.register(client, READ, "first");
      assertThat(selector.select(Duration.ofMillis(50))).isEmpty();

      SelectorKey key = selector.modify(client, WRITE, "second");

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));
    }
  }

  // mio tcp_listener.rs, unix_listener.rs: several pending connections
  @ParameterizedTest
  @EnumSource(Family.class)
  void aListenerStaysReadableUntilEveryPendingConnectionIsAccepted(Family family) throws Exception {
    List<Socket> clients = new ArrayList<>();
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      listener.setBlocking(false);
      SelectorKey key = selector.register(listener, READ, null);
      assertThatThrownBy(listener::accept).isInstanceOf(WouldBlockException.class);
      for (int i = 0; i < 3; i++) {
        Socket client = Socket.create(family, SOCK_STREAM);
        clients.add(client);
        client.connect(listener.getSockName());
      }
      for (int i = 0; i < 3; i++) {
        assertThat(selector.select(PROMPTLY))
            .as("round %d", i)
            .containsExactly(new Ready(key, READ));
        try (Socket conn = listener.accept().conn()) {
          assertThat(conn.getBlocking()).isTrue();
        }
      }
      assertThatThrownBy(listener::accept).isInstanceOf(WouldBlockException.class);
      assertThat(selector.select(Duration.ZERO)).isEmpty();
    } finally {
      Loopback.closeAll(clients);
    }
  }

  // mio tcp_stream.rs / unix_stream.rs: zero-length reads and writes
  @ParameterizedTest
  @EnumSource(Family.class)
  void zeroLengthSendAndRecvOnANonBlockingStream(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket client = pair.client();
      client.setBlocking(false);
      assertThat(client.send(new byte[0])).isZero();
      assertThat(client.recv(0)).isEmpty();
      assertThatThrownBy(() -> client.recv(10)).isInstanceOf(WouldBlockException.class);
    }
  }

  // mio udp_socket.rs: connected UDP socket, readiness
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aConnectedUdpSocketIsWritableAndReadableWhenItsPeerSends(Family family) throws Exception {
    try (Socket a = Socket.create(family, SOCK_DGRAM);
        Socket b = Socket.create(family, SOCK_DGRAM);
        Socket c = Socket.create(family, SOCK_DGRAM)) {
      a.bind(Loopback.bindAddress(family, dir));
      b.bind(Loopback.bindAddress(family, dir));
      c.bind(Loopback.bindAddress(family, dir));
      a.setBlocking(false);
      a.connect(b.getSockName());
      SelectorKey key = selector.register(a, BOTH, null);
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));
      assertThatThrownBy(() -> a.recv(10)).isInstanceOf(WouldBlockException.class);

      assertThat(a.sendTo(bytes("to b"), b.getSockName())).isEqualTo(4);
      assertThat(b.recvFrom(10)).isEqualTo(new Datagram(bytes("to b"), a.getSockName()));

      c.sendTo(bytes("from c"), a.getSockName());
      b.sendTo(bytes("from b"), a.getSockName());
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
      assertThat(a.recvFrom(10)).isEqualTo(new Datagram(bytes("from b"), b.getSockName()));
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, WRITE));
    }
  }

  // mio udp_socket.rs: unconnected, send_to and recv_from, empty datagrams
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void anEmptyDatagramMakesAUdpSocketReadable(Family family) throws Exception {
    try (Socket a = Socket.create(family, SOCK_DGRAM);
        Socket b = Socket.create(family, SOCK_DGRAM)) {
      a.bind(Loopback.bindAddress(family, dir));
      b.bind(Loopback.bindAddress(family, dir));
      a.setBlocking(false);
      SelectorKey key = selector.register(a, READ, null);
      assertThat(selector.select(Duration.ZERO)).isEmpty();

      b.sendTo(new byte[0], a.getSockName());

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(a.recvFrom(10)).isEqualTo(new Datagram(new byte[0], b.getSockName()));
      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThatThrownBy(() -> a.recvFrom(10)).isInstanceOf(WouldBlockException.class);
    }
  }

  // mio close_on_drop.rs / tcp_stream.rs: the peer closes with data sent
  @ParameterizedTest
  @EnumSource(Family.class)
  void dataThenEndOfStreamAfterThePeerClosed(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket server = pair.server();
      server.setBlocking(false);
      SelectorKey key = selector.register(server, READ, null);
      pair.client().sendAll(bytes("last words"));
      pair.client().close();

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(server.recv(100)).isEqualTo(bytes("last words"));
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, READ));
      assertThat(server.recv(100)).isEmpty();
      assertThat(server.recv(100)).isEmpty();
    }
  }

  // mio tcp_stream.rs: the peer resets
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aResetPeerMakesTheSocketReadableAndWritableAndRecvRaisesReset(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket server = pair.server();
      server.setBlocking(false);
      SelectorKey key = selector.register(server, BOTH, null);
      pair.client().setSockOpt(java.net.StandardSocketOptions.SO_LINGER, 0);
      pair.client().close();

      List<Ready> ready = selector.select(PROMPTLY);
      assertThat(ready).containsExactly(new Ready(key, BOTH));
      assertThatThrownBy(() -> server.recv(100)).isInstanceOf(ConnectionResetException.class);
      assertThat(server.recv(100)).isEmpty();
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, BOTH));
    }
  }

  // mio unix_stream.rs: a socket pair
  @org.junit.jupiter.api.Test
  void aSocketPairIsWritableAndReadableOnceTheOtherEndSends() throws Exception {
    Socket[] pair = Sockets.socketPair();
    try (Socket a = pair[0];
        Socket b = pair[1]) {
      a.setBlocking(false);
      b.setBlocking(false);
      SelectorKey ka = selector.register(a, BOTH, "a");
      SelectorKey kb = selector.register(b, READ, "b");
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(ka, WRITE));
      a.send(bytes("hi"));
      assertThat(selector.select(PROMPTLY))
          .containsExactlyInAnyOrder(new Ready(ka, WRITE), new Ready(kb, READ));
      assertThat(b.recv(10)).isEqualTo(bytes("hi"));
      a.shutdown(Shutdown.SHUT_WR);
      assertThat(selector.select(PROMPTLY))
          .containsExactlyInAnyOrder(new Ready(ka, WRITE), new Ready(kb, READ));
      assertThat(b.recv(10)).isEmpty();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }
}
