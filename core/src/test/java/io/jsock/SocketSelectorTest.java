package io.jsock;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Event.EVENT_WRITE;
import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.Running.PROMPTLY;
import static io.jsock.testing.Running.inVirtualThread;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Loopback.Refusing;
import io.jsock.testing.Running;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SocketSelector} on real sockets: loopback ({@code 127.0.0.1}, {@code ::1}) and Unix-domain
 * sockets in a temporary directory. No test resolves a name.
 */
// A safety net: a hung select or close fails its test instead of hanging the build, even if the
// hung thread ignores interrupts.
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SocketSelectorTest {
  private static final Set<Event> READ = Set.of(EVENT_READ);
  private static final Set<Event> WRITE = Set.of(EVENT_WRITE);
  private static final Set<Event> BOTH = Set.of(EVENT_READ, EVENT_WRITE);

  /** The timeout of tests that wait for a timeout. */
  private static final Duration TIMEOUT = Duration.ofMillis(200);

  /** Timing bounds: a tight lower bound below the timeout, a generous upper bound. */
  private static final long LOWER_MILLIS = 190;

  private static final long UPPER_MILLIS = 5_000;

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

  // ---------------------------------------------------------------- an event loop

  @ParameterizedTest
  @EnumSource(Family.class)
  void echoLoopServesSeveralClientsAtOnce(Family family) throws Exception {
    int clients = 4;
    List<byte[]> sent = new ArrayList<>();
    List<Running<byte[]>> received = new ArrayList<>();
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen();
      listener.setBlocking(false);
      selector.register(listener, READ, "listener");
      for (int i = 0; i < clients; i++) {
        byte[] data = randomBytes((256 << 10) + i);
        sent.add(data);
        received.add(inVirtualThread(() -> echoClient(listener.getSockName(), data)));
      }

      EchoLoop loop = new EchoLoop(listener);
      while (loop.served < clients) {
        List<Ready> ready = selector.select(PROMPTLY);
        assertThat(ready).as("something ready within %s", PROMPTLY).isNotEmpty();
        for (Ready each : ready) {
          loop.handle(each);
        }
      }

      for (int i = 0; i < clients; i++) {
        assertThat(Arrays.mismatch(received.get(i).get(), sent.get(i))).isEqualTo(-1);
      }
      assertThat(loop.writeWaits).as("sends that had to wait for EVENT_WRITE").isPositive();
      assertThat(selector.getMap().keySet()).containsExactly(listener);
    }
  }

  /**
   * A non-blocking echo server in the style of Python's {@code selectors} example: each connection
   * is watched for EVENT_READ while its peer may send and for EVENT_WRITE while echoed bytes wait.
   */
  private final class EchoLoop {
    private final Socket listener;
    int served;
    int writeWaits;

    EchoLoop(Socket listener) {
      this.listener = listener;
    }

    void handle(Ready ready) throws IOException {
      Socket socket = ready.key().socket();
      if (socket == listener) {
        assertThat(ready.key().data()).isEqualTo("listener");
        assertThat(ready.events()).isEqualTo(READ);
        Socket conn = listener.accept().conn();
        conn.setBlocking(false);
        conn.setSockOpt(StandardSocketOptions.SO_SNDBUF, 4096); // so that sends fill up
        selector.register(conn, READ, new Echo());
        return;
      }
      Echo echo = (Echo) ready.key().data();
      if (ready.events().contains(EVENT_READ)) {
        byte[] data = socket.recv(65536);
        if (data.length == 0) {
          echo.inputDone = true;
        } else {
          echo.pending.add(ByteBuffer.wrap(data));
        }
      }
      echo.sendWhatFits(socket);
      Set<Event> wanted = EnumSet.noneOf(Event.class);
      if (!echo.inputDone) {
        wanted.add(EVENT_READ);
      }
      if (!echo.pending.isEmpty()) {
        wanted.add(EVENT_WRITE);
      }
      if (wanted.isEmpty()) {
        selector.unregister(socket);
        socket.close();
        served++;
      } else if (!wanted.equals(ready.key().events())) {
        writeWaits += wanted.contains(EVENT_WRITE) ? 1 : 0;
        selector.modify(socket, wanted, echo);
      }
    }
  }

  /** One connection's state in the echo loop. */
  private static final class Echo {
    final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    boolean inputDone;

    void sendWhatFits(Socket socket) throws IOException {
      try {
        while (!pending.isEmpty()) {
          ByteBuffer next = pending.peek();
          socket.send(next);
          if (next.hasRemaining()) {
            return;
          }
          pending.poll();
        }
      } catch (WouldBlockException full) {
        // the rest waits for EVENT_WRITE
      }
    }
  }

  /** Sends all the data from one thread while receiving the echo in another. */
  private static byte[] echoClient(SocketAddress server, byte[] data) throws Exception {
    try (Socket client = Socket.create(familyOf(server), SOCK_STREAM)) {
      client.connect(server);
      Running<Void> sender =
          inVirtualThread(
              () -> {
                client.sendAll(data);
                client.shutdown(Shutdown.SHUT_WR);
                return null;
              });
      byte[] echoed = recvToEnd(client);
      sender.get();
      return echoed;
    }
  }

  // ---------------------------------------------------------------- what readiness means

  @ParameterizedTest
  @EnumSource(Family.class)
  void eventReadOnAListenerMeansAConnectionIsWaiting(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      bindToLoopback(listener);
      listener.listen();
      listener.setBlocking(false);
      SelectorKey key = selector.register(listener, BOTH, "listener");
      assertThat(selector.select(Duration.ZERO)).as("nobody connected yet").isEmpty();

      client.connect(listener.getSockName());

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      try (Socket conn = listener.accept().conn()) {
        assertThat(conn.getPeerName()).isEqualTo(client.getSockName());
      }
      assertThat(selector.select(Duration.ZERO)).as("accepted: no longer ready").isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void eventWriteReportsThatANonBlockingConnectFinished(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      bindToLoopback(listener);
      listener.listen();
      SocketAddress address = listener.getSockName();
      client.setBlocking(false);
      assertThat(client.connectEx(address)).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, WRITE, "connecting");

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));

      assertThat(client.connectEx(address)).as("completes at once").isZero();
      assertThat(client.getPeerName()).isEqualTo(address);
      assertThat(selector.select(PROMPTLY))
          .as("connected, and room to send")
          .containsExactly(new Ready(key, WRITE));
      try (Socket conn = listener.accept().conn()) {
        client.sendAll(bytes("connected"));
        assertThat(conn.recv(100)).isEqualTo(bytes("connected"));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void eventWriteAlsoReportsAFailedConnect(Family family) throws Exception {
    try (Refusing refusing = Loopback.refusingAddress(family);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      client.setBlocking(false);
      assertThat(client.connectEx(refusing.address())).isEqualTo(Errno.EINPROGRESS);
      SelectorKey key = selector.register(client, WRITE, null);

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));

      assertThat(client.connectEx(refusing.address())).isEqualTo(Errno.ECONNREFUSED);
      assertThat(selector.select(Duration.ZERO))
          .as("writable (and hung up) after the failed connect, as in Python")
          .containsExactly(new Ready(key, WRITE));
      assertThat(selector.getKey(client)).as("still registered, as in Python").isEqualTo(key);
      assertThat(selector.unregister(client)).isEqualTo(key);
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void eventReadMeansDataToReceiveAndEventWriteRoomToSend(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      SelectorKey key = selector.register(pair.server(), BOTH, null);

      assertThat(selector.select(PROMPTLY))
          .as("nothing to read yet: writable only")
          .containsExactly(new Ready(key, WRITE));

      pair.client().sendAll(bytes("data"));

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
      assertThat(pair.server().recv(100)).isEqualTo(bytes("data"));
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aListenerIsReadyForAConnectionItsClientResetBeforeAccept(Family family) throws Exception {
    // Python on Linux: readable, accept() returns the connection, its recv raises ECONNRESET.
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      bindToLoopback(listener);
      listener.listen();
      SelectorKey key = selector.register(listener, READ, null);
      SocketAddress clientAddress;
      try (Socket client = Socket.create(family, SOCK_STREAM)) {
        client.connect(listener.getSockName());
        clientAddress = client.getSockName();
        client.setSockOpt(StandardSocketOptions.SO_LINGER, 0); // close() resets
      }

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      Accepted accepted = listener.accept();
      try (Socket conn = accepted.conn()) {
        assertThat(accepted.address()).isEqualTo(clientAddress);
        assertThatThrownBy(() -> conn.recv(100)).isInstanceOf(ConnectionResetException.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void aSocketShutDownForReadingIsReadableAndOneShutDownForWritingStaysWritable(Family family)
      throws Exception {
    // As Python's selectors on Linux: EPOLLIN (end of stream) after SHUT_RD, EPOLLOUT after
    // SHUT_WR.
    try (Pair reading = Loopback.pair(family, dir);
        Pair writing = Loopback.pair(family, dir)) {
      SelectorKey shutForReading = selector.register(reading.server(), BOTH, "SHUT_RD");
      SelectorKey shutForWriting = selector.register(writing.server(), BOTH, "SHUT_WR");

      reading.server().shutdown(Shutdown.SHUT_RD);
      writing.server().shutdown(Shutdown.SHUT_WR);

      assertThat(selector.select(Duration.ZERO))
          .containsExactlyInAnyOrder(
              new Ready(shutForReading, BOTH), new Ready(shutForWriting, WRITE));
      assertThat(reading.server().recv(100)).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void eventReadAlsoMeansTheEndOfTheStream(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      SelectorKey key = selector.register(pair.server(), READ, null);
      assertThat(selector.select(Duration.ZERO)).isEmpty();

      pair.client().close();

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(pair.server().recv(100)).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void socketRegisteredBeforeListenIsWatchedAsAListener(Family family) throws Exception {
    try (Socket server = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      SelectorKey key = selector.register(server, READ, "registered early");
      bindToLoopback(server);
      server.listen();

      client.connect(server.getSockName());

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(selector.getKey(server)).isSameAs(key);
      server.setBlocking(false);
      try (Socket conn = server.accept().conn()) {
        assertThat(conn.getPeerName()).isEqualTo(client.getSockName());
      }
      assertThat(selector.select(Duration.ZERO)).isEmpty();
    }
  }

  // python3 on Linux: a registered socket that starts listening is the same descriptor, so its
  // close frees the port at once, with no select in between; jsock's listen() left the selector
  // holding the channel it had before, which the JDK closed only at the next select: until then a
  // bind without SO_REUSEADDR to the port failed (EADDRINUSE)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aSocketRegisteredBeforeListenReleasesItsPortAtOnceWhenClosed(Family family)
      throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      bindToAnUnusedPort(listener); // bound again below: see bindToAnUnusedPort
      SocketAddress address = listener.getSockName();
      selector.register(listener, READ, null);
      listener.listen();

      listener.close();

      try (Socket next = Socket.create(family, SOCK_STREAM)) {
        next.setSockOpt(StandardSocketOptions.SO_REUSEADDR, false); // as Python's bind
        next.bind(address); // before any select: a channel still holding the port refuses it
        next.listen();
        assertThat(next.getSockName()).isEqualTo(address);
      }
      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThat(selector.getMap()).isEmpty();
    }
  }

  // python3 on Linux: a registered listener that shutdown(SHUT_RD) stopped is ready to read (a
  // hang-up); listen() again (on a new port: it was bound to port 0) keeps the registration, which
  // reports the next client
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aRegisteredListenerThatAShutdownStoppedReportsClientsOnceItListensAgain(Family family)
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        Boolean.getBoolean("jsock.selectorPoller"), "the portable path stops no listener");
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      bindToLoopback(listener);
      listener.listen();
      SelectorKey key = selector.register(listener, READ, "stopped");
      listener.shutdown(Shutdown.SHUT_RD);
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(key, READ));

      listener.listen();

      client.connect(listener.getSockName()); // the first select after listen reports it
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(selector.getKey(listener)).isSameAs(key);
      try (Socket conn = listener.accept().conn()) {
        assertThat(conn.getPeerName()).isEqualTo(client.getSockName());
      }
      assertThat(selector.select(Duration.ZERO)).isEmpty();
    }
  }

  // python3 on Linux: a registered listener stopped by a shutdown, bound again and listening again
  // is one descriptor throughout; jsock replaces its channel at each bind and listen, and must
  // close each channel it replaced once the selector has let it go: 200 rounds leave
  // /proc/self/fd as it was, and the registration follows the last channel
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aRegisteredListenerStoppedAndBoundAgainLeavesNoChannelItReplacedOpen(Family family)
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        Boolean.getBoolean("jsock.selectorPoller"), "the portable path stops no listener");
    String host = family == AF_INET ? "127.0.0.1" : "::1";
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      listener.bind(host, 0);
      listener.listen();
      SelectorKey key = selector.register(listener, READ, "listener");
      long before = openDescriptors();

      for (int round = 0; round < 200; round++) {
        listener.shutdown(Shutdown.SHUT_RD);
        listener.bind(host, 0); // a fresh stream in place of the stopped listener
        listener.listen(); // a listener in place of the stream
        listener.shutdown(Shutdown.SHUT_RD);
        listener.listen(); // a listener on a new port in place of the stopped one
      }

      assertThat(openDescriptors() - before).as("descriptors left by 200 rounds").isLessThan(10);
      try (Socket client = Socket.create(family, SOCK_STREAM)) {
        client.connect(listener.getSockName());
        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
        try (Socket conn = listener.accept().conn()) {
          assertThat(conn.getPeerName()).isEqualTo(client.getSockName());
        }
      }
    }
  }

  // a close racing a listen() of a registered socket: whichever wins, neither the stream nor the
  // listener that replaces it stays open, the selector drops the registration, and neither call
  // waits for the other's lock for ever (listen moves the registration under the selector's lock
  // first, then the socket's; close takes the socket's, then the selector's)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aCloseRacingAListenOfARegisteredSocketLeavesNoChannelOpen(Family family) throws Exception {
    long before = openDescriptors();
    List<Throwable> unexpected = new ArrayList<>();
    for (int round = 0; round < 200; round++) {
      Socket socket = Socket.create(family, SOCK_STREAM);
      bindToLoopback(socket);
      selector.register(socket, READ, null);
      Thread listening =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      socket.listen();
                    } catch (ClosedSocketException closedFirst) {
                      // the close won
                    } catch (IOException | RuntimeException e) {
                      synchronized (unexpected) {
                        unexpected.add(e);
                      }
                    }
                  });
      socket.close();
      assertThat(listening.join(Duration.ofSeconds(30))).as("listen ended").isTrue();
      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThat(selector.getMap()).isEmpty();
    }
    assertThat(unexpected).isEmpty();
    assertThat(openDescriptors() - before).as("descriptors left by 200 rounds").isLessThan(10);
  }

  // a register racing a listen(): whichever notes the other first, the registration ends on the
  // listening channel, so a close right after frees the port before any select (a register that
  // read the channel before the listen replaced it, and was noted after, kept the old one, whose
  // close the JDK defers to the next select)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aRegisterRacingAListenEndsOnTheListenerSoThatACloseFreesThePortAtOnce(Family family)
      throws Exception {
    List<Throwable> unexpected = new ArrayList<>();
    for (int round = 0; round < 300; round++) {
      Socket socket = Socket.create(family, SOCK_STREAM);
      bindToLoopback(socket);
      SocketAddress address = socket.getSockName();
      Thread registering =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      selector.register(socket, READ, null);
                    } catch (IOException | RuntimeException e) {
                      synchronized (unexpected) {
                        unexpected.add(e);
                      }
                    }
                  });
      socket.listen();
      assertThat(registering.join(Duration.ofSeconds(30))).as("register ended").isTrue();
      socket.close(); // registered: close makes the selector let go of its channel
      try (Socket next = Socket.create(family, SOCK_STREAM)) {
        next.setSockOpt(StandardSocketOptions.SO_REUSEADDR, false); // as Python's bind
        next.bind(address); // before any select: a channel still holding the port refuses it
      }
      assertThat(selector.select(Duration.ZERO)).isEmpty();
    }
    assertThat(unexpected).isEmpty();
  }

  // ---------------------------------------------------------------- register, modify, unregister

  @ParameterizedTest
  @EnumSource(Family.class)
  void modifyChangesTheEventsAndTheData(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket socket = pair.server();
      SelectorKey first = selector.register(socket, READ, "first");
      assertThat(selector.select(Duration.ZERO)).as("nothing to read").isEmpty();

      SelectorKey second = selector.modify(socket, WRITE, "second");

      assertThat(second).isEqualTo(new SelectorKey(socket, WRITE, "second")).isNotEqualTo(first);
      assertThat(selector.getKey(socket)).isEqualTo(second);
      assertThat(selector.getMap()).containsExactly(Map.entry(socket, second));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(second, WRITE));

      SelectorKey third = selector.modify(socket, READ, null);
      assertThat(selector.select(Duration.ZERO)).as("not watched for writing").isEmpty();
      pair.client().sendAll(bytes("x"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(third, READ));
      assertThat(third.data()).isNull();
    }
  }

  @Test
  void registerWithoutDataAndSelectWithoutTimeoutAreItsPythonDefaults() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      SelectorKey key = selector.register(pair.server(), READ);
      assertThat(key.data()).isNull();
      assertThat(key.events()).isEqualTo(READ);
      Thread sender =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      Thread.sleep(50); // so that select() is likely waiting when the bytes come
                      pair.client().sendAll(bytes("x"));
                    } catch (IOException | InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                  });

      assertThat(selector.select()).containsExactly(new Ready(key, READ));
      sender.join();
      assertThatThrownBy(() -> selector.register(pair.server(), WRITE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("socket is already registered: ");
    }
  }

  @Test
  void modifyOfTheDataAloneKeepsTheEvents() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), WRITE, "old");

      SelectorKey key = selector.modify(pair.server(), WRITE, "new");

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, WRITE));
      assertThat(key.data()).isEqualTo("new");
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void unregisterStopsEventsAndLeavesTheSocketOpen(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket socket = pair.server();
      SelectorKey key = selector.register(socket, READ, "data");
      pair.client().sendAll(bytes("ready"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));

      assertThat(selector.unregister(socket)).isEqualTo(key);

      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThat(selector.getMap()).isEmpty();
      assertThat(socket.recv(100)).isEqualTo(bytes("ready"));
    }
  }

  @Test
  void aSocketCanBeRegisteredAgainRightAfterUnregister() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Socket socket = pair.server();
      selector.register(socket, READ, "first");
      selector.unregister(socket);

      SelectorKey again = selector.register(socket, WRITE, "again");

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(again, WRITE));
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void closingAListenerAfterUnregisterReleasesItsPortAtOnce(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM)) {
      bindToAnUnusedPort(listener); // bound again below: see bindToAnUnusedPort
      listener.listen();
      SocketAddress address = listener.getSockName();
      selector.register(listener, READ, null);
      assertThat(selector.select(Duration.ZERO)).isEmpty();

      selector.unregister(listener);
      listener.close();

      try (Socket next = Socket.create(family, SOCK_STREAM)) {
        next.bind(address); // a listener still holding the port would refuse this
        next.listen();
        assertThat(next.getSockName()).isEqualTo(address);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aSocketClosedWhileRegisteredReleasesItsPortAtOnceAndTheNextSelectDropsIt(Family family)
      throws Exception {
    try (Socket listener = Socket.create(family, SOCK_STREAM);
        Socket client = Socket.create(family, SOCK_STREAM)) {
      bindToAnUnusedPort(listener); // bound again below: see bindToAnUnusedPort
      listener.listen();
      SocketAddress address = listener.getSockName();
      selector.register(listener, READ, null);
      client.connect(address); // the listener is ready, but closed before anyone selects

      listener.close();

      try (Socket next = Socket.create(family, SOCK_STREAM)) {
        next.bind(address); // before any select: a listener still holding the port refuses it
        next.listen();
        assertThat(next.getSockName()).isEqualTo(address);
      }
      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThat(selector.getMap()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void closingARegisteredSocketWithLingerZeroResetsItsPeerAtOnce(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      selector.register(pair.server(), READ, null);
      pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);

      pair.server().close(); // no select follows: Python's close is immediate, unregistered or not

      pair.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> pair.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void closingARegisteredSocketWithUnreadInputResetsItsPeerAtOnce(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      SelectorKey key = selector.register(pair.server(), READ, null);
      pair.client().sendAll(bytes("never read"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));

      pair.server().close(); // Linux resets a connection closed with input unread, as Python sees

      pair.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> pair.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void closingASocketRegisteredWithTwoSelectorsResetsItsPeerAtOnce(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family);
        SocketSelector other = SocketSelector.open()) {
      selector.register(pair.server(), READ, null);
      other.register(pair.server(), WRITE, null);
      pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);

      pair.server().close();

      pair.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> pair.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
      assertThat(other.select(Duration.ZERO)).isEmpty();
      assertThat(other.getMap()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void closingARegisteredSocketDuringASelectResetsItsPeerAndTheSelectGoesOnWaiting(Family family)
      throws Exception {
    try (Pair closing = Loopback.pair(family);
        Pair other = Loopback.pair(family)) {
      selector.register(closing.server(), READ, "closing");
      SelectorKey otherKey = selector.register(other.server(), READ, "other");
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();
      closing.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);

      closing.server().close();

      closing.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> closing.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
      // As CPython's: the closed socket is not reported, and the select waits on for the others
      // (an empty list here would be a select cut short by the close)
      other.client().sendAll(bytes("ready"));
      assertThat(selecting.get()).containsExactly(new Ready(otherKey, READ));
      assertThat(selector.getMap()).containsOnlyKeys(other.server());
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void anEventReadyBeforeARegisteredSocketIsClosedIsReportedByTheNextSelect(Family family)
      throws Exception {
    try (Pair closing = Loopback.pair(family);
        Pair other = Loopback.pair(family)) {
      selector.register(closing.server(), READ, "closing");
      SelectorKey otherKey = selector.register(other.server(), READ, "other");
      other.client().sendAll(bytes("ready"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(otherKey, READ));
      closing.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);

      closing.server().close();

      closing.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> closing.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(otherKey, READ));
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void closingASocketAfterItsSelectorClosedResetsItsPeerAtOnce(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      selector.register(pair.server(), READ, null);
      pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      selector.close();

      pair.server().close();

      pair.client().setTimeout(PROMPTLY);
      assertThatThrownBy(() -> pair.client().recv(100))
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  @Test
  void aZeroTimeoutSelectReportsTheReadySocketsWhileAnotherThreadClosesRegisteredOnes()
      throws Exception {
    // Each close lets the selector flush its key with a poll of its own; a select(0) that meets
    // that poll must not take it for another thread's select and return nothing: Python's
    // select(0) reports what is ready.
    int closing = 200;
    List<Socket> sockets = new ArrayList<>();
    try {
      Socket[] steady = Sockets.socketPair();
      sockets.addAll(List.of(steady));
      SelectorKey steadyKey = selector.register(steady[0], READ, "steady");
      steady[1].sendAll(bytes("always ready"));
      List<Socket> registered = new ArrayList<>();
      for (int i = 0; i < closing; i++) {
        Socket[] pair = Sockets.socketPair();
        sockets.addAll(List.of(pair));
        selector.register(pair[0], READ, i);
        pair[1].sendAll(bytes("ready too")); // so that every flushing poll has keys to go through
        registered.add(pair[0]);
      }
      Running<Void> closer =
          inVirtualThread(
              () -> {
                for (Socket socket : registered) {
                  socket.close();
                }
                return null;
              });

      int selects = 0;
      int missed = 0;
      while (!closer.result().isDone() && selects < 1_000_000) {
        selects++;
        List<Ready> ready = selector.select(Duration.ZERO);
        if (ready.stream().noneMatch(r -> r.key().equals(steadyKey))) {
          missed++;
        }
      }

      closer.get();
      assertThat(missed).as("select(0)s of %d that missed the ready socket", selects).isZero();
      assertThat(selector.select(Duration.ZERO)).containsExactly(new Ready(steadyKey, READ));
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }

  @Test
  void threadsClosingSocketsRegisteredWithTwoSelectorsDuringSelectsNeitherDeadlockNorEndThem()
      throws Exception {
    // Closers release the two selectors in opposite orders, while a select waits in each; none
    // may wait for another, and both selects wait on for the socket that stays. Selectors of its
    // own, closed only if nothing is stuck: closing a deadlocked selector would hang the test
    // instead of failing it with the threads' stacks.
    int threads = 4;
    int perThread = 25;
    SocketSelector one = SocketSelector.open();
    SocketSelector two = SocketSelector.open();
    List<Pair> pairs = new ArrayList<>();
    boolean stuck = false;
    try {
      Pair steady = Loopback.pair(AF_INET);
      pairs.add(steady);
      SelectorKey steadyKey = one.register(steady.server(), READ, "steady");
      SelectorKey otherSteadyKey = two.register(steady.server(), READ, "steady");
      List<List<Socket>> toClose = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        List<Socket> own = new ArrayList<>();
        for (int i = 0; i < perThread; i++) {
          Pair pair = Loopback.pair(AF_INET);
          pairs.add(pair);
          SocketSelector first = (t + i) % 2 == 0 ? one : two;
          first.register(pair.server(), READ, null);
          (first == one ? two : one).register(pair.server(), READ, null);
          pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
          own.add(pair.server());
        }
        toClose.add(own);
      }
      Running<List<Ready>> selecting = inVirtualThread(() -> one.select(null));
      Running<List<Ready>> otherSelecting = inVirtualThread(() -> two.select(PROMPTLY));
      selecting.awaitBlocked();
      otherSelecting.awaitBlocked();
      List<Running<Void>> closers = new ArrayList<>();
      for (List<Socket> own : toClose) {
        closers.add(
            inVirtualThread(
                () -> {
                  for (Socket socket : own) {
                    socket.close();
                  }
                  return null;
                }));
      }

      List<Thread> involved = new ArrayList<>(List.of(selecting.thread(), otherSelecting.thread()));
      closers.forEach(closer -> involved.add(closer.thread()));
      for (Running<Void> closer : closers) {
        if (!closer.thread().join(PROMPTLY)) {
          stuck = true;
          throw new AssertionError("a closer is stuck:\n" + threadDump(involved));
        }
        closer.get();
      }
      for (Pair pair : pairs.subList(1, pairs.size())) {
        pair.client().setTimeout(PROMPTLY);
        assertThatThrownBy(() -> pair.client().recv(100))
            .isInstanceOf(ConnectionResetException.class);
      }
      assertThat(selecting.result().isDone()).as("the select cut short").isFalse();
      assertThat(otherSelecting.result().isDone()).as("the timed select cut short").isFalse();
      steady.client().sendAll(bytes("ready"));
      assertThat(selecting.get()).containsExactly(new Ready(steadyKey, READ));
      assertThat(otherSelecting.get()).containsExactly(new Ready(otherSteadyKey, READ));
      assertThat(one.getMap()).containsOnlyKeys(steady.server());
      assertThat(two.getMap()).containsOnlyKeys(steady.server());
    } finally {
      if (!stuck) {
        for (Pair pair : pairs) {
          pair.close();
        }
        one.close();
        two.close();
      }
    }
  }

  @Test
  void getMapIsAReadOnlyViewThatFollowsTheRegistrations() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Map<Socket, SelectorKey> map = selector.getMap();
      assertThat(map).isEmpty();

      SelectorKey client = selector.register(pair.client(), READ, 1);
      SelectorKey server = selector.register(pair.server(), WRITE, 2);

      assertThat(map)
          .containsOnly(Map.entry(pair.client(), client), Map.entry(pair.server(), server));
      assertThatThrownBy(() -> map.remove(pair.client()))
          .isInstanceOf(UnsupportedOperationException.class);
      selector.unregister(pair.client());
      assertThat(map).containsOnly(Map.entry(pair.server(), server));
    }
  }

  @Test
  void keysAndReadyEventsAreUnmodifiable() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Set<Event> events = new HashSet<>(WRITE);
      SelectorKey key = selector.register(pair.server(), events, null);
      events.add(EVENT_READ);

      assertThat(key.events()).isEqualTo(WRITE);
      assertThatThrownBy(() -> key.events().add(EVENT_READ))
          .isInstanceOf(UnsupportedOperationException.class);
      Ready ready = selector.select(PROMPTLY).getFirst();
      assertThatThrownBy(() -> ready.events().clear())
          .isInstanceOf(UnsupportedOperationException.class);
    }
  }

  // ---------------------------------------------------------------- select's timeout

  @ParameterizedTest
  @EnumSource(Family.class)
  void selectWithATimeoutReturnsAnEmptyListWhenNothingGetsReady(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      selector.register(pair.server(), READ, null);
      long start = System.nanoTime();

      List<Ready> ready = selector.select(TIMEOUT);

      assertThat(ready).isEmpty();
      assertThat(millisSince(start)).isBetween(LOWER_MILLIS, UPPER_MILLIS);
    }
  }

  @Test
  void selectWithATimeoutAndNothingRegisteredWaitsTheTimeout() throws Exception {
    long start = System.nanoTime();

    assertThat(selector.select(TIMEOUT)).isEmpty();

    assertThat(millisSince(start)).isBetween(LOWER_MILLIS, UPPER_MILLIS);
  }

  @Test
  void selectWithATimeoutBelowAMillisecondReturnsPromptly() throws Exception {
    long start = System.nanoTime();

    // Half a millisecond: a poll rounded down to 0 ms would mean "wait for ever" to the JDK.
    assertThat(selector.select(Duration.ofNanos(500_000))).isEmpty();

    assertThat(millisSince(start)).isLessThan(UPPER_MILLIS);
  }

  @ParameterizedTest(name = "timeout {0}")
  @MethodSource("pollingTimeouts")
  void selectWithAZeroOrNegativeTimeoutReturnsWhatIsReadyWithoutWaiting(Duration timeout)
      throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), READ, null);
      SelectorKey writable = selector.register(pair.client(), WRITE, null);
      long start = System.nanoTime();

      List<Ready> ready = selector.select(timeout);

      assertThat(ready).containsExactly(new Ready(writable, WRITE));
      assertThat(millisSince(start)).isLessThan(LOWER_MILLIS);
    }
  }

  static Stream<Duration> pollingTimeouts() {
    return Stream.of(Duration.ZERO, Duration.ofSeconds(-1));
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void selectWithoutTimeoutWaitsUntilASocketIsReady(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      SelectorKey key = selector.register(pair.server(), READ, null);
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();

      pair.client().sendAll(bytes("wake up"));

      assertThat(selecting.get()).containsExactly(new Ready(key, READ));
    }
  }

  @Test
  void selectReturnsEveryReadySocketOnceEvenThousandsOfThem() throws Exception {
    // More than the 1,024 ready keys the JDK's poll takes from epoll at a time; Python's select
    // returns them all (its epoll buffer is as large as the map).
    int count = 2_000;
    List<Socket> sockets = new ArrayList<>();
    try {
      Set<Integer> registered = new HashSet<>();
      for (int i = 0; i < count; i++) {
        Socket[] pair = Sockets.socketPair();
        sockets.addAll(List.of(pair));
        selector.register(pair[0], WRITE, i); // writable at once
        registered.add(i);
      }

      List<Ready> ready = selector.select(Duration.ZERO);

      List<Object> reported = ready.stream().map(r -> r.key().data()).toList();
      assertThat(reported).hasSize(count).doesNotHaveDuplicates();
      assertThat(new HashSet<>(reported)).isEqualTo(registered);
      assertThat(ready).allSatisfy(r -> assertThat(r.events()).isEqualTo(WRITE));
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }

  // ---------------------------------------------------------------- threads

  @Test
  void wakeupEndsASelectInProgressWithAnEmptyList() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), READ, null);
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();

      selector.wakeup();

      assertThat(selecting.get()).isEmpty();
    }
  }

  @Test
  void wakeupBeforeSelectMakesOnlyTheNextSelectReturnAtOnce() throws Exception {
    selector.wakeup();
    selector.wakeup();

    assertThat(inVirtualThread(() -> selector.select(null)).get()).isEmpty();
    long start = System.nanoTime();
    assertThat(selector.select(TIMEOUT)).isEmpty();
    assertThat(millisSince(start))
        .as("several wakeups count as one")
        .isBetween(LOWER_MILLIS, UPPER_MILLIS);
  }

  @Test
  void wakeupAfterCloseDoesNothing() throws Exception {
    selector.close();

    selector.wakeup();

    assertThatThrownBy(() -> selector.select(Duration.ZERO))
        .isInstanceOf(ClosedSelectorException.class);
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void registerFromAnotherThreadTakesEffectInASelectInProgress(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();

      SelectorKey key = selector.register(pair.server(), WRITE, null);

      assertThat(selecting.get()).containsExactly(new Ready(key, WRITE));
    }
  }

  @Test
  void modifyFromAnotherThreadTakesEffectInASelectInProgress() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), READ, "reading");
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();

      SelectorKey key = selector.modify(pair.server(), WRITE, "writing");

      assertThat(selecting.get()).containsExactly(new Ready(key, WRITE));
    }
  }

  @Test
  void unregisterAndRegisterAgainFromAnotherThreadWhileASelectIsInProgress() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), READ, "first");
      Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
      selecting.awaitBlocked();

      selector.unregister(pair.server());
      SelectorKey again = selector.register(pair.server(), READ, "again");
      pair.client().sendAll(bytes("x"));

      assertThat(selecting.get()).containsExactly(new Ready(again, READ));
    }
  }

  @Test
  void closeFromAnotherThreadEndsASelectInProgressWithClosedSelector() throws Exception {
    Running<List<Ready>> selecting = inVirtualThread(() -> selector.select(null));
    selecting.awaitBlocked();

    selector.close();

    assertThat(selecting.failure()).isInstanceOf(ClosedSelectorException.class);
  }

  @Test
  void interruptingASelectThrowsInterruptedIoExceptionAndKeepsTheStatus() throws Exception {
    Running<List<Ready>> selecting =
        inVirtualThread(
            () -> {
              try {
                return selector.select(null);
              } finally {
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
              }
            });
    selecting.awaitBlocked();

    selecting.thread().interrupt();

    assertThat(selecting.failure())
        .isInstanceOf(InterruptedIOException.class)
        .hasMessage("select: interrupted");
    assertThat(selector.select(Duration.ZERO)).as("the selector still works").isEmpty();
  }

  @Test
  void interruptingASelectWaitingForItsTurnThrowsInterruptedIoException() throws Exception {
    Running<List<Ready>> first = inVirtualThread(() -> selector.select(null));
    first.awaitBlocked();
    Running<List<Ready>> second =
        inVirtualThread(
            () -> {
              try {
                return selector.select(null); // waits until the first has returned
              } finally {
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
              }
            });
    second.awaitBlocked();

    second.thread().interrupt();

    assertThat(second.failure())
        .isInstanceOf(InterruptedIOException.class)
        .hasMessage("select: interrupted");
    selector.wakeup();
    assertThat(first.get()).as("the first select goes on until woken").isEmpty();
  }

  /**
   * Python's select(timeout) returns once the timeout has passed, also while another thread selects
   * (both poll the one epoll); here selects take turns, and one whose timeout passes while it waits
   * for its turn returns an empty list. It waited for ever behind a select(null).
   */
  @ParameterizedTest(name = "timeout {0}")
  @MethodSource("timeoutsWhileAnotherSelects")
  void aSelectWhoseTimeoutPassesWhileAnotherThreadSelectsReturnsAnEmptyList(Duration timeout)
      throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      selector.register(pair.server(), READ, null);
      Running<List<Ready>> first = inVirtualThread(() -> selector.select(null));
      first.awaitBlocked();

      Running<List<Ready>> second = inVirtualThread(() -> selector.select(timeout));

      assertThat(second.get()).isEmpty();
      selector.wakeup();
      assertThat(first.get()).as("the first select goes on until woken").isEmpty();
    }
  }

  static Stream<Duration> timeoutsWhileAnotherSelects() {
    return Stream.of(TIMEOUT, Duration.ZERO);
  }

  // ---------------------------------------------------------------- with the socket's own waits

  @ParameterizedTest
  @EnumSource(Family.class)
  void aRegisteredSocketAlsoWorksInTimeoutModeAndCloses(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket socket = pair.server();
      socket.setTimeout(PROMPTLY);
      SelectorKey key = selector.register(socket, READ, null);
      Running<byte[]> receiver = inVirtualThread(() -> socket.recv(100));
      receiver.awaitBlocked(); // waits on jsock's shared poller

      pair.client().sendAll(bytes("to the waiting thread"));

      assertThat(receiver.get()).isEqualTo(bytes("to the waiting thread"));
      pair.client().sendAll(bytes("to the selector"));
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
      assertThat(socket.recv(100)).isEqualTo(bytes("to the selector"));

      // Closing a socket that both the poller and a selector know must not wait for the selector.
      inVirtualThread(
              () -> {
                socket.close();
                return null;
              })
          .get();
      assertThat(selector.select(Duration.ZERO)).isEmpty();
      assertThat(selector.getMap()).isEmpty();
      assertThat(pair.client().recv(100)).as("the peer sees the close").isEmpty();
    }
  }

  /**
   * A socket that waited in blocking mode leaves jsock's poller when it goes non-blocking (it would
   * wake a poller thread for every packet, for nobody); back in blocking mode, its next wait must
   * find its wakeups again, round after round.
   */
  @ParameterizedTest
  @EnumSource(Family.class)
  void aSocketMovedBetweenBlockingWaitsAndASelectorLoopReceivesEverything(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket socket = pair.server();
      for (int round = 0; round < 20; round++) {
        socket.setBlocking(true);
        byte[] waited = bytes("waited for, round " + round);
        Running<byte[]> receiver = inVirtualThread(() -> socket.recv(100));
        receiver.awaitBlocked();
        pair.client().sendAll(waited);
        assertThat(receiver.get()).as("round %d, blocking", round).isEqualTo(waited);

        socket.setBlocking(false);
        assertThatThrownBy(() -> socket.recv(100)).isInstanceOf(WouldBlockException.class);
        SelectorKey key = selector.register(socket, READ, null);
        byte[] selected = bytes("selected, round " + round);
        pair.client().sendAll(selected);
        assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, READ));
        assertThat(socket.recv(100)).as("round %d, non-blocking", round).isEqualTo(selected);
        selector.unregister(socket);
      }
    }
  }

  /**
   * As in Python, a receive that began in blocking mode goes on waiting when another thread makes
   * the socket non-blocking, and gets the data that comes later.
   */
  @ParameterizedTest
  @EnumSource(Family.class)
  void aReceiveWaitingWhenAnotherThreadMakesTheSocketNonBlockingStillGetsTheData(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Socket socket = pair.server();
      Running<byte[]> receiver = inVirtualThread(() -> socket.recv(100));
      receiver.awaitBlocked();

      socket.setBlocking(false);
      pair.client().sendAll(bytes("after the switch"));

      assertThat(receiver.get()).isEqualTo(bytes("after the switch"));
    }
  }

  // ---------------------------------------------------------------- errors

  @Test
  void registeringASocketTwiceThrowsIllegalArgument() throws Exception {
    try (Socket socket = Socket.create()) {
      SelectorKey key = selector.register(socket, READ, "first");

      assertThatThrownBy(() -> selector.register(socket, WRITE, "second"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("socket is already registered: " + socket);
      assertThat(selector.getKey(socket)).isEqualTo(key);
    }
  }

  @ParameterizedTest
  @MethodSource("operationsOnASocket")
  void operationsOnAnUnregisteredSocketThrowIllegalArgument(Operation operation) throws Exception {
    try (Socket socket = Socket.create();
        Socket other = Socket.create()) {
      selector.register(other, READ, null);

      assertThatThrownBy(() -> operation.run(selector, socket))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("socket is not registered: " + socket);
    }
  }

  static Stream<Named<Operation>> operationsOnASocket() {
    return Stream.of(
        Named.of("modify", (s, socket) -> s.modify(socket, READ, null)),
        Named.of("unregister", SocketSelector::unregister),
        Named.of("getKey", SocketSelector::getKey));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidEvents")
  void invalidEventsThrowIllegalArgumentNamingEvents(String text, Set<Event> events)
      throws Exception {
    try (Socket socket = Socket.create()) {
      assertThatThrownBy(() -> selector.register(socket, events, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("events must be EVENT_READ, EVENT_WRITE or both: " + text);
      assertThat(selector.getMap()).isEmpty();
      selector.register(socket, READ, null);
      assertThatThrownBy(() -> selector.modify(socket, events, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("events must be EVENT_READ, EVENT_WRITE or both: " + text);
      assertThat(selector.getKey(socket).events()).isEqualTo(READ);
    }
  }

  static Stream<Arguments> invalidEvents() {
    Set<Event> withNull = new HashSet<>();
    withNull.add(null);
    return Stream.of(
        arguments("null", null), arguments("[]", Set.of()), arguments("[null]", withNull));
  }

  @Test
  void nullSocketThrowsNullPointerNamingSocket() {
    assertThatThrownBy(() -> selector.register(null, READ, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("socket");
    assertThatThrownBy(() -> selector.modify(null, READ, null)).hasMessage("socket");
    assertThatThrownBy(() -> selector.unregister(null)).hasMessage("socket");
    assertThatThrownBy(() -> selector.getKey(null)).hasMessage("socket");
  }

  @Test
  void registeringAClosedSocketThrowsClosedSocket() throws Exception {
    Socket socket = Socket.create();
    socket.close();

    assertThatThrownBy(() -> selector.register(socket, READ, null))
        .isInstanceOf(ClosedSocketException.class)
        .hasMessage("select: socket is closed");
    assertThat(selector.getMap()).isEmpty();
  }

  @Test
  void modifyingAClosedSocketThrowsClosedSocketAndUnregistersItAsPythonDoes() throws Exception {
    Socket socket = Socket.create();
    selector.register(socket, READ, null);
    socket.close();

    assertThatThrownBy(() -> selector.modify(socket, WRITE, null))
        .isInstanceOf(ClosedSocketException.class);
    assertThat(selector.getMap()).isEmpty();
  }

  @Test
  void modifyingOnlyTheDataOfAClosedSocketSucceedsAsPythonDoes() throws Exception {
    // Python's modify asks the kernel only when the events change: the data alone is just stored
    Socket socket = Socket.create();
    selector.register(socket, READ, "before");
    socket.close();

    SelectorKey key = selector.modify(socket, READ, "after");

    assertThat(key.data()).isEqualTo("after");
    assertThat(selector.getKey(socket)).isEqualTo(key);
  }

  @Test
  void unregisteringAClosedSocketGivesItsKey() throws Exception {
    Socket socket = Socket.create();
    SelectorKey key = selector.register(socket, READ, "closed later");
    socket.close();

    assertThat(selector.unregister(socket)).isEqualTo(key);
    assertThat(selector.getMap()).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("operationsOnASelector")
  void operationsOnAClosedSelectorThrowClosedSelector(Operation operation) throws Exception {
    try (Socket socket = Socket.create()) {
      selector.register(socket, READ, null);
      selector.close();
      selector.close(); // closing twice does nothing

      assertThatThrownBy(() -> operation.run(selector, socket))
          .isInstanceOf(ClosedSelectorException.class)
          .isInstanceOf(IllegalStateException.class);
      assertThat(selector.getMap()).isEmpty();
      assertThat(socket.isClosed()).as("sockets stay open").isFalse();
    }
  }

  static Stream<Named<Operation>> operationsOnASelector() {
    return Stream.of(
        Named.of("select(null)", (s, socket) -> s.select(null)),
        Named.of("select(ZERO)", (s, socket) -> s.select(Duration.ZERO)),
        Named.of("register", (s, socket) -> s.register(socket, READ, null)),
        Named.of("modify", (s, socket) -> s.modify(socket, READ, null)),
        Named.of("unregister", SocketSelector::unregister),
        Named.of("getKey", SocketSelector::getKey));
  }

  /** One call on a selector with a socket. */
  @FunctionalInterface
  interface Operation {
    Object run(SocketSelector selector, Socket socket) throws IOException;
  }

  // ---------------------------------------------------------------- tools

  private static long openDescriptors() throws IOException {
    try (Stream<Path> entries = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
      return entries.count();
    }
  }

  /** Binds to {@code 127.0.0.1} or {@code ::1} by literal, or to a new path in the temp dir. */
  private void bindToLoopback(Socket socket) throws IOException {
    switch (socket.family()) {
      case AF_INET -> socket.bind("127.0.0.1", 0);
      case AF_INET6 -> socket.bind("::1", 0);
      case AF_UNIX -> socket.bind(Loopback.bindAddress(AF_UNIX, dir));
    }
  }

  /**
   * Binds an IP socket to loopback on a port below the ephemeral range, for a test that binds its
   * port again once it is closed: the kernel may give a closed socket's port 0 choice to any other
   * socket meanwhile, in this process or another, and that bind then fails with EADDRINUSE.
   */
  private static void bindToAnUnusedPort(Socket socket) throws IOException {
    socket.bind(
        new InetSocketAddress(
            Loopback.ip(socket.family()), Loopback.unusedPort(socket.family(), SOCK_STREAM)));
  }

  private static Family familyOf(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return inet.getAddress().getAddress().length == 4 ? AF_INET : AF_INET6;
    }
    return AF_UNIX;
  }

  private static byte[] recvToEnd(Socket socket) throws IOException {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    for (byte[] chunk = socket.recv(65536); chunk.length > 0; chunk = socket.recv(65536)) {
      received.writeBytes(chunk);
    }
    return received.toByteArray();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }

  private static byte[] randomBytes(int size) {
    byte[] data = new byte[size];
    new Random(20240611L + size).nextBytes(data);
    return data;
  }

  /**
   * The stacks of the given threads (virtual ones too) and of every platform thread, for a test
   * that found one stuck.
   */
  private static String threadDump(List<Thread> threads) {
    Map<Thread, StackTraceElement[]> stacks = new java.util.LinkedHashMap<>();
    for (Thread thread : threads) {
      stacks.put(thread, thread.getStackTrace());
    }
    stacks.putAll(Thread.getAllStackTraces());
    StringBuilder dump = new StringBuilder();
    stacks.forEach(
        (thread, frames) -> {
          dump.append(thread).append(' ').append(thread.getState()).append('\n');
          for (StackTraceElement frame : frames) {
            dump.append("    at ").append(frame).append('\n');
          }
        });
    return dump.toString();
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
