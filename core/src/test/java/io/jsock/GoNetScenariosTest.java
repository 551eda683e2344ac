package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.Shutdown.SHUT_WR;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.Loopback.recvExactly;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scenarios from the tests of Go's {@code net} package ({@code src/net/*_test.go} of golang/go),
 * each a behaviour Go pins for its own sockets, translated to jsock with what CPython on Linux does
 * as the expected result (checked with python3 on loopback). Each test names the Go test it comes
 * from.
 */
@Timeout(60) // a safety net: a hung socket fails its test instead of the build
class GoNetScenariosTest {
  /** More than a loopback connection's buffers hold, so a peer that does not read stops it. */
  private static final int MORE_THAN_THE_BUFFERS_HOLD = 64 << 20;

  @TempDir Path dir;

  // tcpsock_test.go TestTCPSelfConnect: a TCP socket that connects to its own address meets
  // itself (TCP's simultaneous open). python3: connect succeeds, getpeername() == getsockname(),
  // and what it sends it receives
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_INET6"})
  void aTcpSocketConnectedToItsOwnAddressIsConnectedToItself(Family family) throws IOException {
    try (Socket socket = Socket.create(family, SOCK_STREAM)) {
      socket.bind(Loopback.bindAddress(family, null));

      socket.connect(socket.getSockName());

      assertThat(socket.getPeerName()).isEqualTo(socket.getSockName());
      socket.sendAll(bytes("to myself"));
      assertThat(recvExactly(socket, 9)).isEqualTo(bytes("to myself"));
    }
  }

  // net_test.go TestCloseWrite (tcp and unix): once each side has shut its writing side, each
  // receives the end of the stream and each send fails. python3: recv gives b'' on both sides,
  // send raises BrokenPipeError on both
  @ParameterizedTest
  @EnumSource(Family.class)
  void afterBothSidesShutWritingEachGetsTheEndOfTheStreamAndABrokenPipe(Family family)
      throws IOException {
    try (Pair pair = Loopback.pair(family, dir)) {
      pair.client().shutdown(SHUT_WR);
      assertThat(pair.server().recv(1)).isEmpty();
      pair.server().shutdown(SHUT_WR);

      assertThatThrownBy(() -> pair.server().send(bytes("x")))
          .isInstanceOf(BrokenPipeException.class);
      assertThatThrownBy(() -> pair.client().send(bytes("x")))
          .isInstanceOf(BrokenPipeException.class);
      assertThat(pair.client().recv(1)).isEmpty();
    }
  }

  // net_test.go TestCloseWrite, with the read already waiting (as its handler's goroutine reads
  // while the client shuts writing): shutting the writing side leaves a recv that another thread
  // is blocked in waiting, and it gets the peer's reply. python3: the blocked recv returns b'reply'
  @ParameterizedTest
  @EnumSource(Family.class)
  void shuttingWritingLeavesABlockedRecvToGetThePeersReply(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Running<byte[]> reply = Running.inVirtualThread(() -> pair.client().recv(100));
      reply.awaitBlocked();

      pair.client().shutdown(SHUT_WR);

      assertThat(pair.server().recv(1)).isEmpty();
      pair.server().sendAll(bytes("reply"));
      assertThat(reply.get()).isEqualTo(bytes("reply"));
    }
  }

  // net_test.go TestListenerClose (unix): a closed listener's accept fails, and its socket file
  // stays, refusing clients. python3: accept raises OSError(EBADF), the file exists, and a
  // connect to it raises ConnectionRefusedError
  @Test
  void aClosedAfUnixListenerLeavesItsFileWhichRefusesClients() throws IOException {
    var address = UnixDomainSocketAddress.of(dir.resolve("closed.sock"));
    Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
    listener.bind(address);
    listener.listen();

    listener.close();

    assertThatThrownBy(listener::accept).isInstanceOf(ClosedSocketException.class);
    assertThat(Files.exists(address.getPath())).isTrue();
    try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      ConnectionRefusedException e =
          catchThrowableOfType(ConnectionRefusedException.class, () -> client.connect(address));
      assertThat(e.errno()).isEqualTo(Errno.ECONNREFUSED);
    }
  }

  // net_test.go TestZeroByteRead (tcp and unix): a read of no bytes returns at once, with or
  // without bytes queued, and takes none of them. python3: recv(0) gives b'' and recv_into of an
  // empty buffer 0, and the queued bytes are still there
  @ParameterizedTest
  @EnumSource(Family.class)
  void readsOfNoBytesReturnAtOnceAndLeaveTheQueuedBytes(Family family) throws IOException {
    try (Pair pair = Loopback.pair(family, dir)) {
      assertThat(pair.server().recv(0)).isEmpty();
      assertThat(pair.server().recvInto(ByteBuffer.allocate(0))).isZero();

      pair.client().sendAll(bytes("kept"));
      assertThat(pair.server().recv(0)).isEmpty();
      assertThat(pair.server().recvInto(ByteBuffer.allocate(0))).isZero();

      assertThat(recvExactly(pair.server(), 4)).isEqualTo(bytes("kept"));
    }
  }

  // timeout_test.go TestWriteTimeout (a write whose deadline passes returns the count it wrote):
  // a send in timeout mode to a peer that does not read sends what the socket takes and says how
  // much. python3: settimeout(5); send(64 MiB) returns a count between 0 and 64 MiB at once,
  // without TimeoutError
  @ParameterizedTest
  @EnumSource(Family.class)
  void aSendInTimeoutModeToAPeerThatDoesNotReadReturnsWhatWent(Family family) throws IOException {
    try (Pair pair = Loopback.pair(family, dir)) {
      pair.client().setTimeout(Duration.ofSeconds(30));

      int sent = pair.client().send(new byte[MORE_THAN_THE_BUFFERS_HOLD]);

      assertThat(sent).isPositive().isLessThan(MORE_THAN_THE_BUFFERS_HOLD);
    }
  }

  // timeout_test.go TestWriteTimeout and TestVariousDeadlines (a timeout that fires while data is
  // partly written leaves the connection usable): after sendAll timed out part way, what the
  // socket had taken still arrives, and a later sendAll follows it. python3: sendall raises
  // TimeoutError; the peer then reads zeros and, last, b'end'
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_UNIX"})
  void aSendAllThatTimedOutPartWayLeavesTheStreamUsable(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      pair.client().setTimeout(Duration.ofMillis(200));
      assertThatThrownBy(() -> pair.client().sendAll(new byte[MORE_THAN_THE_BUFFERS_HOLD]))
          .isInstanceOf(SocketTimeoutException.class);

      Running<byte[]> received = Running.inVirtualThread(() -> recvToEnd(pair.server()));
      pair.client().setTimeout(null);
      pair.client().sendAll(bytes("end"));
      pair.client().shutdown(SHUT_WR);

      byte[] all = received.get();
      assertThat(all.length).isGreaterThan(3).isLessThan(MORE_THAN_THE_BUFFERS_HOLD + 3);
      byte[] zeros = new byte[all.length - 3];
      assertThat(ByteBuffer.wrap(all, 0, all.length - 3)).isEqualTo(ByteBuffer.wrap(zeros));
      assertThat(new String(all, all.length - 3, 3, UTF_8)).isEqualTo("end");
    }
  }

  // timeout_test.go TestAcceptTimeoutMustReturn turned round (Go's deadline in the past fails at
  // once; Python has no deadline, and its shortest timeout still looks once): with a timeout of
  // 1 ns, what is ready is taken. python3 with settimeout(1e-9): accept returns the queued client,
  // recv the arrived bytes, sendall of 100 bytes completes, recvfrom the queued datagram
  @Test
  void aTimeoutOfOneNanosecondStillTakesWhatIsReady() throws Exception {
    Duration oneNano = Duration.ofNanos(1);
    try (Socket listener = Sockets.createServer("127.0.0.1", 0);
        Socket client = Sockets.createConnection(listener.getSockName());
        Socket receiver = Socket.create(AF_INET, SOCK_DGRAM);
        Socket sender = Socket.create(AF_INET, SOCK_DGRAM)) {
      awaitReady(listener, Event.EVENT_READ);
      listener.setTimeout(oneNano);
      try (Socket server = listener.accept().conn()) {
        client.setTimeout(oneNano);
        client.sendAll(new byte[100]);
        awaitReady(server, Event.EVENT_READ);
        server.setTimeout(oneNano);
        assertThat(server.recv(1000)).hasSize(100);
      }

      receiver.bind("127.0.0.1", 0);
      sender.sendTo(bytes("datagram"), receiver.getSockName());
      awaitReady(receiver, Event.EVENT_READ);
      receiver.setTimeout(oneNano);
      assertThat(receiver.recvFrom(100).data()).isEqualTo(bytes("datagram"));
    }
  }

  // the same on a virtual thread, whose waits the poller's thread ends: a receive on a connection
  // accepted and not read yet waits at once (its wait registers the socket and the registration's
  // edge reports what has come), and that edge comes after a 1 ns deadline has passed. python3 in
  // a thread: recv returns the 100 bytes
  @Test
  void aTimeoutOfOneNanosecondStillTakesWhatIsReadyOnAVirtualThread() throws Exception {
    try (Socket listener = Sockets.createServer("127.0.0.1", 0)) {
      for (int round = 0; round < 20; round++) {
        try (Socket client = Sockets.createConnection(listener.getSockName());
            Socket server = listener.accept().conn()) {
          client.sendAll(new byte[100]);
          awaitReady(server, Event.EVENT_READ);
          server.setTimeout(Duration.ofNanos(1));
          List<Object> got = new ArrayList<>();
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      got.add(server.recv(1000).length);
                    } catch (IOException e) {
                      got.add(e.toString());
                    }
                  })
              .join();
          assertThat(got).as("round %d", round).containsExactly(100);
        }
      }
    }
  }

  // listen_test.go TestDualStackTCPListener and TestDualStackUDPListener (an IPv6-only socket has
  // no IPv4 side): an IPv6-only socket refuses IPv4-mapped addresses. python3 with IPV6_V6ONLY 1:
  // bind(('::ffff:127.0.0.1', 0)) raises OSError(EINVAL), connect and sendto to
  // ('::ffff:127.0.0.1', port) OSError(ENETUNREACH)
  @Test
  void anIpv6OnlySocketRefusesIpv4MappedAddresses() throws IOException {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "IPV6_V6ONLY is the epoll path's");
    try (Socket listener = Sockets.createServer("127.0.0.1", 0);
        Socket binder = Socket.create(AF_INET6, SOCK_STREAM);
        Socket connector = Socket.create(AF_INET6, SOCK_STREAM);
        Socket sender = Socket.create(AF_INET6, SOCK_DGRAM)) {
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      for (Socket socket : List.of(binder, connector, sender)) {
        socket.setSockOpt(Sockets.IPV6_V6ONLY, true);
      }

      assertThat(errnoOf(() -> binder.bind("::ffff:127.0.0.1", 0))).isEqualTo(Errno.EINVAL);
      assertThat(errnoOf(() -> connector.connect("::ffff:127.0.0.1", port)))
          .isEqualTo(Errno.ENETUNREACH);
      assertThat(errnoOf(() -> sender.sendTo(bytes("x"), "::ffff:127.0.0.1", port)))
          .isEqualTo(Errno.ENETUNREACH);
    }
  }

  // dial_test.go TestDialTimeoutFDLeak and TestDialerDualStackFDLeak: failed connects leave no
  // descriptor behind, whatever the mode. python3: 100 refused connect_ex calls on one socket, in
  // each mode, and 100 refused create_connection calls, leave /proc/self/fd as it was
  @ParameterizedTest
  @ValueSource(strings = {"blocking", "timeout", "non-blocking", "createConnection"})
  void refusedConnectsLeaveNoDescriptorBehind(String mode) throws Exception {
    try (Loopback.Refusing refusing = Loopback.refusingAddress(AF_INET);
        Socket socket = Socket.create(AF_INET, SOCK_STREAM)) {
      switch (mode) {
        case "timeout" -> socket.setTimeout(Duration.ofSeconds(10));
        case "non-blocking" -> socket.setBlocking(false);
        default -> {}
      }
      connectRefused(socket, refusing.address(), mode); // anything made once is made now
      long before = openDescriptors();

      for (int i = 0; i < 100; i++) {
        connectRefused(socket, refusing.address(), mode);
      }

      // a leak would be 100 descriptors; a few may come and go in the JVM meanwhile
      assertThat(openDescriptors()).isLessThan(before + 10);
    }
  }

  // tcpsock_test.go TestTCPSpuriousConnSetupCompletion: many connects in timeout mode at once to a
  // listener that closes each connection as it accepts it; each connect completes and then sees
  // the end of the stream. python3: 8 threads x 10 connects with settimeout(10), each recv(1) b''
  @Test
  void concurrentTimedConnectsToAListenerThatClosesEachOneSeeTheEndOfTheStream() throws Exception {
    int threads = 8;
    int connectsEach = 10;
    try (Socket listener = Sockets.createServer("127.0.0.1", 0);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1)) {
      SocketAddress address = listener.getSockName();
      Future<?> acceptor =
          pool.submit(
              () -> {
                for (int i = 0; i < threads * connectsEach; i++) {
                  listener.accept().conn().close();
                }
                return null;
              });
      List<Future<Integer>> clients = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        clients.add(
            pool.submit(
                () -> {
                  int ends = 0;
                  for (int i = 0; i < connectsEach; i++) {
                    try (Socket client = Socket.create(AF_INET, SOCK_STREAM)) {
                      client.setTimeout(Duration.ofSeconds(10));
                      client.connect(address);
                      assertThat(client.getPeerName()).isEqualTo(address);
                      if (client.recv(1).length == 0) {
                        ends++;
                      }
                    }
                  }
                  return ends;
                }));
      }

      acceptor.get();
      for (Future<Integer> client : clients) {
        assertThat(client.get()).isEqualTo(connectsEach);
      }
    }
  }

  private static void connectRefused(Socket socket, SocketAddress address, String mode)
      throws Exception {
    if (mode.equals("createConnection")) {
      assertThatThrownBy(() -> Sockets.createConnection(address).close())
          .isInstanceOf(ConnectionRefusedException.class);
      return;
    }
    // non-blocking: EINPROGRESS, then (once the kernel has the answer) ECONNREFUSED; timeout mode:
    // ECONNREFUSED and ECONNABORTED in turn, as Python's connect_ex (see README)
    for (int attempt = 0; attempt < 3; attempt++) {
      int errno = socket.connectEx(address);
      if (errno == Errno.ECONNREFUSED) {
        return;
      }
      assertThat(errno).isIn(Errno.EINPROGRESS, Errno.ECONNABORTED);
      if (errno == Errno.EINPROGRESS) {
        awaitReady(socket, Event.EVENT_WRITE); // a failed connect is reported writable
      }
    }
    throw new AssertionError("no ECONNREFUSED in 3 attempts");
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  private static int errnoOf(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(SocketError.class);
    return ((SocketError) thrown).errno();
  }

  /** Waits until {@code socket} is ready for {@code event}, so a call only needs to look once. */
  private static void awaitReady(Socket socket, Event event) throws IOException {
    try (SocketSelector selector = SocketSelector.open()) {
      selector.register(socket, Set.of(event), null);
      assertThat(selector.select(Duration.ofSeconds(10))).as("ready for %s", event).hasSize(1);
    }
  }

  private static byte[] recvToEnd(Socket socket) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int calls = 0; calls < 100_000; calls++) {
      byte[] chunk = socket.recv(1 << 20);
      if (chunk.length == 0) {
        return all.toByteArray();
      }
      all.writeBytes(chunk);
    }
    throw new AssertionError("no end of stream after 100000 receives");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }
}
