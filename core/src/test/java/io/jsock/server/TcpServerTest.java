package io.jsock.server;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_UNIX;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.AddressInUseException;
import io.jsock.ClosedSocketException;
import io.jsock.ConnectionResetException;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import io.jsock.framing.Framing;
import io.jsock.internal.Addresses;
import io.jsock.testing.CapturedLogs;
import io.jsock.testing.Echoes;
import io.jsock.testing.Echoes.Transfer;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TcpServer} on real loopback and AF_UNIX sockets: echoes checked by SHA-256 on both sides,
 * the connection limit, the first-byte and idle timeouts, graceful shutdown, statistics and handler
 * failures.
 */
class TcpServerTest {
  /** How long any single wait of these tests may take before it fails. */
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Family.class)
  void echoesTwoHundredConcurrentClientsIntactAndCountsThemExactly(Family family) throws Exception {
    echoConcurrently(family, 200, 256 * 1024);
  }

  @Test
  @Tag("load")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void echoesTwoThousandConcurrentConnectionsOfOneMebibyteEach() throws Exception {
    // 2,000 connections with both ends in this JVM hold 4,000 descriptors: well under the 20,000
    // this machine allows a process.
    echoConcurrently(AF_INET, 2_000, 1024 * 1024);
  }

  @Test
  void listensOnLoopbackOnAFreePortByDefault() throws Exception {
    try (TcpServer server = TcpServer.start(ServerConfig.defaults(), TcpServerTest::echo)) {
      InetSocketAddress address = (InetSocketAddress) server.address();
      assertThat(address.getAddress()).isEqualTo(Loopback.ip(AF_INET));
      assertThat(address.getPort()).isPositive();
      try (Socket client = connect(address)) {
        client.sendAll("ping".getBytes(UTF_8));
        assertThat(recvExactly(client, 4)).isEqualTo("ping".getBytes(UTF_8));
      }
    }
  }

  @Test
  void anEmptyHostListensOnEveryIpv4InterfaceAsPythonsSocketserverDoes() throws Exception {
    // python3: socketserver.TCPServer(("", 0), ...).server_address == ("0.0.0.0", port)
    try (TcpServer server =
        TcpServer.start(ServerConfig.defaults().withAddress("", 0), TcpServerTest::echo)) {
      InetSocketAddress address = (InetSocketAddress) server.address();
      assertThat(address.getAddress().getHostAddress()).isEqualTo("0.0.0.0");
      try (Socket client =
          connect(new InetSocketAddress(Loopback.ip(AF_INET), address.getPort()))) {
        client.sendAll("ping".getBytes(UTF_8));
        assertThat(recvExactly(client, 4)).isEqualTo("ping".getBytes(UTF_8));
      }
    }
  }

  // ServerConfig: "::" is every interface, IPv4 included, as a Python socketserver with
  // address_family AF_INET6 listens (it leaves IPV6_V6ONLY off), though Sockets.createServer,
  // as Python's create_server, makes an IPv6 server IPv6-only unless dual stack is asked for
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"::", "[::]"})
  void theIpv6WildcardListensOnEveryInterfaceIpv4Included(String host) throws Exception {
    SocketAddress wildcard =
        host.equals("::")
            ? InetSocketAddress.createUnresolved(host, 0)
            : new InetSocketAddress(InetAddress.getByName(host), 0);
    try (TcpServer server =
        TcpServer.start(ServerConfig.defaults().withAddress(wildcard), TcpServerTest::echo)) {
      int port = ((InetSocketAddress) server.address()).getPort();
      for (Family family : new Family[] {AF_INET, Family.AF_INET6}) {
        try (Socket client = connect(new InetSocketAddress(Loopback.ip(family), port))) {
          client.sendAll("ping".getBytes(UTF_8));
          assertThat(recvExactly(client, 4)).isEqualTo("ping".getBytes(UTF_8));
        }
      }
    }
  }

  @ParameterizedTest(name = "tcpNoDelay {0}")
  @ValueSource(booleans = {false, true})
  void everyConnectionHasTcpNoDelayAsConfigured(boolean noDelay) throws Exception {
    ServerConfig config = ServerConfig.defaults().withAddress("::1", 0).withTcpNoDelay(noDelay);
    Set<Boolean> seen = ConcurrentHashMap.newKeySet();
    try (TcpServer server =
        TcpServer.start(
            config,
            conn -> {
              seen.add(conn.getSockOpt(StandardSocketOptions.TCP_NODELAY));
              echo(conn);
            })) {
      for (int i = 0; i < 3; i++) {
        try (Socket client = Sockets.createConnection(server.address(), Duration.ofSeconds(10))) {
          client.sendAll(new byte[] {(byte) i});
          assertThat(client.recv(10)).containsExactly(i);
        }
      }
    }
    assertThat(seen).containsExactly(noDelay);
  }

  @Test
  void startFailsWithAddressInUseWhenThePortIsTaken() throws Exception {
    try (TcpServer first = TcpServer.start(ServerConfig.defaults(), TcpServerTest::echo)) {
      assertThatThrownBy(
              () ->
                  TcpServer.start(
                      ServerConfig.defaults().withAddress(first.address()), TcpServerTest::echo))
          .isInstanceOf(AddressInUseException.class)
          .hasMessageContaining(Addresses.format(first.address()));
    }
  }

  @Test
  void serversWithReusePortShareOneAddressAndTheKernelDealsConnectionsToEach() throws Exception {
    ServerConfig config = ServerConfig.defaults().withReusePort(true);
    try (TcpServer first = TcpServer.start(config, TcpServerTest::echo);
        TcpServer second =
            TcpServer.start(config.withAddress(first.address()), TcpServerTest::echo)) {
      assertThat(second.address()).isEqualTo(first.address());
      // The kernel picks a listener by a hash of each connection's addresses and ports: of 64
      // connections from 64 ports, all going to one of two listeners has odds of 2^-63.
      List<Socket> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 64; i++) {
          Socket client = connect(first.address());
          clients.add(client);
          assertEchoes(client, "connection " + i);
        }
        assertThat(first.stats().accepted() + second.stats().accepted()).isEqualTo(64);
        assertThat(first.stats().accepted()).as("the first server's share").isPositive();
        assertThat(second.stats().accepted()).as("the second server's share").isPositive();
      } finally {
        Loopback.closeAll(clients);
      }
      // A server without the option still finds the address taken.
      assertThatThrownBy(
              () ->
                  TcpServer.start(
                      ServerConfig.defaults().withAddress(first.address()), TcpServerTest::echo))
          .isInstanceOf(AddressInUseException.class);
    }
  }

  @Test
  void refusesConnectionsBeyondTheLimitAtOnceWhileServingTheOthers() throws Exception {
    int limit = 5;
    int extra = 20;
    ServerConfig config = ServerConfig.defaults().withMaxConnections(limit);
    List<Socket> served = new ArrayList<>();
    try (TcpServer server = TcpServer.start(config, TcpServerTest::echo)) {
      for (int i = 0; i < limit; i++) {
        served.add(connect(server.address()));
        assertEchoes(served.getLast(), "served " + i); // its handler runs: it holds a permit
      }

      long start = System.nanoTime();
      for (int i = 0; i < extra; i++) {
        assertRefused(server.address());
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("time to refuse %d connections", extra)
          .isLessThan(Duration.ofSeconds(5));
      ServerStats stats = server.stats();
      assertThat(stats.open()).isEqualTo(limit);
      assertThat(stats.accepted()).isEqualTo(limit);
      assertThat(stats.refused()).isEqualTo(extra);
      assertThat(stats.timedOut()).isZero();

      for (int i = 0; i < limit; i++) {
        assertEchoes(served.get(i), "still served " + i);
      }
      served.removeFirst().close();
      await().atMost(LIMIT).until(() -> server.stats().open() == limit - 1);
      try (Socket next = connect(server.address())) {
        assertEchoes(next, "a permit was free again");
      }
      assertThat(server.stats().accepted()).isEqualTo(limit + 1);
      assertThat(server.stats().refused()).isEqualTo(extra);
      Loopback.closeAll(served); // before the server, so that it need not wait out its grace period
    } finally {
      Loopback.closeAll(served);
    }
  }

  @Test
  void aRefusalIsLoggedWithTheLimitInWords() throws Exception {
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        TcpServer server = TcpServer.start(config, TcpServerTest::echo);
        Socket served = connect(server.address())) {
      assertEchoes(served, "served"); // its handler runs: it holds the one permit
      assertRefused(server.address());

      await().atMost(LIMIT).until(() -> !logs.at(Level.INFO).isEmpty());
      assertThat(logs.at(Level.INFO).getFirst().getMessage())
          .isEqualTo(
              "accept on "
                  + Addresses.format(server.address())
                  + ": 1 connection open (maxConnections), refusing more");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"the refusal's line, once", "every line"})
  void aLogLineThatFailsDoesNotEndTheAcceptLoop(String failing) throws Exception {
    // The refusal's log line fails with an Error (an OutOfMemoryError building or writing it), or
    // every line the server logs fails (a log handler that throws): the refusal's line and then
    // the backoff's own warning about it. The lines are lost, the refused connection is reset all
    // the same, and the intake goes on (the loop ended, and every later client waited in the
    // backlog of a server that said it ran; start left its listener open when its first line
    // failed)
    boolean everyLine = failing.equals("every line");
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    AtomicBoolean failed = new AtomicBoolean();
    java.util.logging.Handler handler =
        new java.util.logging.Handler() {
          @Override
          public void publish(LogRecord record) {
            if (everyLine) {
              throw new IllegalStateException("test: a log handler that fails");
            }
            if (record.getMessage().contains("refusing more")
                && failed.compareAndSet(false, true)) {
              throw new OutOfMemoryError("test: no memory to log the refusal");
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.jsock.server");
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      logger.addHandler(handler);
      try (TcpServer server = TcpServer.start(config, TcpServerTest::echo)) {
        try (Socket served = connect(server.address())) {
          assertEchoes(served, "served"); // its handler runs: it holds the one permit
          assertRefused(server.address());
        }
        await().atMost(LIMIT).until(() -> server.stats().open() == 0);
        for (int i = 0; i < 2; i++) { // the second after the recovery's line, which may fail too
          try (Socket client = connect(server.address())) {
            client.setTimeout(Duration.ofSeconds(10));
            assertEchoes(client, "served after the failed line " + i);
          }
          await().atMost(LIMIT).until(() -> server.stats().open() == 0);
        }
        assertThat(server.stats().refused()).isEqualTo(1);
        assertThat(server.stats().accepted()).isEqualTo(3);
      } finally {
        logger.removeHandler(handler);
      }
    }
  }

  @Test
  void everyRefusalIsCountedInTheLogByTheTimeTheServerHasStopped() throws Exception {
    // The refusals are logged at most once a second, each line counting the ones left out since
    // the last; those after the last line were never told (a burst of 20 within a second gave
    // one line saying one refusal, with stats().refused() at 20)
    int extra = 20;
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    List<LogRecord> records;
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      try (TcpServer server = TcpServer.start(config, TcpServerTest::echo);
          Socket served = connect(server.address())) {
        assertEchoes(served, "served"); // its handler runs: it holds the one permit
        for (int i = 0; i < extra; i++) {
          assertRefused(server.address());
        }
        assertThat(server.stats().refused()).isEqualTo(extra);
        served.close(); // before the server, so that it need not wait out its grace period
      }
      records = logs.at(Level.INFO);
    }
    Pattern line =
        Pattern.compile(
            "accept on .*: 1 connection open \\(maxConnections\\), refusing more"
                + "(?: \\((\\d+) more since the last report\\))?");
    long told = 0;
    for (LogRecord record : records) {
      Matcher matcher = line.matcher(record.getMessage());
      if (matcher.matches()) {
        told += 1 + (matcher.group(1) == null ? 0 : Long.parseLong(matcher.group(1)));
      }
    }
    assertThat(told).as("refusals told by %s", records).isEqualTo(extra);
  }

  @Test
  void aConnectionTheServerHasClosedNoLongerCountsAgainstTheLimit() throws Exception {
    // One connection at a time, each closed by the server once its handler has replied: when the
    // client sees the end of its stream, the handler is done, so the next client is served.
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    try (TcpServer server = TcpServer.start(config, conn -> conn.sendAll(conn.recv(100)))) {
      for (int i = 0; i < 200; i++) {
        try (Socket client = connect(server.address())) {
          client.setTimeout(LIMIT);
          assertEchoes(client, "client " + i);
          assertThat(client.recv(1)).as("end of stream for client %d", i).isEmpty();
          assertThat(server.stats().open()).as("open after client %d saw the close", i).isZero();
        }
      }
      assertThat(server.stats().refused()).isZero();
      assertThat(server.stats().accepted()).isEqualTo(200);
    }
  }

  @Test
  void firstByteDeadlineResetsASilentConnectionAndSparesOneThatSpoke() throws Exception {
    Duration deadline = Duration.ofMillis(400);
    ServerConfig config = ServerConfig.defaults().withFirstByteTimeout(deadline);
    try (TcpServer server = TcpServer.start(config, TcpServerTest::echo);
        Socket speaker = connect(server.address())) {
      assertEchoes(speaker, "hello");

      long start = System.nanoTime();
      try (Socket silent = connect(server.address())) {
        assertThatThrownBy(() -> silent.recv(1)).isInstanceOf(ConnectionResetException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
            .isGreaterThanOrEqualTo(deadline)
            .isLessThan(deadline.plusSeconds(5));
      }
      assertThat(server.stats().timedOut()).isEqualTo(1);
      // The speaker was accepted first, so its deadline has passed too; it is still served.
      assertEchoes(speaker, "still here");
      assertThat(server.stats().timedOut()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_UNIX"})
  void firstByteDeadlineSparesAClientThatSpokeWhileItsHandlerWasLate(Family family)
      throws Exception {
    // AF_UNIX too: the server counts unread bytes with FIONREAD, through StreamCalls (FFM, Linux)
    // or, on the portable path, the JDK channel's stream (AF_UNIX's channel has no socket adaptor)
    Duration deadline = Duration.ofMillis(200);
    CountDownLatch handlerMayStart = new CountDownLatch(1);
    try (TcpServer server = lateEchoServer(family, deadline, handlerMayStart);
        Socket client = connect(server.address());
        Socket silent = connect(server.address())) {
      client.sendAll("early".getBytes(UTF_8)); // in the server's kernel buffer, unread

      await().pollDelay(deadline.multipliedBy(3)).atMost(LIMIT).until(() -> true);
      handlerMayStart.countDown();

      assertThat(client.recv(100)).isEqualTo("early".getBytes(UTF_8));
      assertThat(server.stats().timedOut()).as("the silent one only").isEqualTo(1);
      silent.setTimeout(LIMIT);
      if (family == Family.AF_UNIX) {
        assertThat(silent.recv(1)).as("AF_UNIX has no reset: closed").isEmpty();
      } else {
        assertThatThrownBy(() -> silent.recv(1)).isInstanceOf(ConnectionResetException.class);
      }
    }
  }

  // the end of a stream is no first byte: the unread-data check counts bytes (FIONREAD) on both
  // paths, where the portable path asked AF_UNIX a selector, whose readiness at the end of the
  // stream spared the client there only
  @ParameterizedTest
  @EnumSource(
      value = Family.class,
      names = {"AF_INET", "AF_UNIX"})
  void firstByteDeadlineCountsAClientThatEndedItsStreamWithoutAByteAsSilent(Family family)
      throws Exception {
    CountDownLatch handlerMayStart = new CountDownLatch(1);
    try (TcpServer server = lateEchoServer(family, Duration.ofMillis(200), handlerMayStart);
        Socket ended = connect(server.address())) {
      ended.shutdown(Shutdown.SHUT_WR);

      await().atMost(LIMIT).until(() -> server.stats().timedOut() == 1);
      handlerMayStart.countDown();
    }
  }

  /**
   * An echo server whose handlers wait for {@code handlersMayStart}, as handlers starved of CPU
   * under load would: its first-byte deadline finds nothing received and asks what the kernel holds
   * unread.
   */
  private TcpServer lateEchoServer(
      Family family, Duration firstByteTimeout, CountDownLatch handlersMayStart)
      throws IOException {
    ServerConfig config =
        ServerConfig.defaults()
            .withAddress(Loopback.bindAddress(family, dir))
            .withFirstByteTimeout(firstByteTimeout);
    return TcpServer.start(
        config,
        conn -> {
          handlersMayStart.await();
          echo(conn);
        });
  }

  @Test
  void aFirstByteTimeoutLongerThanNanosecondsCanCountIsNoDeadlineAndTheServerKeepsAccepting()
      throws Exception {
    // ChronoUnit.FOREVER's duration: what a user reaches for to turn a deadline off
    ServerConfig config =
        ServerConfig.defaults().withFirstByteTimeout(ChronoUnit.FOREVER.getDuration());
    try (TcpServer server = TcpServer.start(config, TcpServerTest::echo)) {
      for (int i = 0; i < 3; i++) {
        try (Socket client = connect(server.address())) {
          assertEchoes(client, "client " + i);
        }
      }
      assertThat(server.stats().accepted()).isEqualTo(3);
      server.shutdown(Duration.ofSeconds(1));
      assertThat(server.awaitTermination(LIMIT)).isTrue();
    }
  }

  @Test
  void aLineOverTheFramingsMaximumEndsThatConnectionAndIsCounted() throws Exception {
    ServerConfig config = ServerConfig.defaults();
    try (TcpServer server =
            TcpServer.start(
                config,
                conn -> {
                  var lines = Framing.lines(16).on(conn);
                  while (true) {
                    lines.sendMsg(lines.recvMsg());
                  }
                });
        Socket polite = connect(server.address());
        Socket flooding = connect(server.address())) {
      flooding.sendAll("x".repeat(100).getBytes(UTF_8)); // no newline within 16 bytes

      await().atMost(LIMIT).until(() -> server.stats().oversized() == 1);
      assertThat(flooding.recv(10)).isEmpty(); // the server closed it
      polite.sendAll("short\n".getBytes(UTF_8));
      assertThat(polite.recv(10)).isEqualTo("short\n".getBytes(UTF_8));
      assertThat(server.stats().oversized()).isEqualTo(1);
    }
  }

  @Test
  void idleTimeoutEndsAConnectionOnlyOnceItFallsSilent() throws Exception {
    Duration idle = Duration.ofSeconds(1);
    int trickle = 15; // a byte every 100 ms: 1.5 s in all, never idle for a whole second
    ServerConfig config = ServerConfig.defaults().withIdleTimeout(idle);
    AtomicLong lastSent = new AtomicLong();
    AtomicInteger sent = new AtomicInteger();
    try (TcpServer server = TcpServer.start(config, TcpServerTest::echo);
        Socket client = connect(server.address());
        ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor()) {
      ScheduledFuture<?> trickling =
          pace.scheduleAtFixedRate(
              () -> {
                int i = sent.get();
                if (i < trickle) {
                  // Taken before the send, so that the server's silence starts after it: taken
                  // after, a pause of this thread (under load) came off the silence measured.
                  lastSent.set(System.nanoTime());
                  try {
                    client.sendAll(new byte[] {(byte) i});
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                  sent.incrementAndGet();
                }
              },
              0,
              100,
              TimeUnit.MILLISECONDS);
      for (int i = 0; i < trickle; i++) {
        assertThat(client.recv(1)).as("echo of byte %d", i).containsExactly((byte) i);
      }
      trickling.cancel(false);

      assertThat(client.recv(1)).as("end of stream once idle").isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - lastSent.get()))
          .isGreaterThanOrEqualTo(idle)
          .isLessThan(idle.plusSeconds(5));
      await().atMost(LIMIT).until(() -> server.stats().timedOut() == 1);
    }
  }

  @Test
  void writeTimeoutEndsASendToAClientThatStopsReadingAndServesTheOthers() throws Exception {
    Duration write = Duration.ofSeconds(1);
    ServerConfig config = ServerConfig.defaults().withWriteTimeout(write); // idle stays 5 minutes
    CountDownLatch flooding = new CountDownLatch(1);
    AtomicReference<Throwable> sendFailure = new AtomicReference<>();
    AtomicLong sendTook = new AtomicLong();
    CountDownLatch sendEnded = new CountDownLatch(1);
    ConnectionHandler handler =
        conn -> {
          byte[] command = conn.recv(1);
          if (command.length == 1 && command[0] == 'F') {
            byte[] flood = new byte[64 * 1024 * 1024]; // far more than loopback buffers hold
            flooding.countDown();
            long start = System.nanoTime();
            try {
              conn.sendAll(flood);
            } catch (IOException e) {
              sendFailure.set(e);
              throw e;
            } finally {
              sendTook.set(System.nanoTime() - start);
              sendEnded.countDown();
            }
          } else {
            conn.sendAll(command);
            echo(conn);
          }
        };
    try (TcpServer server = TcpServer.start(config, handler);
        Socket stalled = connect(server.address())) {
      stalled.sendAll(new byte[] {'F'}); // and never reads
      awaitLatch(flooding);
      try (Socket other = connect(server.address())) {
        assertEchoes(other, "served while another send stalls");
      }
      awaitLatch(sendEnded);
      assertThat(sendFailure.get())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageStartingWith("send to ");
      assertThat(Duration.ofNanos(sendTook.get()))
          .isGreaterThanOrEqualTo(write)
          .isLessThan(write.plusSeconds(10));
      await().atMost(LIMIT).until(() -> server.stats().timedOut() == 1);
      try (Socket after = connect(server.address())) {
        assertEchoes(after, "served after the timeout");
      }
      assertThat(server.stats().timedOut()).isEqualTo(1);
    }
  }

  @Test
  void aConnectionWhoseReplyWaitedTheWriteTimeoutIsResetNotLeftToTheKernel() throws Exception {
    int size = 8 * 1024 * 1024; // far more than loopback buffers hold
    ServerConfig config = ServerConfig.defaults().withWriteTimeout(Duration.ofSeconds(1));
    ConnectionHandler flood =
        conn -> {
          conn.recv(1);
          conn.sendAll(new byte[size]);
        };
    try (TcpServer server = TcpServer.start(config, flood);
        Socket stalled = connect(server.address())) {
      stalled.sendAll(new byte[] {'F'}); // then reads nothing until the send has timed out
      await().atMost(LIMIT).until(() -> server.stats().timedOut() == 1);
      // A plain close queued a FIN behind the unsent reply, and the kernel went on sending it all
      // to a client the server had given up on; a reset ends it: what was queued, then the reset.
      byte[] buf = new byte[64 * 1024];
      assertThatThrownBy(
              () -> {
                long total = 0;
                for (int i = 0; i <= size; i++) { // bounded: each recv takes at least a byte
                  int n = stalled.recvInto(buf, 0);
                  if (n == 0) {
                    break;
                  }
                  total += n;
                }
                throw new AssertionError("end of stream after " + total + " of " + size + " bytes");
              })
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  @Test
  void aHandlerThatSendsItsReplyAfterASendTimedOutHasItsConnectionClosedNotReset()
      throws Exception {
    ServerConfig config = ServerConfig.defaults().withWriteTimeout(Duration.ofMillis(300));
    AtomicLong first = new AtomicLong(-1);
    ConnectionHandler patient =
        conn -> {
          conn.recv(1);
          byte[] chunk = new byte[16 * 1024];
          long sent = 0;
          for (int i = 0; i < 100_000; i++) { // bounded: until the client's silence times out
            try {
              sent += conn.send(chunk);
            } catch (SocketTimeoutException e) {
              break;
            }
          }
          first.set(sent);
          // the client reads again: the handler sends the rest of its reply, as Python code that
          // catches a send's timeout and tries again may, and ends with its reply all queued
          ByteBuffer end = ByteBuffer.wrap("END".getBytes(UTF_8));
          for (int i = 0; i < 1000 && end.hasRemaining(); i++) {
            try {
              conn.send(end);
            } catch (SocketTimeoutException e) {
              // not yet
            }
          }
        };
    try (TcpServer server = TcpServer.start(config, patient);
        Socket client = Socket.create(AF_INET, SocketKind.SOCK_STREAM)) {
      client.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096); // the reply waits at the server
      client.setTimeout(LIMIT);
      client.connect(server.address());
      client.sendAll(new byte[] {'F'});
      await().atMost(LIMIT).until(() -> first.get() >= 0);
      long expected = first.get() + 3;
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      while (total < first.get() / 2) { // bounded: each recv takes at least a byte
        int n = client.recvInto(buf, 0);
        assertThat(n).isPositive();
        total += n;
      }
      // the handler ends with the rest of its reply in its socket's send queue; a reset lost it
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      for (long i = 0; i <= expected; i++) { // bounded: each recv takes at least a byte
        int n = client.recvInto(buf, 0);
        if (n == 0) {
          break;
        }
        total += n;
      }
      assertThat(total).isEqualTo(expected);
      assertThat(server.stats().timedOut()).isZero();
    }
  }

  @Test
  void aClientSilentLongerThanTheWriteTimeoutButWithinTheIdleTimeoutIsNotCutOff() throws Exception {
    Duration write = Duration.ofMillis(300);
    ServerConfig config =
        ServerConfig.defaults().withWriteTimeout(write).withIdleTimeout(Duration.ofSeconds(30));
    try (TcpServer server = TcpServer.start(config, TcpServerTest::echo);
        Socket client = connect(server.address())) {
      assertEchoes(client, "hello");
      // Silent for three write timeouts: a server that bounded its recv by the write timeout
      // would close the connection meanwhile, and this recv would see the end of the stream.
      client.setTimeout(write.multipliedBy(3));
      assertThatThrownBy(() -> client.recv(1)).isInstanceOf(SocketTimeoutException.class);
      client.setTimeout(LIMIT);
      assertEchoes(client, "still here");
      assertThat(server.stats().timedOut()).isZero();
    }
  }

  @Test
  void shutdownLetsTransfersInFlightFinishIntactAndResetsStalledConnections() throws Exception {
    int transfers = 8;
    int stalled = 3;
    int size = 2 * 1024 * 1024;
    Duration grace = Duration.ofSeconds(2);
    DigestingEcho echo = new DigestingEcho();
    CountDownLatch halfway = new CountDownLatch(transfers);
    CountDownLatch shutdownBegun = new CountDownLatch(1);
    try (TcpServer server = TcpServer.start(onAnUnusedPort(), echo);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      SocketAddress address = server.address();
      List<Future<Transfer>> inFlight = new ArrayList<>();
      for (int i = 0; i < transfers; i++) {
        long seed = i;
        inFlight.add(
            clients.submit(
                () ->
                    Echoes.exchange(
                        connect(address),
                        seed,
                        size,
                        () -> {
                          halfway.countDown();
                          awaitLatch(shutdownBegun);
                        })));
      }
      List<Future<Long>> resets = new ArrayList<>();
      for (int i = 0; i < stalled; i++) {
        Socket quiet = connect(address);
        assertEchoes(quiet, "then nothing");
        resets.add(
            clients.submit(
                () -> {
                  try (quiet) {
                    assertThatThrownBy(() -> quiet.recv(1))
                        .isInstanceOf(ConnectionResetException.class);
                    return System.nanoTime();
                  }
                }));
      }
      assertThat(halfway.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      long start = System.nanoTime();
      Future<Long> shutdown =
          clients.submit(
              () -> {
                server.shutdown(grace);
                return System.nanoTime();
              });
      await().atMost(LIMIT).until(server::isShutdown);
      await().atMost(LIMIT).until(() -> refuses(address)); // the listener closed at once
      shutdownBegun.countDown();

      List<String> sent = new ArrayList<>();
      for (Future<Transfer> transfer : inFlight) {
        Transfer t = transfer.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(t.intact()).as("transfer %s", t).isTrue();
        assertThat(t.receivedBytes()).isEqualTo(size);
        sent.add(t.sent());
      }
      assertThat(echo.received).containsAll(sent);

      long returned = shutdown.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(returned - start))
          .as("shutdown waited for the stalled connections, and no longer")
          .isGreaterThanOrEqualTo(grace)
          .isLessThan(grace.plusSeconds(5)); // not for ever; a loaded machine may stall
      for (Future<Long> reset : resets) {
        assertThat(Duration.ofNanos(reset.get(LIMIT.toSeconds(), TimeUnit.SECONDS) - start))
            .as("reset after the grace period")
            .isGreaterThanOrEqualTo(grace);
      }
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      assertThat(server.stats().open()).isZero();
      assertThat(server.stats().accepted()).isEqualTo(transfers + stalled);
    }
  }

  @Test
  void closeReturnsWithinGracePlusOneSecondWhenAHandlerIgnoresInterrupts() throws Exception {
    Duration grace = Duration.ofMillis(500);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ConnectionHandler stubborn =
        conn -> {
          entered.countDown();
          while (true) {
            try {
              release.await();
              return;
            } catch (InterruptedException e) {
              interrupted.countDown(); // and carry on waiting
            }
          }
        };
    TcpServer server = TcpServer.start(ServerConfig.defaults().withShutdownGrace(grace), stubborn);
    try (Socket client = connect(server.address())) {
      assertThat(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      long start = System.nanoTime();
      server.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(grace.plusSeconds(1)) // the handler never ends by itself
          .isLessThan(grace.plusSeconds(6)); // not for ever; a loaded machine may stall
      assertThat(interrupted.getCount()).as("handler interrupted").isZero();
      assertThatThrownBy(() -> client.recv(1)).isInstanceOf(ConnectionResetException.class);
      assertThat(server.awaitTermination(Duration.ZERO)).isFalse();

      release.countDown();
      assertThat(server.awaitTermination(LIMIT)).isTrue();
    } finally {
      release.countDown();
    }
  }

  @Test
  void aHandlerMayShutItsOwnServerDownWithoutWaitingForItself() throws Exception {
    AtomicReference<TcpServer> self = new AtomicReference<>();
    ConnectionHandler stopper =
        conn -> {
          conn.recv(16);
          self.get().shutdown(Duration.ofSeconds(30));
          conn.sendAll("stopped".getBytes(UTF_8)); // its own connection is left alone
        };
    try (TcpServer server = TcpServer.start(onAnUnusedPort(), stopper);
        Socket client = connect(server.address())) {
      self.set(server);
      long start = System.nanoTime();
      client.sendAll("stop".getBytes(UTF_8));
      assertThat(recvExactly(client, 7)).isEqualTo("stopped".getBytes(UTF_8));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(server.awaitTermination(LIMIT)).isTrue();
      assertThat(refuses(server.address())).isTrue();
    }
  }

  @Test
  void eachHandlerRunsOnAVirtualThreadNamedAfterItsConnection() throws Exception {
    ConnectionHandler naming =
        conn -> {
          Thread me = Thread.currentThread();
          conn.sendAll((me.isVirtual() + " " + me.getName()).getBytes(UTF_8));
        };
    try (TcpServer server = TcpServer.start(ServerConfig.defaults(), naming);
        Socket client = connect(server.address())) {
      String expected =
          "true jsock connection from "
              + Addresses.format(client.getSockName())
              + " to "
              + Addresses.format(server.address());
      assertThat(new String(recvExactly(client, expected.length()), UTF_8)).isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"closes its socket", "makes its socket non-blocking"})
  void aHandlersMisuseOfItsOwnSocketIsLoggedAsItsFailureNotAsThePeers(String misuse)
      throws Exception {
    // No peer closes or blocks the server's socket object: these are the handler's own failures,
    // logged at WARNING with the stack trace, not at INFO as a reset or a broken pipe is.
    ConnectionHandler misusing =
        conn -> {
          if (misuse.startsWith("closes")) {
            conn.close();
          } else {
            conn.setBlocking(false);
          }
          conn.recv(16); // the client sends nothing
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        TcpServer server = TcpServer.start(ServerConfig.defaults(), misusing);
        Socket client = connect(server.address())) {
      assertThat(client.recv(16)).as("closed after the failure").isEmpty();
      await()
          .atMost(LIMIT)
          .until(() -> !logs.at(Level.INFO).isEmpty() || !logs.at(Level.WARNING).isEmpty());
      assertThat(logs.at(Level.INFO)).as("nothing said to be the peer's doing").isEmpty();
      assertThat(logs.at(Level.WARNING)).hasSize(1);
      LogRecord record = logs.at(Level.WARNING).getFirst();
      assertThat(record.getMessage())
          .startsWith(
              "connection from "
                  + Addresses.format(client.getSockName())
                  + " to "
                  + Addresses.format(server.address())
                  + ": handler failed: ");
      assertThat(record.getThrown())
          .isInstanceOf(
              misuse.startsWith("closes")
                  ? ClosedSocketException.class
                  : WouldBlockException.class);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"an exception", "a stack overflow"})
  void aHandlersFailureIsLoggedOnceWithThePeerAndTheServerGoesOn(String failure) throws Exception {
    // An Error too: Python's ThreadingTCPServer gives a handler's RecursionError (or MemoryError)
    // to handle_error as any other failure; a StackOverflowError went past the server's logger to
    // the thread's uncaught-exception handler, printed on System.err, out of the server's log.
    Throwable thrown =
        failure.equals("an exception")
            ? new IllegalStateException("handler bug")
            : new StackOverflowError("handler recursed too deep");
    ConnectionHandler failing =
        conn -> {
          byte[] request = conn.recv(16);
          if (new String(request, UTF_8).equals("fail")) {
            if (thrown instanceof Error error) {
              throw error;
            }
            throw (RuntimeException) thrown;
          }
          conn.sendAll(request);
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        TcpServer server = TcpServer.start(ServerConfig.defaults(), failing)) {
      String peer;
      try (Socket client = connect(server.address())) {
        peer = Addresses.format(client.getSockName());
        client.sendAll("fail".getBytes(UTF_8));
        assertThat(client.recv(16)).as("closed after the failure").isEmpty();
      }
      await().atMost(LIMIT).until(() -> !logs.at(Level.WARNING).isEmpty());
      LogRecord record = logs.at(Level.WARNING).getFirst();
      assertThat(record.getMessage())
          .startsWith(
              "connection from "
                  + peer
                  + " to "
                  + Addresses.format(server.address())
                  + ": handler failed: ")
          .contains(thrown.getMessage());
      assertThat(record.getThrown()).isSameAs(thrown);

      try (Socket client = connect(server.address())) {
        assertEchoes(client, "ping");
      }
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      assertThat(logs.at(Level.WARNING)).as("logged once").hasSize(1);
      assertThat(server.stats().accepted()).isEqualTo(2);
      assertThat(server.isShutdown()).isFalse();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"the peer resets", "the idle timeout passes"})
  void aFailureMetThroughBufferedReaderLinesIsToldAsTheSameFailureMetDirectly(String failure)
      throws Exception {
    // BufferedReader.lines(), the JDK's way to read a stream of lines, hands a recv's IOException
    // on wrapped in an UncheckedIOException: the peer's reset is still the peer's doing (INFO), an
    // idle timeout still a timeout (DEBUG, counted), not a handler's bug.
    ConnectionHandler lineEcho =
        conn -> {
          java.io.BufferedReader lines = conn.makeFile("r");
          lines
              .lines()
              .forEach(
                  line -> {
                    try {
                      conn.sendAll((line + "\n").getBytes(UTF_8));
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  });
        };
    boolean reset = failure.startsWith("the peer");
    ServerConfig config =
        ServerConfig.defaults().withIdleTimeout(Duration.ofMillis(reset ? 60_000 : 500));
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        TcpServer server = TcpServer.start(config, lineEcho);
        Socket client = connect(server.address())) {
      String peer = Addresses.format(client.getSockName());
      assertEchoes(client, "hello\n");
      if (reset) {
        client.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        client.close();
      } else {
        assertThat(client.recv(16)).as("closed once idle").isEmpty();
      }
      // the connection stops counting as open when its handler ends, before the failure is told
      // (logged, counted): wait for its record, which every way of ending writes, at some level
      String told = "connection from " + peer + " to ";
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  server.stats().open() == 0
                      && logs.all().stream()
                          .anyMatch(r -> String.valueOf(r.getMessage()).startsWith(told)));
      assertThat(logs.at(Level.WARNING)).as("no handler failure").isEmpty();
      if (reset) {
        assertThat(logs.at(Level.INFO)).hasSize(1);
        assertThat(logs.at(Level.INFO).getFirst().getMessage())
            .startsWith("connection from " + peer + " to " + Addresses.format(server.address()))
            .endsWith("connection reset by peer");
      } else {
        assertThat(logs.at(Level.INFO)).isEmpty();
        assertThat(server.stats().timedOut()).isEqualTo(1);
      }
    }
  }

  @Test
  void statsCountOpenConnectionsAndEveryByteExactly() throws Exception {
    Duration idle = Duration.ofSeconds(42);
    AtomicReference<Duration> handlerTimeout = new AtomicReference<>();
    ConnectionHandler echo =
        conn -> {
          handlerTimeout.set(conn.getTimeout());
          echo(conn);
        };
    int[] sizes = {1000, 2000, 3000};
    try (TcpServer server = TcpServer.start(ServerConfig.defaults().withIdleTimeout(idle), echo)) {
      assertThat(server.stats()).isEqualTo(new ServerStats(0, 0, 0, 0, 0, 0, 0, 0));
      List<Socket> clients = new ArrayList<>();
      try {
        Random random = new Random(7);
        for (int size : sizes) {
          Socket client = connect(server.address());
          clients.add(client);
          byte[] data = new byte[size];
          random.nextBytes(data);
          client.sendAll(data);
          assertThat(recvExactly(client, size)).isEqualTo(data);
        }
        // A byte is counted just after the kernel takes it, so the peer may see it a moment
        // before the count does: wait for the counts to reach the exact figures.
        ServerStats expected = new ServerStats(3, 3, 0, 0, 6000, 6000, 0, 0);
        await().atMost(LIMIT).until(server::stats, expected::equals);
      } finally {
        for (Socket client : clients) {
          client.close();
        }
      }
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      assertThat(server.stats()).isEqualTo(new ServerStats(0, 3, 0, 0, 6000, 6000, 0, 0));
      assertThat(handlerTimeout.get()).as("the handler's socket timeout").isEqualTo(idle);
    }
  }

  @Test
  void aUnixServerRemovesItsSocketFileWhenItStops() throws Exception {
    UnixDomainSocketAddress address = (UnixDomainSocketAddress) Loopback.bindAddress(AF_UNIX, dir);
    TcpServer server =
        TcpServer.start(ServerConfig.defaults().withAddress(address), TcpServerTest::echo);
    try (server) {
      assertThat(server.address()).isEqualTo(address);
      assertThat(address.getPath()).exists();
      try (Socket client = connect(address)) {
        assertEchoes(client, "over AF_UNIX");
      }
    }
    assertThat(server.isShutdown()).isTrue();
    assertThat(address.getPath()).doesNotExist();
  }

  @Test
  void closingAStoppedUnixServerAgainLeavesTheFileOfTheServerNowAtItsPathAlone() throws Exception {
    UnixDomainSocketAddress address = (UnixDomainSocketAddress) Loopback.bindAddress(AF_UNIX, dir);
    ServerConfig config = ServerConfig.defaults().withAddress(address);
    TcpServer first = TcpServer.start(config, TcpServerTest::echo);
    first.shutdown(Duration.ZERO);
    assertThat(address.getPath()).doesNotExist();
    try (TcpServer second = TcpServer.start(config, TcpServerTest::echo)) {
      first.close(); // as try-with-resources does after an explicit shutdown
      first.shutdown(Duration.ZERO);
      assertThat(address.getPath()).exists();
      try (Socket client = connect(address)) {
        assertEchoes(client, "still the second server");
      }
    }
    assertThat(address.getPath()).doesNotExist();
  }

  @Test
  void aUnixServerWhoseFileWasReplacedLeavesTheNewServersFileAloneWhenItStops() throws Exception {
    UnixDomainSocketAddress address = (UnixDomainSocketAddress) Loopback.bindAddress(AF_UNIX, dir);
    ServerConfig config = ServerConfig.defaults().withAddress(address);
    TcpServer old = TcpServer.start(config, TcpServerTest::echo);
    try {
      Files.delete(address.getPath()); // as `rm -f` before starting a new instance
      try (TcpServer replacement = TcpServer.start(config, TcpServerTest::echo)) {
        old.close();
        assertThat(address.getPath()).exists();
        try (Socket client = connect(address)) {
          assertEchoes(client, "the replacement still serves");
        }
      }
      assertThat(address.getPath()).doesNotExist();
    } finally {
      old.close();
    }
  }

  @Test
  void shutdownRejectsANegativeGraceNamingIt() throws Exception {
    try (TcpServer server = TcpServer.start(ServerConfig.defaults(), TcpServerTest::echo)) {
      assertThatThrownBy(() -> server.shutdown(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("grace must not be negative: PT-1S");
      assertThatThrownBy(() -> server.shutdown(null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("grace");
      assertThat(server.isShutdown()).isFalse();
      try (Socket client = connect(server.address())) {
        assertEchoes(client, "still serving");
      }
    }
  }

  @Test
  void shutdownWhileHandlersWaitInRecvEndsThemAfterTheGraceAndLeaksNoDescriptorOrThread()
      throws Exception {
    try (TcpServer warmUp = TcpServer.start(ServerConfig.defaults(), TcpServerTest::echo);
        Socket client = connect(warmUp.address())) {
      assertEchoes(client, "the poller's own descriptors exist before the count starts");
    }
    long descriptorsBefore = openDescriptors();
    int clients = 20;
    Duration grace = Duration.ofMillis(300);
    Set<Thread> handlers = ConcurrentHashMap.newKeySet();
    List<Throwable> ended = java.util.Collections.synchronizedList(new ArrayList<>());
    ConnectionHandler waitsInRecv =
        conn -> {
          handlers.add(Thread.currentThread());
          try {
            conn.recv(1); // the clients never send
          } catch (IOException e) {
            ended.add(e);
            throw e;
          }
        };
    TcpServer server =
        TcpServer.start(ServerConfig.defaults().withShutdownGrace(grace), waitsInRecv);
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        sockets.add(connect(server.address()));
      }
      await().atMost(LIMIT).until(() -> handlers.size() == clients);

      long start = System.nanoTime();
      server.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(grace) // they had their chance
          .isLessThan(grace.plusSeconds(5)); // not for ever; a loaded machine may stall
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      // Every handler has returned; its thread leaves the server's set in its last lines, so it
      // may still be finishing: each must end (a leaked thread would not); a loaded machine may
      // take its time to run those lines, so the wait is generous.
      for (Thread handler : handlers) {
        assertThat(handler.join(LIMIT)).as("%s ended", handler).isTrue();
      }
      assertThat(handlers).noneMatch(Thread::isAlive);
      assertThat(ended).hasSize(clients);
      assertThat(server.stats().open()).isZero();
      for (Socket client : sockets) {
        assertThatThrownBy(() -> client.recv(1)).isInstanceOf(ConnectionResetException.class);
      }
    } finally {
      for (Socket client : sockets) {
        client.close();
      }
    }
    await().atMost(LIMIT).until(() -> openDescriptors() <= descriptorsBefore);
  }

  // jsock echo's second Ctrl-C interrupts its stop thread: the grace period must end there
  @Test
  void interruptingTheShutdownEndsTheGraceAtOnceResetsWhatIsLeftAndKeepsTheInterrupt()
      throws Exception {
    CountDownLatch waiting = new CountDownLatch(1);
    TcpServer server =
        TcpServer.start(
            onAnUnusedPort(),
            conn -> {
              waiting.countDown();
              conn.recv(1); // the client never sends
            });
    try (Socket client = connect(server.address())) {
      awaitLatch(waiting);
      AtomicBoolean interruptKept = new AtomicBoolean();
      Thread stop =
          Thread.ofPlatform()
              .start(
                  () -> {
                    server.shutdown(ChronoUnit.FOREVER.getDuration());
                    interruptKept.set(Thread.currentThread().isInterrupted());
                  });
      await().atMost(LIMIT).until(() -> refuses(server.address())); // in the grace period
      stop.interrupt();
      assertThat(stop.join(LIMIT)).as("shutdown returned").isTrue();
      assertThat(interruptKept).isTrue();
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      assertThatThrownBy(() -> client.recv(1)).isInstanceOf(ConnectionResetException.class);
    }
  }

  // ---------------------------------------------------------------- tools

  /** How many file descriptors this process holds (Linux). */
  static long openDescriptors() throws IOException {
    try (var entries = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
      return entries.count();
    }
  }

  /** The echo handler as a user writes it. */
  static void echo(Socket conn) throws IOException {
    byte[] buf = new byte[64 * 1024];
    int n;
    while ((n = conn.recvInto(buf, 0)) > 0) {
      conn.sendAll(ByteBuffer.wrap(buf, 0, n));
    }
  }

  /** An echo handler that also keeps the SHA-256 of what each connection received. */
  static final class DigestingEcho implements ConnectionHandler {
    final Set<String> received = ConcurrentHashMap.newKeySet();

    @Override
    public void handle(Socket conn) throws IOException {
      MessageDigest digest = Echoes.sha256();
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = conn.recvInto(buf, 0)) > 0) {
        digest.update(buf, 0, n);
        conn.sendAll(ByteBuffer.wrap(buf, 0, n));
      }
      received.add(Echoes.hex(digest));
    }
  }

  private void echoConcurrently(Family family, int clients, int size) throws Exception {
    DigestingEcho echo = new DigestingEcho();
    ServerConfig config =
        ServerConfig.defaults()
            .withAddress(Loopback.bindAddress(family, dir))
            .withBacklog(4096); // every client connects at once
    try (TcpServer server = TcpServer.start(config, echo);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Transfer>> futures = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        long seed = i;
        futures.add(pool.submit(() -> Echoes.exchange(connect(server.address()), seed, size)));
      }
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Transfer t = futures.get(i).get(5, TimeUnit.MINUTES);
        assertThat(t.intact()).as("client %d: %s", i, t).isTrue();
        assertThat(t.sent()).isEqualTo(Echoes.sha256Of(i, size));
        sent.add(t.sent());
      }
      assertThat(echo.received).as("SHA-256 of what the server received").containsAll(sent);
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      long bytes = (long) clients * size;
      assertThat(server.stats()).isEqualTo(new ServerStats(0, clients, 0, 0, bytes, bytes, 0, 0));
    }
  }

  static Socket connect(SocketAddress address) throws IOException {
    Family family =
        address instanceof UnixDomainSocketAddress
            ? AF_UNIX
            : ((InetSocketAddress) address).getAddress() instanceof Inet6Address
                ? Family.AF_INET6
                : AF_INET;
    Socket socket = Socket.create(family, SocketKind.SOCK_STREAM);
    try {
      socket.setTimeout(LIMIT); // a test that would hang fails instead
      socket.connect(address);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** A client the server refuses at its limit: reset as its connect completes, or at its recv. */
  private static void assertRefused(SocketAddress server) throws IOException {
    try (Socket refused = Socket.create()) {
      refused.setTimeout(LIMIT);
      assertThatThrownBy(
              () -> {
                refused.connect(server);
                refused.recv(1);
              })
          .isInstanceOf(ConnectionResetException.class);
    }
  }

  private static void assertEchoes(Socket client, String text) throws IOException {
    byte[] data = text.getBytes(UTF_8);
    client.sendAll(data);
    assertThat(new String(recvExactly(client, data.length), UTF_8)).isEqualTo(text);
  }

  static byte[] recvExactly(Socket socket, int size) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(size);
    while (buffer.hasRemaining()) {
      if (socket.recvInto(buffer) == 0) {
        throw new AssertionError("end of stream after " + buffer.position() + " of " + size);
      }
    }
    return buffer.array();
  }

  /**
   * The default configuration on a loopback port below the ephemeral range, for a test that checks
   * that the server's port {@link #refuses} once its listener is closed: the kernel may give a
   * closed socket's port 0 choice to any other socket meanwhile (a listener there accepts), and the
   * probe's own source port may be that port (a connection to itself).
   */
  private static ServerConfig onAnUnusedPort() throws IOException {
    return ServerConfig.defaults()
        .withAddress(
            new InetSocketAddress(
                Loopback.ip(AF_INET), Loopback.unusedPort(AF_INET, SocketKind.SOCK_STREAM)));
  }

  private static boolean refuses(SocketAddress address) throws IOException {
    try (Socket probe = Socket.create()) {
      return probe.connectEx(address) == Errno.ECONNREFUSED;
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released in " + LIMIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
