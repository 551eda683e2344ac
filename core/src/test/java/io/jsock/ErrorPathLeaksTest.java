package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.jsock.framing.FrameException;
import io.jsock.framing.Framing;
import io.jsock.server.Server;
import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.server.UdpServer;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.TestPki;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import io.jsock.tls.TlsException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every error path of the library, run many times, leaves the process's descriptors and jsock's
 * threads as they were: the README's promise that each bad input gets a clear exception "and
 * nothing is lost or leaked".
 *
 * <p>Each row of {@link #errorPaths()} sets up what its rounds need (a listener with a full
 * backlog, a port in use), runs one round to warm up (the JVM opens some descriptors and jsock
 * starts its poller and timer threads on first use), takes the baseline, runs its rounds, and then
 * waits until {@code /proc/self/fd} and the platform threads whose names start with {@code jsock}
 * are back to the baseline. Each round asserts the exception the path throws, so a row that stopped
 * failing would say so. Virtual threads are not counted: {@link Thread#getAllStackTraces()} omits
 * them.
 */
class ErrorPathLeaksTest {
  /** Rounds of a cheap path; waits for a timeout and TLS handshakes get fewer. */
  private static final int ROUNDS = 300;

  private static final int TLS_ROUNDS = 60;

  private static final int WAIT_ROUNDS = 100;

  /**
   * A row runs at least this many rounds, and more only until {@link #ROW_BUDGET} has passed: a
   * round that leaks leaves its descriptor or thread behind, and any one left fails the row.
   */
  private static final int MIN_ROUNDS = 20;

  /** 150 ms made the rows that reach it most of the test's 11-25 s a path, for 70 rows on each. */
  private static final Duration ROW_BUDGET = Duration.ofMillis(50);

  /** How long the descriptors and threads of the rounds may take to go after the last round. */
  private static final Duration SETTLE = Duration.ofSeconds(10);

  /** Short enough that a round that waits for a timeout is quick; any positive value would do. */
  private static final Duration BRIEFLY = Duration.ofMillis(1);

  /** Long enough that nothing in a round times out unless the round means it to. */
  private static final Duration PATIENTLY = Duration.ofSeconds(10);

  /**
   * Not an address of this host: in 198.18.0.0/15, which tests may use, and never one NetnsHost
   * gives this namespace (it takes the first address of a /29, and this is the seventh). Only bound
   * to, never sent to.
   */
  private static final String NOT_LOCAL_IPV4 = "198.19.255.254";

  private static final String NOT_LOCAL_IPV6 = "::2";

  @TempDir static Path dir;

  private static ExecutorService peers;
  private static TestPki.Issued ca;
  private static TlsContext server;
  private static TlsContext client;
  private static TlsContext untrusting;

  @BeforeAll
  static void setUp() throws Exception {
    // one peer thread for every row: each platform thread that waits keeps an eventfd for good
    // (internal.Wakeup), which a second peer thread made by a later round would count as a leak
    peers = Executors.newSingleThreadExecutor();
    ca = TestPki.ca("jsock leak test CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost", "127.0.0.1", "::1").write(dir.resolve("pki"));
    server = Tls.server(key);
    client = Tls.client().withTrustedCertificates(List.of(ca.certificate()));
    untrusting =
        Tls.client().withTrustedCertificates(List.of(TestPki.ca("another CA").certificate()));
    // jsock's threads of the JVM (pollers, the timer) start at their first use: start them now,
    // or a row whose warm-up round did not happen to wait would count them as left running
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.client().setTimeout(BRIEFLY);
      assertThatThrownBy(() -> pair.client().recv(1)).isInstanceOf(SocketTimeoutException.class);
    }
  }

  @AfterAll
  static void tearDown() {
    peers.shutdownNow();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("errorPaths")
  void leavesNoDescriptorOrThreadBehind(ErrorPath path) throws Exception {
    try (Fixture fixture = path.setUp().open()) {
      fixture.round(); // the warm-up: whatever is made once is made now
      Map<String, Long> descriptors = openDescriptors();
      Map<String, Long> threads = jsockThreads();

      int rounds = 1;
      long budgetEnd = System.nanoTime() + ROW_BUDGET.toNanos();
      while (rounds < path.rounds() && (rounds < MIN_ROUNDS || System.nanoTime() < budgetEnd)) {
        fixture.round();
        rounds++;
      }

      int done = rounds;
      await()
          .atMost(SETTLE)
          .pollDelay(Duration.ZERO) // most rows are back to their baseline at once
          .pollInterval(Duration.ofMillis(10))
          .untilAsserted(
              () -> {
                assertThat(added(descriptors, openDescriptors()))
                    .as("descriptors left open by %d rounds", done)
                    .isEmpty();
                assertThat(added(threads, jsockThreads()))
                    .as("jsock threads left running by %d rounds", done)
                    .isEmpty();
              });
    }
  }

  // ------------------------------------------------------------------ the table

  static Stream<Named<ErrorPath>> errorPaths() {
    List<ErrorPath> paths = new ArrayList<>();
    for (Family family : Family.values()) {
      boolean ip = family != AF_UNIX;
      paths.add(
          row("connect refused, blocking", family, ROUNDS, f -> connectRefused(f, "blocking")));
      paths.add(
          row("connect refused, timeout mode", family, ROUNDS, f -> connectRefused(f, "timeout")));
      paths.add(
          row(
              "connect refused, non-blocking",
              family,
              ROUNDS,
              f -> connectRefused(f, "non-blocking")));
      paths.add(
          row(
              "connect to a full backlog",
              family,
              WAIT_ROUNDS,
              ErrorPathLeaksTest::connectTimedOut));
      paths.add(row("bind EADDRINUSE", family, ROUNDS, ErrorPathLeaksTest::bindInUse));
      paths.add(
          row(
              ip ? "bind EADDRNOTAVAIL" : "bind ENOENT",
              family,
              ROUNDS,
              ErrorPathLeaksTest::bindNotLocal));
      paths.add(
          row(
              "listener closed with pending connections",
              family,
              ROUNDS,
              ErrorPathLeaksTest::listenerClosedWithPending));
      paths.add(row("accept timed out", family, WAIT_ROUNDS, ErrorPathLeaksTest::acceptTimedOut));
      paths.add(
          row(
              "recv and send after the peer's reset",
              family,
              ROUNDS,
              ErrorPathLeaksTest::afterReset));
      paths.add(row("sendAll timed out", family, WAIT_ROUNDS, ErrorPathLeaksTest::sendAllTimedOut));
      paths.add(
          row(
              "createServer address in use",
              family,
              ROUNDS,
              ErrorPathLeaksTest::createServerInUse));
      paths.add(
          row(
              "SocketSelector register and close churn",
              family,
              ROUNDS,
              ErrorPathLeaksTest::selectorChurn));
      paths.add(
          row(
              "makeFile views closed in every order",
              family,
              ROUNDS,
              ErrorPathLeaksTest::makeFileCloseOrders));
      paths.add(
          row(
              "framed reader on truncated input",
              family,
              ROUNDS,
              ErrorPathLeaksTest::framedTruncated));
      paths.add(
          row(
              "TLS untrusted certificate, both sides",
              family,
              TLS_ROUNDS,
              f -> tlsRefused(f, untrusting, "localhost")));
      paths.add(
          row(
              "TLS wrong host name, both sides",
              family,
              TLS_ROUNDS,
              f -> tlsRefused(f, client, "wrong.example")));
      paths.add(
          row(
              "TLS server handshake on plain text",
              family,
              TLS_ROUNDS,
              ErrorPathLeaksTest::tlsServerGetsPlainText));
      paths.add(
          row("TLS handshake timed out, client", family, WAIT_ROUNDS, f -> tlsTimedOut(f, true)));
      paths.add(
          row("TLS handshake timed out, server", family, WAIT_ROUNDS, f -> tlsTimedOut(f, false)));
      paths.add(
          row("TcpServer.start address in use", family, ROUNDS, f -> serverInUse(f, SOCK_STREAM)));
      if (ip) {
        paths.add(
            row("UdpServer.start address in use", family, ROUNDS, f -> serverInUse(f, SOCK_DGRAM)));
        paths.add(
            row(
                "createConnection source address in use",
                family,
                ROUNDS,
                ErrorPathLeaksTest::createConnectionSourceInUse));
        paths.add(
            row(
                "createConnection refused",
                family,
                ROUNDS,
                ErrorPathLeaksTest::createConnectionRefused));
        paths.add(
            row(
                "UDP send to a closed port, recv refused",
                family,
                ROUNDS,
                ErrorPathLeaksTest::udpRefused));
      }
    }
    paths.add(
        row(
            "createConnection malformed literal",
            AF_INET,
            ROUNDS,
            f -> createConnectionMalformed()));
    paths.add(row("socketPair closed", AF_UNIX, ROUNDS, f -> socketPairClosed()));
    return paths.stream().map(path -> Named.of(path.name(), path));
  }

  private static ErrorPath row(String what, Family family, int rounds, FixtureFactory fixture) {
    return new ErrorPath(what + " (" + family + ")", rounds, () -> fixture.open(family));
  }

  // ------------------------------------------------------------------ the paths

  private static Fixture connectRefused(Family family, String mode) throws IOException {
    Refusing refusing = Refusing.of(family);
    return new Fixture() {
      @Override
      public void round() throws Exception {
        try (Socket socket = Socket.create(family, SOCK_STREAM)) {
          switch (mode) {
            case "blocking" ->
                assertThatThrownBy(() -> socket.connect(refusing.address()))
                    .isInstanceOf(ConnectionRefusedException.class);
            case "timeout" -> {
              socket.setTimeout(PATIENTLY);
              assertThatThrownBy(() -> socket.connect(refusing.address()))
                  .isInstanceOf(ConnectionRefusedException.class);
            }
            default -> {
              socket.setBlocking(false);
              assertThat(connectExUntilDone(socket, refusing.address()))
                  .isEqualTo(Errno.ECONNREFUSED);
            }
          }
        }
      }

      @Override
      public void close() throws IOException {
        refusing.close();
      }
    };
  }

  /**
   * The errno a non-blocking connect ends with: EINPROGRESS first (TCP), then, once the socket is
   * writable, the outcome Linux kept for the next connect.
   */
  private static int connectExUntilDone(Socket socket, SocketAddress address) throws IOException {
    for (int attempt = 0; attempt < 3; attempt++) {
      int errno = socket.connectEx(address);
      if (errno != Errno.EINPROGRESS && errno != Errno.EALREADY) {
        return errno;
      }
      try (SocketSelector selector = SocketSelector.open()) {
        selector.register(socket, Set.of(Event.EVENT_WRITE), null);
        assertThat(selector.select(PATIENTLY)).hasSize(1);
      }
    }
    throw new AssertionError("the connect did not finish in 3 attempts");
  }

  private static Fixture connectTimedOut(Family family) throws IOException {
    Socket listener = listening(family, 0);
    List<Socket> queued = new ArrayList<>();
    try {
      fillAcceptQueue(listener, queued);
    } catch (IOException | RuntimeException | Error e) {
      closeAll(queued, listener);
      throw e;
    }
    SocketAddress address = listener.getSockName();
    return new Fixture() {
      @Override
      public void round() throws Exception {
        try (Socket socket = Socket.create(family, SOCK_STREAM)) {
          socket.setTimeout(BRIEFLY);
          // as Python's: an AF_UNIX connect to a full backlog fails with EAGAIN at once, where a
          // TCP one waits for its timeout
          assertThatThrownBy(() -> socket.connect(address))
              .isInstanceOf(
                  family == AF_UNIX ? WouldBlockException.class : SocketTimeoutException.class);
        }
      }

      @Override
      public void close() throws IOException {
        closeAll(queued, listener);
      }
    };
  }

  /**
   * Connects clients to {@code listener}, which never accepts, until a connect does not complete:
   * from then on every connect waits (Linux drops the SYN of a full accept queue; an AF_UNIX
   * connect waits for room).
   */
  private static void fillAcceptQueue(Socket listener, List<Socket> queued) throws IOException {
    for (int i = 0; i < 64; i++) {
      Socket client = Socket.create(listener.family(), SOCK_STREAM);
      client.setTimeout(Duration.ofMillis(100));
      if (client.connectEx(listener.getSockName()) != 0) {
        client.close();
        return;
      }
      queued.add(client);
    }
    throw new AssertionError("the accept queue never filled");
  }

  private static Fixture bindInUse(Family family) throws IOException {
    Socket holder = listening(family, 1);
    SocketAddress taken = holder.getSockName();
    return new Fixture() {
      @Override
      public void round() throws Exception {
        try (Socket socket = Socket.create(family, SOCK_STREAM)) {
          assertThatThrownBy(() -> socket.bind(taken)).isInstanceOf(AddressInUseException.class);
        }
      }

      @Override
      public void close() throws IOException {
        holder.close();
      }
    };
  }

  private static Fixture bindNotLocal(Family family) {
    SocketAddress nowhere =
        switch (family) {
          case AF_INET -> new InetSocketAddress(NOT_LOCAL_IPV4, 0);
          case AF_INET6 -> new InetSocketAddress(NOT_LOCAL_IPV6, 0);
          case AF_UNIX -> UnixDomainSocketAddress.of(dir.resolve("missing").resolve("s.sock"));
        };
    int errno = family == AF_UNIX ? Errno.ENOENT : Errno.EADDRNOTAVAIL;
    return () -> {
      try (Socket socket = Socket.create(family, SOCK_STREAM)) {
        Throwable e = catchThrowable(() -> socket.bind(nowhere));
        assertThat(e).isInstanceOf(SocketError.class);
        assertThat(((SocketError) e).errno()).isEqualTo(errno);
      }
    };
  }

  private static Fixture listenerClosedWithPending(Family family) {
    return () -> {
      List<Socket> clients = new ArrayList<>();
      try {
        Socket listener = listening(family, 4);
        try (listener) {
          for (int i = 0; i < 3; i++) {
            Socket client = Socket.create(family, SOCK_STREAM);
            clients.add(client);
            client.connect(listener.getSockName()); // completes in the backlog
          }
        }
        for (Socket client : clients) {
          client.setTimeout(PATIENTLY);
          assertThatThrownBy(() -> client.recv(1)).isInstanceOf(ConnectionResetException.class);
        }
      } finally {
        closeAll(clients);
      }
    };
  }

  private static Fixture acceptTimedOut(Family family) throws IOException {
    Socket listener = listening(family, 1);
    listener.setTimeout(BRIEFLY);
    return new Fixture() {
      @Override
      public void round() {
        assertThatThrownBy(listener::accept).isInstanceOf(SocketTimeoutException.class);
      }

      @Override
      public void close() throws IOException {
        listener.close();
      }
    };
  }

  private static Fixture afterReset(Family family) {
    return () -> {
      try (Pair pair = Loopback.pair(family, dir)) {
        if (family == AF_UNIX) {
          pair.client().sendAll(bytes("unread")); // closing with it unread resets the client
        } else {
          pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        }
        pair.server().close();
        pair.client().setTimeout(PATIENTLY);
        assertThatThrownBy(() -> pair.client().recv(1))
            .isInstanceOf(ConnectionResetException.class);
        assertThatThrownBy(() -> pair.client().sendAll(bytes("after")))
            .isInstanceOfAny(BrokenPipeException.class, ConnectionResetException.class);
      }
    };
  }

  private static Fixture sendAllTimedOut(Family family) {
    byte[] data = new byte[1 << 20]; // more than both buffers hold
    return () -> {
      try (Pair pair = Loopback.pair(family, dir)) {
        pair.client().setSockOpt(StandardSocketOptions.SO_SNDBUF, 4096);
        pair.client().setTimeout(BRIEFLY);
        assertThatThrownBy(() -> pair.client().sendAll(data))
            .isInstanceOf(SocketTimeoutException.class);
      }
    };
  }

  private static Fixture createServerInUse(Family family) throws IOException {
    Socket holder = Sockets.createServer(bindAddress(family));
    SocketAddress taken = holder.getSockName();
    return new Fixture() {
      @Override
      public void round() {
        assertThatThrownBy(() -> Sockets.createServer(taken).close())
            .isInstanceOf(AddressInUseException.class);
      }

      @Override
      public void close() throws IOException {
        holder.close();
      }
    };
  }

  private static Fixture createConnectionRefused(Family family) throws IOException {
    Refusing refusing = Refusing.of(family);
    return new Fixture() {
      @Override
      public void round() {
        assertThatThrownBy(() -> Sockets.createConnection(refusing.address()).close())
            .isInstanceOf(ConnectionRefusedException.class);
      }

      @Override
      public void close() throws IOException {
        refusing.close();
      }
    };
  }

  private static Fixture serverInUse(Family family, SocketKind kind) throws IOException {
    Socket holder = Socket.create(family, kind);
    holder.bind(bindAddress(family));
    ServerConfig config = ServerConfig.defaults().withAddress(holder.getSockName());
    return new Fixture() {
      @Override
      public void round() {
        assertThatThrownBy(
                () -> {
                  Server server =
                      kind == SOCK_STREAM
                          ? TcpServer.start(config, conn -> {})
                          : UdpServer.start(config, (datagram, socket) -> {});
                  server.close();
                })
            .isInstanceOf(AddressInUseException.class);
      }

      @Override
      public void close() throws IOException {
        holder.close();
      }
    };
  }

  private static Fixture createConnectionSourceInUse(Family family) throws IOException {
    Socket listener = listening(family, 1);
    Socket holder = listening(family, 1);
    ConnectOptions options = ConnectOptions.defaults().withSourceAddress(holder.getSockName());
    return new Fixture() {
      @Override
      public void round() {
        assertThatThrownBy(() -> Sockets.createConnection(listener.getSockName(), options).close())
            .isInstanceOf(AddressInUseException.class);
      }

      @Override
      public void close() throws IOException {
        closeAll(List.of(listener, holder));
      }
    };
  }

  /** Text that only looks like an address fails without a lookup (see getAddrInfo). */
  private static Fixture createConnectionMalformed() {
    return () -> {
      for (String host : List.of("1.2.3.4.5", "::1q")) {
        assertThatThrownBy(() -> Sockets.createConnection(host, 80).close())
            .isInstanceOf(AddressResolutionException.class);
      }
    };
  }

  private static Fixture udpRefused(Family family) throws IOException {
    int port = Loopback.unusedPort(family, SOCK_DGRAM);
    SocketAddress closed = new InetSocketAddress(Loopback.ip(family), port);
    return () -> {
      try (Socket socket = Socket.create(family, SOCK_DGRAM)) {
        socket.setTimeout(PATIENTLY);
        socket.connect(closed);
        socket.send(bytes("anyone?"));
        assertThatThrownBy(() -> socket.recv(16)).isInstanceOf(ConnectionRefusedException.class);
      }
    };
  }

  /**
   * Each round registers sockets with a selector and closes them in another order: the selector
   * first, the socket first, or the socket unregistered first.
   */
  @SuppressWarnings("try") // a registered socket closed inside its try is the point
  private static Fixture selectorChurn(Family family) {
    return () -> {
      try (Socket first = listening(family, 1);
          Socket second = listening(family, 1);
          Socket third = listening(family, 1)) {
        SocketSelector selector = SocketSelector.open();
        try (selector) {
          selector.register(first, Set.of(Event.EVENT_READ), null);
          selector.register(second, Set.of(Event.EVENT_READ), null);
          selector.register(third, Set.of(Event.EVENT_READ), null);
          second.close();
          selector.unregister(third);
          assertThat(selector.select(Duration.ZERO)).isEmpty();
        }
        assertThatThrownBy(() -> selector.register(third, Set.of(Event.EVENT_READ), null))
            .isInstanceOf(IllegalStateException.class);
      }
    };
  }

  /**
   * Each round makes a reader and a writer with an unflushed byte, and closes them and the socket
   * in the next of the six orders; the byte reaches the peer when the writer closes first.
   */
  private static Fixture makeFileCloseOrders(Family family) {
    int[] round = {0};
    return () -> {
      try (Pair pair = Loopback.pair(family, dir)) {
        Socket socket = pair.client();
        BufferedInputStream reader = socket.makeFile("rb");
        BufferedOutputStream writer = socket.makeFile("wb");
        writer.write('x');
        List<AutoCloseable> order = permutation(round[0]++ % 6, socket, reader, writer);
        for (AutoCloseable each : order) {
          if (each == writer && socket.isClosed()) {
            assertThatThrownBy(writer::close).isInstanceOf(ClosedSocketException.class);
          } else {
            each.close();
          }
        }
        if (order.indexOf(writer) < order.indexOf(socket)) {
          pair.server().setTimeout(PATIENTLY);
          assertThat(pair.server().recv(1)).isEqualTo(bytes("x"));
        }
      }
    };
  }

  private static List<AutoCloseable> permutation(
      int index, AutoCloseable a, AutoCloseable b, AutoCloseable c) {
    List<List<AutoCloseable>> all =
        List.of(
            List.of(a, b, c),
            List.of(a, c, b),
            List.of(b, a, c),
            List.of(b, c, a),
            List.of(c, a, b),
            List.of(c, b, a));
    return all.get(index);
  }

  private static Fixture socketPairClosed() {
    return () -> {
      Socket[] pair = Sockets.socketPair();
      try {
        pair[1].close();
        assertThatThrownBy(() -> pair[0].sendAll(bytes("gone")))
            .isInstanceOf(BrokenPipeException.class);
      } finally {
        closeAll(List.of(pair));
      }
    };
  }

  private static Fixture framedTruncated(Family family) {
    return () -> {
      try (Pair pair = Loopback.pair(family, dir)) {
        pair.server().sendAll(new byte[] {0, 0, 0, 10, 'a', 'b', 'c'}); // 3 of 10 bytes
        pair.server().close();
        pair.client().setTimeout(PATIENTLY);
        var framed = Framing.lengthPrefixed(Framing.Prefix.U32, 1024).on(pair.client());
        assertThatThrownBy(framed::recvMsg)
            .isInstanceOf(FrameException.class)
            .hasMessageContaining("truncated frame");
      }
    };
  }

  /** The client refuses the server's certificate; both handshakes fail. */
  private static Fixture tlsRefused(Family family, TlsContext refusing, String host) {
    return () -> {
      try (Pair plain = Loopback.pair(family, dir)) {
        Future<Socket> serverSide = peers.submit(() -> server.wrap(plain.server()));
        assertThatThrownBy(() -> refusing.wrap(plain.client(), host))
            .isInstanceOf(TlsException.class);
        Throwable serverFailure = catchThrowable(() -> serverSide.get(30, SECONDS).close());
        assertThat(serverFailure).isInstanceOf(ExecutionException.class);
        assertThat(serverFailure.getCause()).isInstanceOf(SocketError.class);
      }
    };
  }

  private static Fixture tlsServerGetsPlainText(Family family) {
    return () -> {
      try (Pair plain = Loopback.pair(family, dir)) {
        plain.client().sendAll(bytes("GET / HTTP/1.0\r\n\r\n"));
        assertThatThrownBy(() -> server.wrap(plain.server())).isInstanceOf(TlsException.class);
      }
    };
  }

  /** A handshake with a peer that never speaks TLS times out and closes the connection. */
  private static Fixture tlsTimedOut(Family family, boolean clientSide) {
    TlsContext impatient = (clientSide ? client : server).withHandshakeTimeout(BRIEFLY);
    return () -> {
      try (Pair plain = Loopback.pair(family, dir)) {
        assertThatThrownBy(
                () -> {
                  if (clientSide) {
                    impatient.wrap(plain.client(), "localhost");
                  } else {
                    impatient.wrap(plain.server());
                  }
                })
            .isInstanceOf(SocketTimeoutException.class);
      }
    };
  }

  // ------------------------------------------------------------------ tools

  /** One row of the table: its name, how many rounds, and what its rounds need. */
  record ErrorPath(String name, int rounds, Opener setUp) {}

  /** Opens a row's fixture. */
  @FunctionalInterface
  interface Opener {
    Fixture open() throws Exception;
  }

  /** Makes a row's fixture for a family. */
  @FunctionalInterface
  interface FixtureFactory {
    Fixture open(Family family) throws Exception;
  }

  /** What the rounds of a row share (closed after the last one), and one round. */
  @FunctionalInterface
  interface Fixture extends AutoCloseable {
    void round() throws Exception;

    @Override
    default void close() throws IOException {}
  }

  /** A loopback address that refuses connections: AF_UNIX, a bound socket that never listens. */
  private record Refusing(SocketAddress address, Closeable holder) implements Closeable {
    static Refusing of(Family family) throws IOException {
      if (family == AF_UNIX) {
        Socket bound = Socket.create(AF_UNIX, SOCK_STREAM);
        bound.bind(bindAddress(AF_UNIX));
        return new Refusing(bound.getSockName(), bound::close);
      }
      Loopback.Refusing refusing = Loopback.refusingAddress(family);
      return new Refusing(refusing.address(), refusing::close);
    }

    @Override
    public void close() throws IOException {
      holder.close();
    }
  }

  private static SocketAddress bindAddress(Family family) {
    return Loopback.bindAddress(family, dir);
  }

  private static Socket listening(Family family, int backlog) throws IOException {
    Socket socket = Socket.create(family, SOCK_STREAM);
    try {
      socket.bind(bindAddress(family));
      socket.listen(backlog);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private static void closeAll(List<Socket> sockets, Socket... more) throws IOException {
    Loopback.closeAll(sockets);
    Loopback.closeAll(List.of(more));
  }

  /** The process's open descriptors by what they are ({@code socket:[…]} counts as "socket"). */
  private static Map<String, Long> openDescriptors() throws IOException {
    try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
      return entries
          .map(ErrorPathLeaksTest::targetKind)
          .collect(Collectors.groupingBy(Function.identity(), TreeMap::new, Collectors.counting()));
    }
  }

  private static String targetKind(Path fd) {
    try {
      String target = Files.readSymbolicLink(fd).toString();
      return target.replaceAll(":\\[\\d+\\]$", ""); // socket:[123] and pipe:[45] by kind
    } catch (IOException gone) { // the listing's own descriptor, closed by now
      return "(gone)";
    }
  }

  /** Live platform threads of jsock's by name ({@code jsock-poller-0}, {@code jsock-timeouts}). */
  private static Map<String, Long> jsockThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("jsock"))
        .collect(Collectors.groupingBy(Thread::getName, TreeMap::new, Collectors.counting()));
  }

  /** What {@code now} has more of than {@code before}, and how many more. */
  private static Map<String, Long> added(Map<String, Long> before, Map<String, Long> now) {
    Map<String, Long> added = new TreeMap<>();
    now.forEach(
        (kind, count) -> {
          long more = count - before.getOrDefault(kind, 0L);
          if (more > 0) {
            added.put(kind, more);
          }
        });
    return added;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }
}
