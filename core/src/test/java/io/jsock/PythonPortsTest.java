package io.jsock;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Event.EVENT_WRITE;
import static io.jsock.Family.AF_INET;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.testing.Loopback.recvExactly;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classic Python socket programs ported line for line, each checked against what python3 answered
 * to the original (noted in each test's comment; {@link PortedProgramsTest} runs python3 itself):
 * the selectors module's echo server, the Socket Programming HOWTO's non-blocking connect, a UDP
 * ping, a socket pair between two threads, a makefile line protocol with a half-closed request, and
 * sendfile of a slice of a file.
 */
class PythonPortsTest {
  @TempDir Path dir;

  private interface Callback {
    void call(Socket socket) throws Exception;
  }

  // docs.python.org library/selectors "Examples": accept, then read and echo what came
  @Test
  void theSelectorsModulesEchoServerEchoesEveryByteToEachClient() throws Exception {
    int clients = 40;
    int messages = 25;
    try (SocketSelector sel = SocketSelector.open();
        Socket sock = Socket.create()) {
      sock.bind("localhost", 0);
      sock.listen(100);
      sock.setBlocking(false);
      int[] closed = {0};
      Callback read =
          conn -> {
            byte[] data = conn.recv(1000);
            if (data.length > 0) {
              conn.sendAll(data); // the example's send(data), which "hopes it won't block"
            } else {
              sel.unregister(conn);
              conn.close();
              closed[0]++;
            }
          };
      Callback accept =
          s -> {
            Socket conn = s.accept().conn();
            conn.setBlocking(false);
            sel.register(conn, Set.of(EVENT_READ), read);
          };
      sel.register(sock, Set.of(EVENT_READ), accept);
      var errors = new ConcurrentLinkedQueue<Throwable>();
      List<Future<?>> done = new ArrayList<>();
      try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < clients; i++) {
          int client = i;
          done.add(
              pool.submit(
                  () -> {
                    try (Socket s =
                        Sockets.createConnection(sock.getSockName(), Duration.ofSeconds(30))) {
                      Random random = new Random(client);
                      for (int j = 0; j < messages; j++) {
                        byte[] msg = new byte[1 + (client * 37 + j * 101) % 900];
                        random.nextBytes(msg);
                        s.sendAll(msg);
                        assertThat(recvExactly(s, msg.length)).isEqualTo(msg);
                      }
                      s.shutdown(Shutdown.SHUT_WR);
                      assertThat(s.recv(10)).isEmpty();
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                    return null;
                  }));
        }
        for (int round = 0; round < 1_000_000 && closed[0] < clients; round++) {
          List<Ready> events = sel.select(Duration.ofSeconds(30));
          assertThat(events).as("events within 30 s").isNotEmpty();
          for (Ready ready : events) {
            ((Callback) ready.key().data()).call(ready.key().socket());
          }
        }
        for (Future<?> f : done) {
          f.get();
        }
      }
      assertThat(errors).isEmpty();
      assertThat(closed[0]).isEqualTo(clients);
      assertThat(sel.getMap()).containsOnlyKeys(sock);
    }
  }

  // The HOWTO's non-blocking connect, checked as python3 answers: connect_ex EINPROGRESS, select
  // for writing, connect_ex 0, then EISCONN; to a port nobody listens on, readable and writable,
  // then ECONNREFUSED
  @Test
  void aNonBlockingConnectIsFinishedAsInTheHowto() throws Exception {
    try (Socket srv = Sockets.createServer("127.0.0.1", 0);
        Loopback.Refusing nobody = Loopback.refusingAddress(AF_INET);
        SocketSelector sel = SocketSelector.open()) {
      int port = ((InetSocketAddress) srv.getSockName()).getPort();
      try (Socket s = Socket.create()) {
        s.setBlocking(false);
        assertThat(s.connectEx("127.0.0.1", port)).isEqualTo(Errno.EINPROGRESS);
        sel.register(s, Set.of(EVENT_READ, EVENT_WRITE), null);
        List<Ready> ready = sel.select(Duration.ofSeconds(10));
        assertThat(ready).singleElement().extracting(Ready::events).isEqualTo(Set.of(EVENT_WRITE));
        assertThat(s.connectEx("127.0.0.1", port)).isZero();
        assertThat(s.connectEx("127.0.0.1", port)).isEqualTo(Errno.EISCONN);
        assertThat(s.send("abc".getBytes(UTF_8))).isEqualTo(3);
        sel.unregister(s);
      }
      try (Socket s = Socket.create()) {
        s.setBlocking(false);
        assertThat(s.connectEx(nobody.address())).isEqualTo(Errno.EINPROGRESS);
        sel.register(s, Set.of(EVENT_READ, EVENT_WRITE), null);
        List<Ready> ready = sel.select(Duration.ofSeconds(10));
        assertThat(ready)
            .singleElement()
            .extracting(Ready::events)
            .isEqualTo(Set.of(EVENT_READ, EVENT_WRITE));
        assertThat(s.connectEx(nobody.address())).isEqualTo(Errno.ECONNREFUSED);
        sel.unregister(s);
      }
    }
  }

  // s.settimeout(t); s.sendto(b'ping %d' % i, addr); data, server = s.recvfrom(1024)
  @Test
  void aUdpPingTimesOutWithoutAnAnswerAndGetsTheEchoAndItsAddressWithOne() throws Exception {
    try (Socket quiet = Socket.create(AF_INET, SOCK_DGRAM);
        Socket echo = Socket.create(AF_INET, SOCK_DGRAM);
        Socket s = Socket.create(AF_INET, SOCK_DGRAM)) {
      quiet.bind("127.0.0.1", 0);
      echo.bind("127.0.0.1", 0);
      s.setTimeout(Duration.ofMillis(200));
      assertThat(s.sendTo("ping 0".getBytes(UTF_8), quiet.getSockName())).isEqualTo(6);
      assertThatThrownBy(() -> s.recvFrom(1024)).isInstanceOf(SocketTimeoutException.class);
      var server =
          Running.inVirtualThread(
              () -> {
                for (int i = 0; i < 10; i++) {
                  Datagram d = echo.recvFrom(1024);
                  echo.sendTo(d.data(), d.address());
                }
                return null;
              });
      s.setTimeout(Duration.ofSeconds(10));
      for (int i = 0; i < 10; i++) {
        byte[] ping = ("ping " + i).getBytes(UTF_8);
        s.sendTo(ping, echo.getSockName());
        Datagram d = s.recvFrom(1024);
        assertThat(d).isEqualTo(new Datagram(ping, echo.getSockName()));
      }
      server.get();
    }
  }

  // a, b = socket.socketpair(); a thread sends on b and half-closes; a answers back
  @Test
  void aSocketPairCarriesBytesBetweenTwoThreadsBothWays() throws Exception {
    Socket[] pair = Sockets.socketPair();
    try (Socket a = pair[0];
        Socket b = pair[1]) {
      var writer =
          Running.inPlatformThread(
              () -> {
                b.sendAll("hello".getBytes(UTF_8));
                b.shutdown(Shutdown.SHUT_WR);
                return new String(b.recv(10), UTF_8);
              });
      assertThat(recvExactly(a, 5)).isEqualTo("hello".getBytes(UTF_8));
      assertThat(a.recv(100)).isEmpty();
      a.sendAll("back".getBytes(UTF_8));
      assertThat(writer.get()).isEqualTo("back");
      a.close();
      assertThat(b.recv(10)).isEmpty();
      assertThatThrownBy(() -> b.send("x".getBytes(UTF_8))).isInstanceOf(BrokenPipeException.class);
    }
  }

  // rf = conn.makefile('r'); wf = conn.makefile('w'); for line in rf: wf.write(line.upper());
  // then a request half-closed with shutdown(SHUT_WR), answered once its end has come
  @Test
  void aLineProtocolOverMakeFileThenAHalfClosedRequestAndItsResponse() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Socket conn = pair.server();
      var server =
          Running.inVirtualThread(
              () -> {
                BufferedReader rf = conn.makeFile("r");
                BufferedWriter wf = conn.makeFile("w");
                String line;
                while (!(line = rf.readLine()).equals("HALF")) {
                  wf.write(line.toUpperCase() + "\n");
                  wf.flush();
                }
                wf.write("READY\n"); // nothing follows HALF in rf's buffer before this is read
                wf.flush();
                BufferedInputStream rest = conn.makeFile("rb");
                long total = rest.readAllBytes().length;
                conn.sendAll(("got " + total + "\n").getBytes(UTF_8));
                conn.close();
                return null;
              });
      Socket c = pair.client();
      BufferedReader rf = c.makeFile("r");
      BufferedWriter wf = c.makeFile("w");
      for (int i = 0; i < 200; i++) {
        wf.write("héllo " + i + "\n");
        wf.flush();
        assertThat(rf.readLine()).isEqualTo("HÉLLO " + i);
      }
      wf.write("HALF\n");
      wf.flush();
      assertThat(rf.readLine()).isEqualTo("READY");
      BufferedOutputStream wb = c.makeFile("wb");
      wb.write(new byte[1_000_000]);
      wb.flush();
      c.shutdown(Shutdown.SHUT_WR);
      assertThat(rf.readLine()).isEqualTo("got 1000000");
      assertThat(rf.readLine()).isNull();
      server.get();
    }
  }

  // with open(path, 'rb') as f: sock.sendfile(f, 100, 50) sends bytes 100..149; an offset past the
  // end sends nothing (python3: 50, then 0); python-api.md promises sendFile of a Path with both
  @Test
  void sendFileOfAPathTakesAnOffsetAndACountAsPythonsSendfile() throws Exception {
    byte[] content = new byte[1024];
    new Random(7).nextBytes(content);
    Path file = Files.write(dir.resolve("f.bin"), content);
    try (Pair pair = Loopback.pair(AF_INET)) {
      assertThat(pair.client().sendFile(file, 100, 50)).isEqualTo(50);
      assertThat(recvExactly(pair.server(), 50)).isEqualTo(Arrays.copyOfRange(content, 100, 150));
      assertThat(pair.client().sendFile(file, 2000, 50)).isZero();
      assertThat(pair.client().sendFile(file, 1000, Long.MAX_VALUE)).isEqualTo(24);
      assertThat(recvExactly(pair.server(), 24)).isEqualTo(Arrays.copyOfRange(content, 1000, 1024));
      assertThatThrownBy(() -> pair.client().sendFile(file, 0, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("count must be positive: 0");
    }
  }
}
