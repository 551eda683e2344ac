package io.jsock.server;

import static io.jsock.Family.AF_INET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.internal.Addresses;
import io.jsock.testing.CapturedLogs;
import io.jsock.testing.Echoes;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link UdpServer} on real loopback sockets: echoes checked by SHA-256 on both sides, the limit on
 * datagrams handled at once, graceful shutdown, statistics and handler failures.
 */
class UdpServerTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  private static final DatagramHandler ECHO =
      (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address());

  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"AF_INET, true", "AF_INET6, true", "AF_INET, false", "AF_INET6, false"})
  void echoesDatagramsFromManyClientsIntactAndCountsThemExactly(
      Family family, boolean threadPerDatagram) throws Exception {
    int clients = 20;
    int datagrams = 50;
    Map<SocketAddress, MessageDigest> received = new ConcurrentHashMap<>();
    DatagramHandler digestingEcho =
        (datagram, socket) -> {
          received.compute(
              datagram.address(),
              (sender, digest) -> {
                MessageDigest d = digest == null ? Echoes.sha256() : digest;
                d.update(datagram.data());
                return d;
              });
          socket.sendTo(datagram.data(), datagram.address());
        };
    ServerConfig config =
        ServerConfig.defaults()
            .withAddress(Loopback.bindAddress(family, null))
            .withThreadPerDatagram(threadPerDatagram);
    List<Socket> sockets = new ArrayList<>();
    try (UdpServer server = UdpServer.start(config, digestingEcho);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      // every client bound before any sends and kept until all are done: a port that one client
      // had let go could be given to another, and the server would count the two as one sender
      for (int i = 0; i < clients; i++) {
        sockets.add(client(family, server.address()));
      }
      List<Future<Sent>> futures = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Socket client = sockets.get(i);
        Random random = new Random(i);
        futures.add(pool.submit(() -> exchange(client, random, datagrams)));
      }
      long bytes = 0;
      for (Future<Sent> future : futures) {
        Sent sent = future.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(Echoes.hex(received.get(sent.from())))
            .as("SHA-256 of what the server received from %s", sent.from())
            .isEqualTo(sent.sha256());
        bytes += sent.bytes();
      }
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      assertThat(server.stats())
          .isEqualTo(new ServerStats(0, clients * datagrams, 0, 0, bytes, bytes, 0, 0));
    } finally {
      Loopback.closeAll(sockets);
    }
  }

  @Test
  void listensOnLoopbackOnAFreePortByDefault() throws Exception {
    try (UdpServer server = UdpServer.start(ServerConfig.defaults(), ECHO);
        Socket client = client(AF_INET, server.address())) {
      InetSocketAddress address = (InetSocketAddress) server.address();
      assertThat(address.getAddress()).isEqualTo(Loopback.ip(AF_INET));
      assertThat(address.getPort()).isPositive();
      client.send("ping".getBytes(UTF_8));
      assertThat(client.recv(64)).isEqualTo("ping".getBytes(UTF_8));
    }
  }

  @Test
  void anEmptyHostReceivesOnEveryIpv4InterfaceAsPythonsSocketserverDoes() throws Exception {
    // python3: socketserver.UDPServer(("", 0), ...).server_address == ("0.0.0.0", port)
    try (UdpServer server = UdpServer.start(ServerConfig.defaults().withAddress("", 0), ECHO)) {
      InetSocketAddress address = (InetSocketAddress) server.address();
      assertThat(address.getAddress().getHostAddress()).isEqualTo("0.0.0.0");
      try (Socket client =
          client(AF_INET, new InetSocketAddress(Loopback.ip(AF_INET), address.getPort()))) {
        client.send("ping".getBytes(UTF_8));
        assertThat(new String(client.recv(64), UTF_8)).isEqualTo("ping");
      }
    }
  }

  @Test
  void serversWithReusePortShareOnePortAndTheKernelDealsSendersToEach() throws Exception {
    ServerConfig config = ServerConfig.defaults().withReusePort(true);
    try (UdpServer first = UdpServer.start(config, ECHO);
        UdpServer second = UdpServer.start(config.withAddress(first.address()), ECHO)) {
      assertThat(second.address()).isEqualTo(first.address());
      // The kernel picks a socket by a hash of each sender's address and port: of 64 senders,
      // all going to one of two sockets has odds of 2^-63.
      for (int i = 0; i < 64; i++) {
        try (Socket client = client(AF_INET, first.address())) {
          byte[] data = ("sender " + i).getBytes(UTF_8);
          client.send(data);
          assertThat(client.recv(64)).isEqualTo(data);
        }
      }
      await().atMost(LIMIT).until(() -> first.stats().accepted() + second.stats().accepted() == 64);
      assertThat(first.stats().accepted()).as("the first server's share").isPositive();
      assertThat(second.stats().accepted()).as("the second server's share").isPositive();
    }
  }

  @Test
  void dropsDatagramsBeyondTheLimitWhileHandlingOthers() throws Exception {
    int limit = 2;
    int extra = 5;
    CountDownLatch release = new CountDownLatch(1);
    DatagramHandler slowEcho =
        (datagram, socket) -> {
          release.await();
          socket.sendTo(datagram.data(), datagram.address());
        };
    ServerConfig config = ServerConfig.defaults().withMaxConnections(limit);
    try (UdpServer server = UdpServer.start(config, slowEcho);
        Socket client = client(AF_INET, server.address())) {
      for (int i = 0; i < limit; i++) {
        client.send(("held " + i).getBytes(UTF_8));
      }
      await().atMost(LIMIT).until(() -> server.stats().open() == limit);
      for (int i = 0; i < extra; i++) {
        client.send(("dropped " + i).getBytes(UTF_8));
      }
      await().atMost(LIMIT).until(() -> server.stats().refused() == extra);
      assertThat(server.stats().accepted()).isEqualTo(limit);

      release.countDown();
      List<String> replies = new ArrayList<>();
      for (int i = 0; i < limit; i++) {
        replies.add(new String(client.recv(64), UTF_8));
      }
      assertThat(replies).containsExactlyInAnyOrder("held 0", "held 1");
      client.send("after".getBytes(UTF_8));
      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("after");
      assertThat(server.stats().accepted()).isEqualTo(limit + 1);
      assertThat(server.stats().refused()).isEqualTo(extra);
    } finally {
      release.countDown();
    }
  }

  @Test
  void anErrorAsADatagramIsDroppedDoesNotEndTheReceiving() throws Exception {
    // The drop's log line fails with an Error (an OutOfMemoryError building or writing it): the
    // server goes on receiving, as after an Error handing a datagram over to its thread (the loop
    // ended, and no later datagram was ever handled by a server that said it ran)
    CountDownLatch release = new CountDownLatch(1);
    DatagramHandler heldEcho =
        (datagram, socket) -> {
          if (new String(datagram.data(), UTF_8).equals("held")) {
            release.await();
          }
          socket.sendTo(datagram.data(), datagram.address());
        };
    java.util.logging.Handler failing =
        new java.util.logging.Handler() {
          private final java.util.concurrent.atomic.AtomicBoolean failed =
              new java.util.concurrent.atomic.AtomicBoolean();

          @Override
          public void publish(LogRecord record) {
            if (record.getMessage().contains("dropping more")
                && failed.compareAndSet(false, true)) {
              throw new OutOfMemoryError("test: no memory to log the drop");
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.jsock.server");
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
      logger.addHandler(failing);
      try (UdpServer server = UdpServer.start(config, heldEcho);
          Socket client = client(AF_INET, server.address())) {
        client.setTimeout(Duration.ofSeconds(10));
        client.send("held".getBytes(UTF_8));
        await().atMost(LIMIT).until(() -> server.stats().open() == 1);
        client.send("dropped".getBytes(UTF_8));
        await().atMost(LIMIT).until(() -> server.stats().refused() == 1);
        release.countDown();
        assertThat(new String(client.recv(64), UTF_8)).isEqualTo("held");
        await().atMost(LIMIT).until(() -> server.stats().open() == 0);
        client.send("after".getBytes(UTF_8));
        assertThat(new String(client.recv(64), UTF_8)).isEqualTo("after");
        assertThat(server.stats().accepted()).isEqualTo(2);
      } finally {
        release.countDown();
        logger.removeHandler(failing);
      }
    }
  }

  @Test
  void aDropIsLoggedWithTheLimitInWords() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    DatagramHandler held = (datagram, socket) -> release.await();
    ServerConfig config = ServerConfig.defaults().withMaxConnections(1);
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server = UdpServer.start(config, held);
        Socket client = client(AF_INET, server.address())) {
      client.send("held".getBytes(UTF_8));
      await().atMost(LIMIT).until(() -> server.stats().open() == 1);
      client.send("dropped".getBytes(UTF_8));
      await().atMost(LIMIT).until(() -> !logs.at(Level.INFO).isEmpty());
      assertThat(logs.at(Level.INFO).getFirst().getMessage())
          .isEqualTo(
              "recv from "
                  + Addresses.format(server.address())
                  + ": 1 datagram being handled (maxConnections), dropping more");
      release.countDown(); // before the close, which would wait out the grace period
    } finally {
      release.countDown();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void handlerFailureIsLoggedOnceWithTheSenderAndTheServerKeepsServing(boolean threadPerDatagram)
      throws Exception {
    DatagramHandler failing =
        (datagram, socket) -> {
          if (new String(datagram.data(), UTF_8).equals("fail")) {
            throw new IllegalStateException("handler bug");
          }
          socket.sendTo(datagram.data(), datagram.address());
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), failing);
        Socket client = client(AF_INET, server.address())) {
      client.send("fail".getBytes(UTF_8));
      await().atMost(LIMIT).until(() -> !logs.at(Level.WARNING).isEmpty());
      LogRecord record = logs.at(Level.WARNING).getFirst();
      assertThat(record.getMessage())
          .contains(
              "datagram from "
                  + Addresses.format(client.getSockName())
                  + " to "
                  + Addresses.format(server.address()))
          .contains("handler bug");
      assertThat(record.getThrown()).isInstanceOf(IllegalStateException.class);

      client.send("ping".getBytes(UTF_8));
      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("ping");
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      assertThat(logs.at(Level.WARNING)).as("logged once").hasSize(1);
      assertThat(server.stats().accepted()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "thread per datagram: {0}")
  @ValueSource(booleans = {false, true})
  void aHandlersStackOverflowIsLoggedAsItsFailureAndTheServerKeepsReceiving(
      boolean threadPerDatagram) throws Exception {
    // Python's UDPServer and ThreadingUDPServer hand a RecursionError or MemoryError to
    // handle_error as any other failure. Without a thread per datagram the receiving thread is the
    // server's only one, so an error that ended it would leave a server bound to its port,
    // receiving nothing, yet neither shut down nor failing; with one, a StackOverflowError went
    // past the server's logger, printed on System.err by the thread's uncaught-exception handler.
    DatagramHandler overflowing =
        (datagram, socket) -> {
          if (new String(datagram.data(), UTF_8).equals("deep")) {
            throw new StackOverflowError("handler recursed too deep");
          }
          socket.sendTo(datagram.data(), datagram.address());
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), overflowing);
        Socket client = client(AF_INET, server.address())) {
      client.send("deep".getBytes(UTF_8));
      await().atMost(LIMIT).until(() -> !logs.at(Level.WARNING).isEmpty());
      client.send("ping".getBytes(UTF_8));

      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("ping");
      LogRecord record = logs.at(Level.WARNING).getFirst();
      assertThat(record.getMessage())
          .contains("datagram from " + Addresses.format(client.getSockName()))
          .contains("handler recursed too deep");
      assertThat(record.getThrown()).isInstanceOf(StackOverflowError.class);
      assertThat(logs.at(Level.WARNING)).as("logged once").hasSize(1);
      assertThat(server.isShutdown()).isFalse();
      assertThat(server.awaitTermination(Duration.ZERO)).isFalse();
    }
  }

  @ParameterizedTest(name = "thread per datagram: {0}")
  @ValueSource(booleans = {false, true})
  void aSocketErrorWrappedInAnUncheckedIoExceptionIsToldAsItselfAsOverTcp(boolean threadPerDatagram)
      throws Exception {
    // A handler's lambda (or a JDK stream) hands a socket's IOException on in an
    // UncheckedIOException: TcpServer tells it as the failure itself (INFO), not as a handler bug
    // (WARNING with a trace); UdpServer told it as a handler bug
    DatagramHandler wrapping =
        (datagram, socket) -> {
          try (Socket unconnected = Socket.create(AF_INET, SocketKind.SOCK_STREAM)) {
            unconnected.recv(1); // ENOTCONN
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), wrapping);
        Socket client = client(AF_INET, server.address())) {
      client.send("x".getBytes(UTF_8));
      await().atMost(LIMIT).until(() -> !logs.at(Level.INFO).isEmpty());
      assertThat(logs.at(Level.INFO).getFirst().getMessage())
          .startsWith("datagram from " + Addresses.format(client.getSockName()))
          .endsWith(": transport endpoint is not connected");
      assertThat(logs.at(Level.WARNING)).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandlerThatSetsATimeoutOnTheServersSocketDoesNotEndTheReceiving(boolean threadPerDatagram)
      throws Exception {
    // The socket is shared: the receiving then waits in timeout mode, and a quiet spell longer
    // than the timeout is no reason to stop (Python's UDPServer serves on).
    Duration timeout = Duration.ofMillis(50);
    DatagramHandler timing =
        (datagram, socket) -> {
          socket.setTimeout(timeout);
          socket.sendTo(datagram.data(), datagram.address());
        };
    try (UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), timing);
        Socket client = client(AF_INET, server.address())) {
      client.send("first".getBytes(UTF_8));
      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("first");

      await().pollDelay(timeout.multipliedBy(10)).atMost(LIMIT).until(() -> true); // quiet
      client.send("after a quiet spell".getBytes(UTF_8));
      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("after a quiet spell");
      assertThat(server.isShutdown()).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandlerThatMakesTheServersSocketNonBlockingDoesNotTurnTheReceivingIntoRetries(
      boolean threadPerDatagram) throws Exception {
    // Python's UDPServer selects before each recvfrom, so any mode of its socket serves as well
    DatagramHandler nonBlocking =
        (datagram, socket) -> {
          socket.setBlocking(false);
          socket.sendTo(datagram.data(), datagram.address());
        };
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), nonBlocking);
        Socket client = client(AF_INET, server.address())) {
      for (int i = 0; i < 5; i++) {
        client.send(("datagram " + i).getBytes(UTF_8));
        assertThat(new String(client.recv(64), UTF_8)).isEqualTo("datagram " + i);
      }
      assertThat(logs.all()).extracting(LogRecord::getMessage).noneMatch(m -> m.contains("again"));
      assertThat(server.isShutdown()).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandlerThatClosesTheServersSocketStopsTheServerInsteadOfRetryingForever(
      boolean threadPerDatagram) throws Exception {
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        UdpServer server =
            UdpServer.start(
                ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram),
                (datagram, socket) -> socket.close());
        Socket client = client(AF_INET, server.address())) {
      client.send("close it".getBytes(UTF_8));

      // A closed socket never opens again: receiving from it once more cannot succeed.
      assertThat(server.awaitTermination(Duration.ofSeconds(10))).as("terminated").isTrue();
      assertThat(server.isShutdown()).isTrue();
      assertThat(logs.at(Level.WARNING))
          .singleElement()
          .extracting(LogRecord::getMessage)
          .isEqualTo(
              "recv from "
                  + Addresses.format(server.address())
                  + ": the server's socket was closed, not by the server; shutting down");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shutdownLetsRunningHandlersReplyAndStopsReceivingAtOnce(boolean threadPerDatagram)
      throws Exception {
    Duration grace = Duration.ofSeconds(10);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger handled = new AtomicInteger();
    DatagramHandler slowEcho =
        (datagram, socket) -> {
          handled.incrementAndGet();
          entered.countDown();
          release.await(); // not interrupted by the shutdown: the grace period is the handler's
          socket.sendTo(datagram.data(), datagram.address());
        };
    UdpServer server =
        UdpServer.start(onAnUnusedPort().withThreadPerDatagram(threadPerDatagram), slowEcho);
    try (Socket client = client(AF_INET, server.address());
        ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
      client.send("in flight".getBytes(UTF_8));
      assertThat(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      long start = System.nanoTime();
      Future<?> shutdown = background.submit(() -> server.shutdown(grace));
      await().atMost(LIMIT).until(server::isShutdown);
      client.send("late".getBytes(UTF_8)); // the server receives no more
      release.countDown();

      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("in flight");
      shutdown.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("shutdown returns once the handlers are done")
          .isLessThan(grace);
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      assertThat(handled).hasValue(1);
      assertThat(server.stats().accepted()).isEqualTo(1);
      assertThat(server.stats().open()).isZero();
      assertPortFree(server.address());
    } finally {
      release.countDown();
      server.close();
    }
  }

  @Test
  void awaitTerminationReturnsTrueOnlyOnceTheServersPortIsFree() throws Exception {
    // The shutdown closes the socket after the last handler ends, on its own thread; a caller
    // woken by the same end must not be told the server has terminated before then (a server
    // started again on the port would fail with "address already in use"). A race, so a few rounds.
    for (int round = 0; round < 20; round++) {
      CountDownLatch entered = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      UdpServer server =
          UdpServer.start(
              onAnUnusedPort(),
              (datagram, socket) -> {
                entered.countDown();
                release.await();
              });
      try (Socket client = client(AF_INET, server.address());
          ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
        client.send("in flight".getBytes(UTF_8));
        assertThat(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        background.submit(() -> server.shutdown(LIMIT));
        await().atMost(LIMIT).until(server::isShutdown);
        release.countDown();

        assertThat(server.awaitTermination(LIMIT)).isTrue();
        assertPortFree(server.address());
      } finally {
        release.countDown();
        server.close();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void closeReturnsWithinGracePlusOneSecondWhenAHandlerIgnoresInterrupts(boolean threadPerDatagram)
      throws Exception {
    Duration grace = Duration.ofMillis(500);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DatagramHandler stubborn =
        (datagram, socket) -> {
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
    UdpServer server =
        UdpServer.start(
            onAnUnusedPort().withShutdownGrace(grace).withThreadPerDatagram(threadPerDatagram),
            stubborn);
    try (Socket client = client(AF_INET, server.address())) {
      client.send("stuck".getBytes(UTF_8));
      assertThat(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      long start = System.nanoTime();
      server.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(grace.plusSeconds(1))
          .isLessThan(grace.plusSeconds(6)); // not for ever; a loaded machine may stall
      assertThat(interrupted.getCount()).as("handler interrupted").isZero();
      assertThat(server.awaitTermination(Duration.ZERO)).isFalse();
      assertPortFree(server.address());

      release.countDown();
      assertThat(server.awaitTermination(LIMIT)).isTrue();
    } finally {
      release.countDown();
    }
  }

  @Test
  void withoutAThreadPerDatagramTheReceivingThreadHandlesEachInTurnAndNoneIsDropped()
      throws Exception {
    int queued = 5;
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> threads = new CopyOnWriteArrayList<>();
    DatagramHandler heldEcho =
        (datagram, socket) -> {
          Thread me = Thread.currentThread();
          threads.add(me.getName() + (me.isVirtual() ? " (virtual)" : " (platform)"));
          entered.countDown();
          release.await();
          socket.sendTo(datagram.data(), datagram.address());
        };
    ServerConfig config =
        ServerConfig.defaults().withMaxConnections(1).withThreadPerDatagram(false);
    try (UdpServer server = UdpServer.start(config, heldEcho);
        Socket client = client(AF_INET, server.address())) {
      client.send("first".getBytes(UTF_8));
      assertThat(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < queued; i++) {
        client.send(("queued " + i).getBytes(UTF_8)); // waits in the receive buffer meanwhile
      }
      assertThat(server.stats().accepted()).isEqualTo(1);
      release.countDown();

      List<String> replies = new ArrayList<>();
      for (int i = 0; i <= queued; i++) {
        replies.add(new String(client.recv(64), UTF_8));
      }
      assertThat(replies)
          .containsExactly("first", "queued 0", "queued 1", "queued 2", "queued 3", "queued 4");
      await().atMost(LIMIT).until(() -> server.stats().open() == 0);
      assertThat(server.stats().accepted()).isEqualTo(queued + 1);
      assertThat(server.stats().refused()).isZero();
      assertThat(threads)
          .hasSize(queued + 1)
          .containsOnly("jsock receive " + Addresses.format(server.address()) + " (platform)");
    } finally {
      release.countDown();
    }
  }

  @Test
  void withoutAThreadPerDatagramCloseWhileReceivingStopsAtOnceNotAfterTheGracePeriod()
      throws Exception {
    Duration grace = Duration.ofSeconds(30);
    UdpServer server =
        UdpServer.start(
            onAnUnusedPort().withShutdownGrace(grace).withThreadPerDatagram(false), ECHO);
    try (Socket client = client(AF_INET, server.address())) {
      client.send("ping".getBytes(UTF_8));
      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("ping");

      long start = System.nanoTime(); // the receiving thread now waits for the next datagram
      server.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("a receive is interrupted, not waited for")
          .isLessThan(grace);
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
      assertPortFree(server.address());
    } finally {
      server.close();
    }
  }

  @Test
  void withoutAThreadPerDatagramAHandlerMayInterruptItselfOrShutTheServerDown() throws Exception {
    DatagramHandler handler =
        (datagram, socket) -> {
          String text = new String(datagram.data(), UTF_8);
          socket.sendTo(datagram.data(), datagram.address());
          if (text.equals("interrupt")) {
            Thread.currentThread().interrupt(); // the server keeps receiving
          }
        };
    UdpServer[] self = new UdpServer[1];
    DatagramHandler stopping =
        (datagram, socket) -> {
          handler.handle(datagram, socket);
          if (new String(datagram.data(), UTF_8).equals("stop")) {
            self[0].shutdown(Duration.ofSeconds(30)); // does not wait for itself
          }
        };
    self[0] = UdpServer.start(onAnUnusedPort().withThreadPerDatagram(false), stopping);
    UdpServer server = self[0];
    try (Socket client = client(AF_INET, server.address())) {
      for (String text : List.of("interrupt", "after", "stop")) {
        client.send(text.getBytes(UTF_8));
        assertThat(new String(client.recv(64), UTF_8)).isEqualTo(text);
      }
      assertThat(server.awaitTermination(LIMIT)).isTrue();
      assertThat(server.stats().accepted()).isEqualTo(3);
      assertPortFree(server.address());
    } finally {
      server.close();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandlersOwnFailureDuringTheGracePeriodIsStillLoggedAsAFailure(boolean threadPerDatagram)
      throws Exception {
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    DatagramHandler failing =
        (datagram, socket) -> {
          handling.countDown();
          fail.await();
          throw new IllegalStateException("a bug of the handler's own");
        };
    UdpServer server =
        UdpServer.start(ServerConfig.defaults().withThreadPerDatagram(threadPerDatagram), failing);
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        Socket client = client(AF_INET, server.address())) {
      client.send("x".getBytes(UTF_8));
      assertThat(handling.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      Thread stopping = Thread.ofVirtual().start(() -> server.shutdown(Duration.ofSeconds(30)));
      await().atMost(LIMIT).until(server::isShutdown);

      fail.countDown(); // within the grace period: not the shutdown's doing
      stopping.join(LIMIT);
      assertThat(logs.at(Level.WARNING))
          .singleElement()
          .extracting(LogRecord::getMessage)
          .asString()
          .endsWith(
              ": handler failed: java.lang.IllegalStateException: a bug of the handler's own");
    } finally {
      fail.countDown();
      server.close();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandlerThatShutsItsServerDownMayStillReplyThroughItsSocket(boolean threadPerDatagram)
      throws Exception {
    // As with Python's ThreadingUDPServer, whose shutdown() leaves the socket to server_close()
    AtomicReference<UdpServer> self = new AtomicReference<>();
    DatagramHandler stopper =
        (datagram, socket) -> {
          self.get().shutdown(Duration.ofSeconds(30)); // does not wait for itself
          socket.sendTo("stopped".getBytes(UTF_8), datagram.address());
        };
    self.set(UdpServer.start(onAnUnusedPort().withThreadPerDatagram(threadPerDatagram), stopper));
    UdpServer server = self.get();
    try (CapturedLogs logs = CapturedLogs.of("io.jsock.server");
        Socket client = client(AF_INET, server.address())) {
      client.send("stop".getBytes(UTF_8));

      assertThat(new String(client.recv(64), UTF_8)).isEqualTo("stopped");
      assertThat(server.awaitTermination(LIMIT)).isTrue();
      assertPortFree(server.address());
      assertThat(logs.all())
          .as("no handler failure, at any level")
          .extracting(LogRecord::getMessage)
          .noneMatch(message -> message.startsWith("datagram from"));
    } finally {
      server.close();
    }
  }

  @Test
  void onceAServerAHandlerShutDownHasTerminatedNoDatagramCountsAsBeingHandled() throws Exception {
    // The handler's end, not the release its shutdown left to it, is what awaitTermination waits
    // for: by then the datagram no longer counts as open. Rounds, as the two are a moment apart.
    for (int round = 0; round < 50; round++) {
      AtomicReference<UdpServer> self = new AtomicReference<>();
      CountDownLatch started = new CountDownLatch(1);
      DatagramHandler stopper =
          (datagram, socket) -> {
            started.await();
            self.get().shutdown(Duration.ZERO);
          };
      self.set(UdpServer.start(ServerConfig.defaults(), stopper));
      UdpServer server = self.get();
      try (Socket client = client(AF_INET, server.address())) {
        started.countDown();
        client.send("stop".getBytes(UTF_8));
        assertThat(server.awaitTermination(LIMIT)).isTrue();
        assertThat(server.stats().open()).as("round %d", round).isZero();
      } finally {
        server.close();
      }
    }
  }

  @Test
  void startRejectsAnAfUnixAddress() {
    var config =
        ServerConfig.defaults().withAddress(UnixDomainSocketAddress.of(dir.resolve("u.sock")));
    assertThatThrownBy(() -> UdpServer.start(config, ECHO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a UDP server needs an inet address");
  }

  @Test
  void shutdownRejectsANegativeGraceNamingIt() throws Exception {
    try (UdpServer server = UdpServer.start(ServerConfig.defaults(), ECHO)) {
      assertThatThrownBy(() -> server.shutdown(Duration.ofMillis(-1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("grace must not be negative: PT-0.001S");
      assertThat(server.isShutdown()).isFalse();
    }
  }

  // ---------------------------------------------------------------- tools

  /** What one client sent: from where, how many bytes, and their SHA-256. */
  private record Sent(SocketAddress from, long bytes, String sha256) {}

  /** Sends datagrams one at a time, each checked against its echo before the next goes. */
  private static Sent exchange(Socket client, Random random, int count) throws IOException {
    MessageDigest digest = Echoes.sha256();
    long bytes = 0;
    for (int i = 0; i < count; i++) {
      // Up to a typical MTU's worth: 20 clients' datagrams in flight stay far below the
      // kernel's default receive buffer, which would otherwise drop some (UDP may).
      byte[] data = new byte[1 + random.nextInt(1400)];
      random.nextBytes(data);
      client.send(data);
      assertThat(client.recv(65536)).as("echo of datagram %d", i).isEqualTo(data);
      digest.update(data);
      bytes += data.length;
    }
    return new Sent(client.getSockName(), bytes, Echoes.hex(digest));
  }

  /** A UDP socket connected to the server, so that it receives from the server only. */
  private static Socket client(Family family, SocketAddress server) throws IOException {
    Socket client = Socket.create(family, SocketKind.SOCK_DGRAM);
    try {
      client.setTimeout(LIMIT);
      client.bind(Loopback.bindAddress(family, null));
      client.connect(server);
      return client;
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /**
   * The default configuration on a loopback port below the ephemeral range, for a test that binds
   * the server's port again once it is closed ({@link #assertPortFree}): the kernel may give a
   * closed socket's port 0 choice to any other socket meanwhile, in this process or another.
   */
  private static ServerConfig onAnUnusedPort() throws IOException {
    return ServerConfig.defaults()
        .withAddress(
            new InetSocketAddress(
                Loopback.ip(AF_INET), Loopback.unusedPort(AF_INET, SocketKind.SOCK_DGRAM)));
  }

  /** The server's socket is closed: its port can be bound again. */
  private static void assertPortFree(SocketAddress address) throws IOException {
    try (Socket again = Socket.create(AF_INET, SocketKind.SOCK_DGRAM)) {
      again.bind(address);
    }
  }
}
