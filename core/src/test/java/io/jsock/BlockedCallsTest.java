package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.jsock.testing.AddressText;
import io.jsock.testing.Loopback;
import io.jsock.testing.Running;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A thread blocked in a socket call while another thread acts on the socket (or the peer acts): the
 * pairs that the socket, selector and regression tests leave out, each with what python3 does on
 * Linux loopback (threads, blocking mode and {@code settimeout(5)} alike) as the expected outcome.
 * The whole matrix, with the pairs covered elsewhere and the differences README explains, is in the
 * commit that added this class. Where Python's call stays blocked, the test shows that jsock's does
 * too by ending it with a second action whose outcome only a call still waiting gets.
 */
@Timeout(60) // a safety net: a hung socket fails its test instead of the build
class BlockedCallsTest {
  /** A timeout long enough never to pass in a test: the timed wait without a timeout firing. */
  private static final Duration LONG = Duration.ofSeconds(60);

  private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

  private static final boolean PORTABLE = Boolean.getBoolean("jsock.selectorPoller");

  @TempDir Path dir;

  // python3, an AF_UNIX socket whose send buffer is full, in timeout mode: send raises
  // TimeoutError once the timeout has passed, though its peer read 100 bytes meanwhile, which
  // made room for a send (4032 bytes) but not enough for Linux to call the socket writable (a
  // quarter of the buffer free; a TCP socket needs a third, and gets such room when its peer's
  // kernel acknowledges). jsock's send wrote once more after its wait had ended at the deadline,
  // and returned 4032 after the whole timeout.
  @ParameterizedTest(name = "{0} thread")
  @MethodSource("waiters")
  void aSendInTimeoutModeThrowsTheTimeoutThoughAFewBytesFitOnceItHasPassed(Waiter waiter)
      throws Exception {
    try (Scene scene = Scene.fullSendBuffer(AF_UNIX, dir, 100)) {
      Socket socket = scene.socket();
      socket.setTimeout(Duration.ofSeconds(1));
      Running<Integer> sender = waiter.start(() -> socket.send(new byte[1 << 16]));
      sender.awaitBlocked();

      assertThat(scene.peer().recv(100)).hasSize(100);

      assertThat(catchThrowableOfType(SocketTimeoutException.class, sender::get))
          .hasMessage("send to " + AddressText.text(socket.getPeerName()) + ": timed out");
      socket.setBlocking(false);
      assertThat(socket.send(new byte[1 << 16])).as("room that no readiness showed").isPositive();
    }
  }

  static Stream<Arguments> waiters() {
    return Stream.of(Waiter.values()).map(Arguments::arguments);
  }

  /** One pair: the call that blocks, what happens meanwhile, and what the call gives. */
  record Case(
      String call,
      String meanwhile,
      Kind kind,
      Call x,
      Action y,
      Action then,
      String expected,
      String expectedInTimeoutMode) {
    Case(String call, String meanwhile, Kind kind, Call x, Action y, Action then, String expected) {
      this(call, meanwhile, kind, x, y, then, expected, expected);
    }

    Case(String call, String meanwhile, Kind kind, Call x, Action y, String expected) {
      this(call, meanwhile, kind, x, y, null, expected, expected);
    }

    /** This case, with another outcome in timeout mode than in blocking mode. */
    Case inTimeoutMode(String outcome) {
      return new Case(call, meanwhile, kind, x, y, then, expected, outcome);
    }

    @Override
    public String toString() {
      return call + " while " + meanwhile;
    }
  }

  static List<Case> cases() {
    Call recvInto =
        s -> {
          ByteBuffer buffer = ByteBuffer.allocate(10);
          int n = s.socket().recvInto(buffer);
          return n + " " + show(Arrays.copyOf(buffer.array(), buffer.position()));
        };
    Call recvFrom = s -> show(s.socket().recvFrom(10), s.peerAddress());
    Call recv = s -> show(s.socket().recv(10));
    Call send = s -> s.socket().send(new byte[1 << 20]);
    Call sendAll =
        s -> {
          s.socket().sendAll(new byte[1 << 20]);
          return "sent";
        };
    Call accept =
        s -> {
          Accepted accepted = s.socket().accept();
          accepted.conn().close();
          return accepted.address().equals(s.peerAddress()) ? "the client" : accepted.address();
        };
    Call select = s -> s.selector().select(null).stream().map(Ready::events).toList();

    Action shutRd = s -> s.socket().shutdown(Shutdown.SHUT_RD);
    Action shutWr = s -> s.socket().shutdown(Shutdown.SHUT_WR);
    Action shutRdWr = s -> s.socket().shutdown(Shutdown.SHUT_RDWR);
    Action close = s -> s.socket().close();
    Action shortTimeout = s -> s.socket().setTimeout(Duration.ofMillis(100));
    Action peerCloses = s -> s.peer().close();
    Action peerResets =
        s -> {
          s.peer().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
          s.peer().close();
        };
    Action peerSends = s -> s.peer().send(HELLO);
    Action peerConnects = s -> s.peer().connect(s.socket().getSockName());
    Action wakeup = s -> s.selector().wakeup();
    Action interrupt = s -> s.thread().interrupt();

    String reset = "ConnectionResetException ECONNRESET";
    String brokenPipe = "BrokenPipeException EPIPE";
    String closed = "ClosedSocketException EBADF";
    String interrupted = "InterruptedIOException";
    return List.of(
        // python3: recv_into returns 0 at the end of the stream, 5 with the bytes
        new Case("recvInto", "shutdown(SHUT_RD)", Kind.TCP, recvInto, shutRd, "0 b''"),
        new Case("recvInto", "shutdown(SHUT_RDWR)", Kind.TCP, recvInto, shutRdWr, "0 b''"),
        new Case("recvInto", "peer's close", Kind.TCP, recvInto, peerCloses, "0 b''"),
        new Case("recvInto", "peer's reset", Kind.TCP, recvInto, peerResets, reset),
        new Case("recvInto", "peer's send", Kind.TCP, recvInto, peerSends, "5 b'hello'"),
        new Case("recvInto", "close()", Kind.TCP, recvInto, close, closed),
        // python3 gives (b'', None): jsock names the peer (README: a Datagram has an address)
        new Case("recvFrom", "shutdown(SHUT_RD)", Kind.TCP, recvFrom, shutRd, "b'' from peer"),
        new Case("recvFrom", "shutdown(SHUT_RDWR)", Kind.TCP, recvFrom, shutRdWr, "b'' from peer"),
        new Case("recvFrom", "peer's close", Kind.TCP, recvFrom, peerCloses, "b'' from peer"),
        new Case("recvFrom", "peer's reset", Kind.TCP, recvFrom, peerResets, reset),
        new Case("recvFrom", "peer's send", Kind.TCP, recvFrom, peerSends, "b'hello' from peer"),
        new Case("recv", "shutdown(SHUT_RDWR)", Kind.TCP, recv, shutRdWr, "b''"),
        new Case("recv", "peer's close", Kind.TCP, recv, peerCloses, "b''"),
        new Case("recv", "peer's reset", Kind.TCP, recv, peerResets, reset),
        // python3: settimeout from another thread leaves the call waiting as it began
        new Case("recv", "settimeout(0.1)", Kind.TCP, recv, shortTimeout, peerSends, "b'hello'"),
        // python3: an AF_UNIX peer's close with or without SO_LINGER 0 is the end of the stream
        new Case("AF_UNIX recv", "peer's reset", Kind.UNIX, recv, peerResets, "b''"),
        new Case("AF_UNIX recv", "shutdown(SHUT_RDWR)", Kind.UNIX, recv, shutRdWr, "b''"),
        new Case(
            "UDP recvFrom", "peer's send", Kind.UDP, recvFrom, peerSends, "b'hello' from peer"),
        // python3's recvfrom stays blocked (the close is deferred); jsock's close wakes it (README)
        new Case("UDP recvFrom", "close()", Kind.UDP, recvFrom, close, closed),
        new Case(
            "UDP recvFrom",
            "peer's close",
            Kind.UDP,
            recvFrom,
            peerCloses,
            peerSendsAfresh(),
            "b'hello' from peer"),
        new Case("UDP recvFrom", "an interrupt", Kind.UDP, recvFrom, interrupt, interrupted),
        // python3: a send waiting for room stays blocked after SHUT_RD, settimeout or the peer's
        // bytes, and a reset then ends it with ConnectionResetError; SHUT_RDWR ends it with EPIPE,
        // the peer's close with bytes unread (a reset) with ECONNRESET
        new Case("send", "shutdown(SHUT_RD)", Kind.TCP_FULL, send, shutRd, peerResets, reset),
        new Case("send", "shutdown(SHUT_RDWR)", Kind.TCP_FULL, send, shutRdWr, brokenPipe),
        new Case("send", "peer's close", Kind.TCP_FULL, send, peerCloses, reset),
        new Case("send", "peer's send", Kind.TCP_FULL, send, peerSends, peerResets, reset),
        new Case("send", "close()", Kind.TCP_FULL, send, close, closed),
        new Case("sendAll", "shutdown(SHUT_RD)", Kind.TCP_FULL, sendAll, shutRd, peerResets, reset),
        new Case("sendAll", "shutdown(SHUT_RDWR)", Kind.TCP_FULL, sendAll, shutRdWr, brokenPipe),
        new Case("sendAll", "peer's close", Kind.TCP_FULL, sendAll, peerCloses, reset),
        new Case("sendAll", "peer's send", Kind.TCP_FULL, sendAll, peerSends, peerResets, reset),
        new Case(
            "sendAll", "settimeout(0.1)", Kind.TCP_FULL, sendAll, shortTimeout, peerResets, reset),
        new Case("sendAll", "close()", Kind.TCP_FULL, sendAll, close, closed),
        new Case("sendAll", "an interrupt", Kind.TCP_FULL, sendAll, interrupt, interrupted),
        // python3 in timeout mode: TimeoutError after the timeout, its poll-first send never sees
        // the shut output of an AF_UNIX socket (Linux's blocking send: EPIPE, as jsock in both)
        new Case("AF_UNIX send", "shutdown(SHUT_WR)", Kind.UNIX_FULL, send, shutWr, brokenPipe),
        new Case("AF_UNIX send", "shutdown(SHUT_RDWR)", Kind.UNIX_FULL, send, shutRdWr, brokenPipe),
        // python3: a reset ends a blocking send with ECONNRESET (the kernel's send takes it as it
        // wakes) and a timeout-mode one with EPIPE (its poll sees the hang-up, its send the shut
        // output); jsock's portable path cannot take the reset (README)
        new Case(
                "AF_UNIX send",
                "shutdown(SHUT_RD)",
                Kind.UNIX_FULL,
                send,
                shutRd,
                peerResets,
                PORTABLE ? brokenPipe : reset)
            .inTimeoutMode(brokenPipe),
        new Case("AF_UNIX send", "close()", Kind.UNIX_FULL, send, close, closed),
        // python3: accept stays blocked after SHUT_WR and settimeout; SHUT_RDWR stops the
        // listener listening (EINVAL; the portable path: README)
        new Case(
            "accept",
            "shutdown(SHUT_WR)",
            Kind.LISTENER,
            accept,
            shutWr,
            peerConnects,
            "the client"),
        new Case(
            "accept",
            "shutdown(SHUT_RDWR)",
            Kind.LISTENER,
            accept,
            shutRdWr,
            "ErrnoException EINVAL"),
        new Case(
            "accept",
            "settimeout(0.1)",
            Kind.LISTENER,
            accept,
            shortTimeout,
            peerConnects,
            "the client"),
        new Case("accept", "close()", Kind.LISTENER, accept, close, closed),
        new Case("accept", "an interrupt", Kind.LISTENER, accept, interrupt, interrupted),
        // python3's DefaultSelector: the socket is ready to read after SHUT_RD, SHUT_RDWR and the
        // peer's close or reset; a select stays blocked after SHUT_WR and after the socket's close
        // (ended here by the wakeup, with nothing ready, as after Python's unregister)
        new Case("select", "shutdown(SHUT_RD)", Kind.SELECTED, select, shutRd, "[[EVENT_READ]]"),
        new Case(
            "select", "shutdown(SHUT_RDWR)", Kind.SELECTED, select, shutRdWr, "[[EVENT_READ]]"),
        new Case("select", "peer's close", Kind.SELECTED, select, peerCloses, "[[EVENT_READ]]"),
        new Case("select", "peer's reset", Kind.SELECTED, select, peerResets, "[[EVENT_READ]]"),
        new Case("select", "shutdown(SHUT_WR)", Kind.SELECTED, select, shutWr, wakeup, "[]"),
        new Case("select", "close()", Kind.SELECTED, select, close, wakeup, "[]"));
  }

  /** A UDP peer closed, then a fresh socket at its address sends. */
  private static Action peerSendsAfresh() {
    return s -> {
      try (Socket again = Socket.create(AF_INET, SOCK_DGRAM)) {
        again.bind(s.peerAddress());
        again.sendTo(HELLO, s.socket().getSockName());
      }
    };
  }

  static Stream<Arguments> casesModesAndThreads() {
    return cases().stream()
        .flatMap(
            c ->
                Stream.of(Waiter.values())
                    .flatMap(
                        waiter ->
                            Stream.of("blocking", "timeout")
                                .map(mode -> arguments(c, waiter, mode))));
  }

  @ParameterizedTest(name = "{0}, {1} thread, {2} mode")
  @MethodSource("casesModesAndThreads")
  void aBlockedCallEndsAsPythonsDoes(Case c, Waiter waiter, String mode) throws Exception {
    if (c.kind() == Kind.LISTENER && c.meanwhile().startsWith("shutdown")) {
      assumeFalse(PORTABLE, "the portable path refuses to shut a listener down (README)");
    }
    try (Scene scene = c.kind().make(dir)) {
      scene.socket().setTimeout(mode.equals("blocking") ? null : LONG);
      Running<Object> calling = waiter.start(() -> c.x().on(scene));
      scene.waiting(calling);
      calling.awaitBlocked();

      c.y().on(scene);
      if (c.then() != null) {
        c.then().on(scene);
      }

      assertThat(outcome(calling))
          .isEqualTo(mode.equals("blocking") ? c.expected() : c.expectedInTimeoutMode());
    }
  }

  private static String outcome(Running<Object> calling) throws Exception {
    try {
      return String.valueOf(calling.get());
    } catch (IOException e) {
      return e instanceof SocketError error && error.errno() != 0
          ? e.getClass().getSimpleName() + " " + ERRNO_NAMES.get(error.errno())
          : e.getClass().getSimpleName();
    }
  }

  private static final Map<Integer, String> ERRNO_NAMES =
      Map.of(
          Errno.EBADF, "EBADF",
          Errno.EINVAL, "EINVAL",
          Errno.EPIPE, "EPIPE",
          Errno.ECONNRESET, "ECONNRESET",
          Errno.ENOTCONN, "ENOTCONN");

  private static String show(byte[] data) {
    return "b'" + new String(data, StandardCharsets.US_ASCII) + "'";
  }

  private static String show(Datagram datagram, SocketAddress peer) {
    SocketAddress from = datagram.address();
    return show(datagram.data()) + " from " + (from.equals(peer) ? "peer" : from);
  }

  /** The call that blocks. */
  interface Call {
    Object on(Scene scene) throws Exception;
  }

  /** What another thread, or the peer, does meanwhile. */
  interface Action {
    void on(Scene scene) throws Exception;
  }

  /** The sockets a case needs. */
  enum Kind {
    TCP,
    UNIX,
    UDP,
    TCP_FULL,
    UNIX_FULL,
    LISTENER,
    SELECTED;

    Scene make(Path dir) throws IOException {
      return switch (this) {
        case TCP -> Scene.pair(AF_INET, dir);
        case UNIX -> Scene.pair(AF_UNIX, dir);
        case UDP -> Scene.udp();
        case TCP_FULL -> Scene.fullSendBuffer(AF_INET, dir);
        case UNIX_FULL -> Scene.fullSendBuffer(AF_UNIX, dir);
        case LISTENER -> Scene.listener();
        case SELECTED -> Scene.selected(dir);
      };
    }
  }

  /**
   * The socket the call blocks on, its peer (for a listener, a client not yet connected), a
   * selector for select, and the thread that calls.
   */
  static final class Scene implements AutoCloseable {
    private final Socket socket;
    private final Socket peer;
    private final SocketAddress peerAddress;
    private final SocketSelector selector;
    private Running<Object> calling;

    private Scene(Socket socket, Socket peer, SocketSelector selector) throws IOException {
      this.socket = socket;
      this.peer = peer;
      this.peerAddress = peer.getSockName();
      this.selector = selector;
    }

    static Scene pair(Family family, Path dir) throws IOException {
      Loopback.Pair pair = Loopback.pair(family, dir);
      return new Scene(pair.client(), pair.server(), null);
    }

    /** A connected pair whose client's send buffer is full: its peer reads nothing. */
    static Scene fullSendBuffer(Family family, Path dir) throws IOException {
      return fullSendBuffer(family, dir, 1 << 16);
    }

    /**
     * A connected pair whose client's send buffer is full, filled by sends of {@code chunk} bytes:
     * its peer reads nothing. The peer's receive buffer shrinks once connected, as python3's runs
     * did it: shrunk on the listener, the window it starts with gives a TCP sender a few bytes of
     * room a moment after the buffer filled, so that a send may not wait.
     */
    static Scene fullSendBuffer(Family family, Path dir, int chunk) throws IOException {
      Scene scene;
      try (Socket listener = Socket.create(family, SOCK_STREAM)) {
        listener.bind(Loopback.bindAddress(family, dir));
        listener.listen(1);
        Socket client = Socket.create(family, SOCK_STREAM);
        try {
          client.setSockOpt(StandardSocketOptions.SO_SNDBUF, 4096);
          client.connect(listener.getSockName());
          scene = new Scene(client, listener.accept().conn(), null);
          scene.peer().setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
        } catch (IOException | RuntimeException e) {
          client.close();
          throw e;
        }
      }
      try {
        fill(scene.socket(), chunk);
        return scene;
      } catch (IOException | RuntimeException e) {
        scene.close();
        throw e;
      }
    }

    private static void fill(Socket socket, int chunk) throws IOException {
      socket.setBlocking(false);
      try {
        for (int i = 0; i < 100_000; i++) { // bounded: far more rounds than such buffers take
          socket.send(new byte[chunk]);
        }
      } catch (WouldBlockException full) {
        return;
      }
      throw new IllegalStateException("the send buffer never filled");
    }

    static Scene udp() throws IOException {
      Socket socket = Socket.create(AF_INET, SOCK_DGRAM);
      Socket peer = Socket.create(AF_INET, SOCK_DGRAM);
      socket.bind(new InetSocketAddress(Loopback.ip(AF_INET), 0));
      peer.bind(new InetSocketAddress(Loopback.ip(AF_INET), 0));
      socket.connect(peer.getSockName());
      peer.connect(socket.getSockName());
      return new Scene(socket, peer, null);
    }

    static Scene listener() throws IOException {
      Socket listener = Socket.create(AF_INET, SOCK_STREAM);
      listener.bind(new InetSocketAddress(Loopback.ip(AF_INET), 0));
      listener.listen(1);
      Socket client = Socket.create(AF_INET, SOCK_STREAM);
      client.bind(new InetSocketAddress(Loopback.ip(AF_INET), 0)); // named before it connects
      return new Scene(listener, client, null);
    }

    /** A connected pair whose client is registered for reading with a new selector. */
    static Scene selected(Path dir) throws IOException {
      Loopback.Pair pair = Loopback.pair(AF_INET, dir);
      SocketSelector selector = SocketSelector.open();
      pair.client().setBlocking(false);
      selector.register(pair.client(), Set.of(Event.EVENT_READ), null);
      return new Scene(pair.client(), pair.server(), selector);
    }

    Socket socket() {
      return socket;
    }

    Socket peer() {
      return peer;
    }

    SocketAddress peerAddress() {
      return peerAddress;
    }

    SocketSelector selector() {
      return selector;
    }

    void waiting(Running<Object> call) {
      this.calling = call;
    }

    Thread thread() {
      return calling.thread();
    }

    @Override
    public void close() throws IOException {
      try (socket;
          peer;
          SocketSelector s = selector) {
        // all closed, even if one fails
      }
    }
  }

  /** The kind of thread that blocks: a virtual one parks, a platform one waits in the kernel. */
  enum Waiter {
    VIRTUAL,
    PLATFORM;

    <T> Running<T> start(java.util.concurrent.Callable<T> task) {
      return this == VIRTUAL ? Running.inVirtualThread(task) : Running.inPlatformThread(task);
    }
  }
}
