package io.jsock;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Event.EVENT_WRITE;
import static io.jsock.Shutdown.SHUT_RDWR;
import static io.jsock.Shutdown.SHUT_WR;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.Loopback.recvExactly;
import static io.jsock.testing.Running.inVirtualThread;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Scenarios from Netty's transport testsuite ({@code testsuite/.../transport/socket/*Test.java} and
 * the epoll transport's own tests in netty/netty), each a socket behaviour Netty pins because a
 * high-performance transport once got it wrong, translated to jsock with what CPython on Linux does
 * as the expected result (checked with python3 on loopback). Each test names the Netty test it
 * comes from.
 */
@Timeout(60) // a safety net: a hung socket fails its test instead of the build
class NettyScenariosTest {
  /** More than a loopback connection's buffers hold, so the sender must wait for the reader. */
  private static final int LARGE = 8 << 20;

  /** How long a test waits for an event that happens at once when all is well. */
  private static final Duration PROMPTLY = Duration.ofSeconds(10);

  private static final Set<Event> BOTH = Set.of(EVENT_READ, EVENT_WRITE);

  @TempDir Path dir;

  // SocketRstTest.testNoRstIfSoLingerOnClose: a close with SO_LINGER on (not zero) ends the
  // connection with a FIN after the bytes sent, never a reset. python3: with SO_LINGER (1, 1) the
  // peer receives b'bye' and then b''
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aCloseWithSoLingerOnDeliversTheBytesAndTheEndOfTheStreamNotAReset(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      pair.server().setSockOpt(StandardSocketOptions.SO_LINGER, 1);
      pair.server().sendAll(bytes("bye"));

      pair.server().close();

      assertThat(recvToEnd(pair.client())).isEqualTo(bytes("bye"));
      assertThat(pair.client().recv(10)).isEmpty();
    }
  }

  // SocketHalfClosedTest.testHalfClosureReceiveDataOnFinalWait2StateWhenSoLingerSet: a socket with
  // SO_LINGER set that shuts its writing side still receives what the peer sends afterwards.
  // python3: the peer gets b'', replies, and the half-closed side receives b'reply' and then b''
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aSocketWithSoLingerThatShutItsWritingSideStillReceivesThePeersReply(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      pair.client().setSockOpt(StandardSocketOptions.SO_LINGER, 1);

      pair.client().shutdown(SHUT_WR);

      assertThat(pair.server().recv(10)).isEmpty();
      pair.server().sendAll(bytes("reply"));
      pair.server().close();
      assertThat(recvToEnd(pair.client())).isEqualTo(bytes("reply"));
    }
  }

  // SocketShutdownOutputBySelfTest.testShutdownSoLingerNoAssertError: shutting both ways a socket
  // that has SO_LINGER set ends both streams without a reset. python3: the peer's recv gives b''
  // and so does the socket's own
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void shuttingBothWaysASocketWithSoLingerEndsBothStreamsWithoutAReset(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      pair.client().setSockOpt(StandardSocketOptions.SO_LINGER, 1);

      pair.client().shutdown(SHUT_RDWR);

      assertThat(pair.server().recv(10)).isEmpty();
      assertThat(pair.client().recv(10)).isEmpty();
    }
  }

  // SocketShutdownOutputBySelfTest.testShutdownOutputSoLingerNoAssertError and
  // SocketRstTest.testSoLingerZeroCausesOnlyRstOnClose: with SO_LINGER 0, shutting the writing side
  // sends a FIN (the peer reads to the end and replies), and only the close resets. python3: the
  // peer gets b'req' then b''; the reply arrives; after the close the peer, which had read the end,
  // still gets b'' from recv and BrokenPipeError from send (Linux reports a reset in CLOSE_WAIT as
  // EPIPE)
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void withSoLingerZeroAShutdownSendsTheEndOfTheStreamAndOnlyTheCloseResets(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      Socket closing = pair.client();
      Socket peer = pair.server();
      closing.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      closing.sendAll(bytes("req"));

      closing.shutdown(SHUT_WR);

      assertThat(recvToEnd(peer)).isEqualTo(bytes("req"));
      peer.sendAll(bytes("r"));
      assertThat(closing.recv(10)).isEqualTo(bytes("r"));

      closing.close();

      BrokenPipeException e = sendUntilItFails(peer, BrokenPipeException.class);
      assertThat(e.errno()).isEqualTo(Errno.EPIPE);
      assertThat(peer.recv(10)).isEmpty();
    }
  }

  // SocketHalfClosedTest.testAllDataReadAfterHalfClosure and
  // SocketChannelEOFTest.readAllPendingOnEOF:
  // every byte sent before a half-close is read before the end of the stream, however much more
  // than the buffers hold, and the reply still flows the other way. python3:
  // makefile('rb').read() gives every byte, the next read b'', and sendall of the reply arrives
  @ParameterizedTest
  @EnumSource(Family.class)
  void everyByteSentBeforeAHalfCloseIsReadBeforeTheEndAndTheReplyStillFlows(Family family)
      throws Exception {
    byte[] request = randomBytes(LARGE, 1);
    byte[] reply = randomBytes(LARGE, 2);
    try (Pair pair = Loopback.pair(family, dir)) {
      Running<byte[]> client =
          inVirtualThread(
              () -> {
                pair.client().sendAll(request);
                pair.client().shutdown(SHUT_WR);
                return recvToEnd(pair.client());
              });

      InputStream in = pair.server().getInputStream();
      byte[] received = in.readAllBytes();
      assertThat(in.read()).isEqualTo(-1);
      pair.server().sendAll(reply);
      pair.server().shutdown(SHUT_WR);

      assertThat(Arrays.mismatch(received, request))
          .as("index of the first wrong byte")
          .isEqualTo(-1);
      assertThat(Arrays.mismatch(client.get(), reply))
          .as("index of the first wrong byte")
          .isEqualTo(-1);
    }
  }

  // EpollETSocketHalfClosedTest (SocketHalfClosedTest in edge-triggered mode): once the peer has
  // shut its writing side, a selector reports the socket readable every time, also after the end
  // of the stream was read, and writable, so that the reply can still be sent. python3's
  // DefaultSelector (level-triggered epoll): EVENT_READ | EVENT_WRITE before and after recv gives
  // b''
  @ParameterizedTest
  @EnumSource(Family.class)
  void aSelectorKeepsReportingAHalfClosedStreamReadableAndWritable(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir);
        SocketSelector selector = SocketSelector.open()) {
      pair.server().setBlocking(false);
      SelectorKey key = selector.register(pair.server(), BOTH, null);

      pair.client().shutdown(SHUT_WR);

      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
      assertThat(pair.server().recv(10)).isEmpty();
      assertThat(selector.select(PROMPTLY)).containsExactly(new Ready(key, BOTH));
      assertThat(pair.server().recv(10)).isEmpty();
      assertThat(pair.server().send(bytes("still here"))).isEqualTo(10);
      assertThat(recvExactly(pair.client(), 10)).isEqualTo(bytes("still here"));
    }
  }

  // SocketFileRegionTest.testFileRegion (and EpollDomainSocketFileRegionTest over AF_UNIX): a file
  // region far larger than the socket takes at once, from an offset, arrives whole and in order;
  // each partial sendfile must go on from where the last stopped. python3: sendfile(f, 12345,
  // 6 MiB) with SO_SNDBUF 64 KiB returns 6 MiB, the peer receives that slice, f.tell() is its end
  @ParameterizedTest
  @EnumSource(Family.class)
  void sendFileOfASliceFarLargerThanTheBuffersArrivesWholeInBlockingAndTimeoutMode(Family family)
      throws Exception {
    Path file = dir.resolve("region");
    byte[] content = randomBytes(LARGE, 3);
    Files.write(file, content);
    int offset = 12_345;
    int count = 6 << 20;
    for (Duration timeout : Arrays.asList(null, Duration.ofSeconds(30))) {
      try (Pair pair = Loopback.pair(family, dir);
          FileChannel channel = FileChannel.open(file)) {
        pair.client().setSockOpt(StandardSocketOptions.SO_SNDBUF, 64 << 10);
        pair.client().setTimeout(timeout);
        Running<byte[]> receiving = inVirtualThread(() -> recvToEnd(pair.server()));

        long sent = pair.client().sendFile(channel, offset, count);
        pair.client().shutdown(SHUT_WR);

        assertThat(sent).as("sent with timeout %s", timeout).isEqualTo(count);
        assertThat(channel.position()).isEqualTo(offset + count);
        byte[] received = receiving.get();
        assertThat(received.length).isEqualTo(count);
        assertThat(Arrays.mismatch(received, Arrays.copyOfRange(content, offset, offset + count)))
            .as("index of the first wrong byte with timeout %s", timeout)
            .isEqualTo(-1);
      }
    }
  }

  // DatagramConnectedWriteExceptionTest.testWriteThrowsPortUnreachableException: a connected UDP
  // socket whose peer has gone has its sends refused: the kernel keeps the ICMP port unreachable
  // one send brought, and the next send reports it instead of sending. python3: after the peer's
  // close, send gives 2, ConnectionRefusedError 111, 2, ConnectionRefusedError 111, ...
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void aConnectedUdpSocketWhosePeerHasGoneHasASendRefusedAndTheNextOneSent(Family family)
      throws Exception {
    try (Socket client = Socket.create(family, SOCK_DGRAM)) {
      SocketAddress peer;
      try (Socket server = Socket.create(family, SOCK_DGRAM)) {
        server.bind(Loopback.bindAddress(family, null));
        peer = server.getSockName();
        client.connect(peer);
        client.send(bytes("first"));
        assertThat(server.recv(100)).isEqualTo(bytes("first"));
      }

      ConnectionRefusedException e = sendUntilItFails(client, ConnectionRefusedException.class);

      assertThat(e.errno()).isEqualTo(Errno.ECONNREFUSED);
      assertThat(e)
          .hasMessageEndingWith(
              ":" + ((InetSocketAddress) peer).getPort() + ": connection refused");
      assertThat(client.send(bytes("after"))).isEqualTo(5);
    }
  }

  // EpollReuseAddrTest.testMultipleBindDatagramChannel and
  // testMultipleBindDatagramChannelWithoutReusePortFails: UDP sockets that all set SO_REUSEPORT
  // share a port and the kernel deals the senders between them, each datagram to one; a socket
  // without it cannot bind there. python3: both bind, the third bind raises OSError 98
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void udpSocketsThatAllSetSoReusePortShareAPortAndEachDatagramReachesOne(Family family)
      throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      Socket one = reusePort(Socket.create(family, SOCK_DGRAM), sockets);
      one.bind(Loopback.bindAddress(family, null));
      Socket two = reusePort(Socket.create(family, SOCK_DGRAM), sockets);
      two.bind(one.getSockName());
      Socket without = Socket.create(family, SOCK_DGRAM);
      sockets.add(without);

      AddressInUseException e =
          catchThrowableOfType(AddressInUseException.class, () -> without.bind(one.getSockName()));

      assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
      assertThat(two.getSockName()).isEqualTo(one.getSockName());
      int senders = 64; // from as many ports: all dealt to one socket has odds of 2^-63
      for (int i = 0; i < senders; i++) {
        Socket sender = Socket.create(family, SOCK_DGRAM);
        sockets.add(sender);
        sender.sendTo(bytes("d" + i), one.getSockName());
      }
      List<Set<String>> received = receiveAll(List.of(one, two), senders);
      assertThat(received.get(0)).doesNotContainAnyElementsOf(received.get(1)).isNotEmpty();
      assertThat(received.get(1)).isNotEmpty();
      assertThat(received.get(0).size() + received.get(1).size()).isEqualTo(senders);
    } finally {
      Loopback.closeAll(sockets);
    }
  }

  // EpollReuseAddrTest.testMultipleBindSocketChannel and
  // testMultipleBindSocketChannelWithoutReusePortFails: a TCP socket without SO_REUSEPORT cannot
  // bind to the port of a listener that has it, one with it can, and the kernel deals the clients
  // between the two listeners, each connection to one. python3: OSError 98, then both listen
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void tcpListenersShareAPortOnlyWhenEverySocketSetsSoReusePort(Family family) throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      Socket one = reusePort(Socket.create(family, SOCK_STREAM), sockets);
      one.bind(Loopback.bindAddress(family, null));
      one.listen(64);
      Socket without = Socket.create(family, SOCK_STREAM);
      sockets.add(without);

      AddressInUseException e =
          catchThrowableOfType(AddressInUseException.class, () -> without.bind(one.getSockName()));

      assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
      Socket two = reusePort(Socket.create(family, SOCK_STREAM), sockets);
      two.bind(one.getSockName());
      two.listen(64);
      Set<SocketAddress> clients = new HashSet<>();
      int count = 32;
      for (int i = 0; i < count; i++) {
        Socket client = Socket.create(family, SOCK_STREAM);
        sockets.add(client);
        client.connect(one.getSockName()); // completes in a backlog, before accept()
        clients.add(client.getSockName());
      }
      List<Set<SocketAddress>> accepted = new ArrayList<>();
      for (Socket listener : List.of(one, two)) {
        listener.setBlocking(false);
        Set<SocketAddress> peers = new HashSet<>();
        while (peers.size() < count) { // bounded: ends at the first WouldBlock
          try {
            Accepted a = listener.accept();
            sockets.add(a.conn());
            peers.add(a.address());
          } catch (WouldBlockException drained) {
            break;
          }
        }
        accepted.add(peers);
      }
      assertThat(accepted.get(0)).isNotEmpty().doesNotContainAnyElementsOf(accepted.get(1));
      assertThat(accepted.get(1)).isNotEmpty();
      Set<SocketAddress> all = new HashSet<>(accepted.get(0));
      all.addAll(accepted.get(1));
      assertThat(all).isEqualTo(clients);
    } finally {
      Loopback.closeAll(sockets);
    }
  }

  // SocketHalfClosedTest.testAllDataReadAfterHalfClosure against a server shutting down
  // gracefully (Netty's graceful shutdown with a quiet period): a client that sent its whole
  // request and shut its writing side gets the whole reply its handler sends after the end of the
  // request, although the server began to shut down meanwhile, and then a clean end of stream.
  // python3's socketserver has no graceful shutdown; the reply and b'' are what a client of
  // Python's server gets when nothing shuts down
  @Test
  void aHalfClosedClientGetsTheWholeReplyItsHandlerSendsWhileTheServerShutsDown() throws Exception {
    byte[] request = randomBytes(1 << 20, 4);
    CountDownLatch requestRead = new CountDownLatch(1);
    CountDownLatch shutdownBegun = new CountDownLatch(1);
    try (TcpServer server =
            TcpServer.start(
                ServerConfig.defaults(),
                conn -> {
                  byte[] whole = recvToEnd(conn);
                  requestRead.countDown();
                  shutdownBegun.await();
                  conn.sendAll(whole); // the reply goes only once the shutdown has begun
                  conn.sendAll(reversed(whole));
                });
        Socket client = Sockets.createConnection(server.address())) {
      client.sendAll(request);
      client.shutdown(SHUT_WR);
      assertThat(requestRead.await(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isTrue();

      Running<Void> shutdown =
          inVirtualThread(
              () -> {
                server.shutdown(Duration.ofSeconds(30));
                return null;
              });
      await().atMost(PROMPTLY).until(server::isShutdown);
      shutdownBegun.countDown();

      byte[] reply = recvToEnd(client);
      shutdown.get();
      assertThat(reply.length).isEqualTo(2 * request.length);
      assertThat(Arrays.copyOfRange(reply, 0, request.length)).isEqualTo(request);
      assertThat(Arrays.copyOfRange(reply, request.length, reply.length))
          .isEqualTo(reversed(request));
      assertThat(client.recv(10)).isEmpty();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Socket reusePort(Socket socket, List<Socket> sockets) throws IOException {
    sockets.add(socket);
    socket.setSockOpt(StandardSocketOptions.SO_REUSEPORT, true);
    return socket;
  }

  /**
   * Sends a byte at a time until a send fails as {@code type}, at most 1000 times about a
   * millisecond apart: the failure comes from the peer's kernel, which answers on loopback at once.
   */
  private static <T extends IOException> T sendUntilItFails(Socket socket, Class<T> type)
      throws Exception {
    for (int i = 0; i < 1000; i++) {
      try {
        socket.send(bytes("x"));
      } catch (IOException e) {
        assertThat(e).isInstanceOf(type);
        return type.cast(e);
      }
      Thread.sleep(1);
    }
    throw new AssertionError("1000 sends, none failed as " + type.getSimpleName());
  }

  /** The datagrams each socket receives until {@code total} have come, or PROMPTLY has passed. */
  private static List<Set<String>> receiveAll(List<Socket> sockets, int total) throws Exception {
    List<Set<String>> received = new ArrayList<>();
    for (Socket socket : sockets) {
      socket.setBlocking(false);
      received.add(new HashSet<>());
    }
    long deadline = System.nanoTime() + PROMPTLY.toNanos();
    int count = 0;
    while (count < total && System.nanoTime() < deadline) {
      boolean any = false;
      for (int i = 0; i < sockets.size(); i++) {
        try {
          received.get(i).add(new String(sockets.get(i).recv(100), UTF_8));
          count++;
          any = true;
        } catch (WouldBlockException nothingYet) {
          // the other socket may have one
        }
      }
      if (!any) {
        Thread.sleep(1);
      }
    }
    return received;
  }

  private static byte[] recvToEnd(Socket socket) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = socket.recvInto(buf, 0)) > 0) {
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static byte[] reversed(byte[] data) {
    byte[] copy = new byte[data.length];
    for (int i = 0; i < data.length; i++) {
      copy[i] = data[data.length - 1 - i];
    }
    return copy;
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }
}
