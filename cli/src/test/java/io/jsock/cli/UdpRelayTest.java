package io.jsock.cli;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Datagram;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link UdpRelay} in this JVM, between an echoing target and a client on loopback, where the test
 * can hold the relay's threads at a line of its log.
 */
class UdpRelayTest {
  private static final Duration LIMIT = Duration.ofSeconds(10);

  @Test
  void aDatagramArrivingAsItsSessionGoesIdleIsRelayedAndAnswered() throws Exception {
    // the session's thread is held at its 'session ended' line until the target has the next
    // datagram (or the relay's receiving thread waits for the log): a datagram the relay hands
    // to a session that is ending reaches the target, and its answer went to a closed socket
    CountDownLatch ended = new CountDownLatch(1);
    CountDownLatch targetGotTwo = new CountDownLatch(1);
    Thread[] receiving = new Thread[1];
    Writer holding =
        new Writer() {
          private final StringBuilder line = new StringBuilder();

          @Override
          public void write(char[] chars, int offset, int length) {
            line.append(chars, offset, length);
          }

          @Override
          public void flush() {
            if (line.indexOf("session ended: idle") >= 0 && ended.getCount() > 0) {
              ended.countDown();
              for (int i = 0; i < 500 && targetGotTwo.getCount() > 0; i++) { // at most 5 s
                if (receiving[0].getState() == Thread.State.BLOCKED) {
                  break; // the receiving thread waits for this line: it holds no session
                }
                sleep(10);
              }
            }
            line.setLength(0);
          }

          @Override
          public void close() {}
        };
    RelayLog log = new RelayLog(new Lines(new PrintWriter(holding)), 1, false);
    try (Socket target = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      target.bind("127.0.0.1", 0);
      listener.bind("127.0.0.1", 0);
      client.bind("127.0.0.1", 0);
      client.setTimeout(LIMIT);
      Thread.ofVirtual().start(() -> echo(target, targetGotTwo));
      receiving[0] =
          startRelay(
              Thread.ofPlatform().daemon(),
              listener,
              "udp:127.0.0.1:" + port(target),
              // long enough for the first datagram's answer however late the target's thread
              // runs (under load, 100 ms ended the session before the answer came back)
              Duration.ofSeconds(1),
              log);
      InetSocketAddress relayAddress = new InetSocketAddress("127.0.0.1", port(listener));
      client.sendTo("one".getBytes(US_ASCII), relayAddress);
      assertThat(new String(client.recvFrom(100).data(), US_ASCII)).isEqualTo("one");
      assertThat(ended.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      client.sendTo("two".getBytes(US_ASCII), relayAddress);
      assertThat(new String(client.recvFrom(100).data(), US_ASCII)).isEqualTo("two");
    }
  }

  @Test
  void aReplyTooLongForTheClientsFamilyIsDroppedAndTheSessionGoesOn() throws Exception {
    // an IPv6 target may answer 65,527 bytes, which an IPv4 client cannot be sent (EMSGSIZE): the
    // session ended there, losing the replies behind it and showing the target a new source port
    // for the client's next datagram; socat's session goes on, as the sending direction's did
    List<Integer> peerPorts = new CopyOnWriteArrayList<>();
    StringWriter err = new StringWriter();
    RelayLog log = new RelayLog(new Lines(new PrintWriter(err)), 1, false);
    try (Socket target = Socket.create(Family.AF_INET6, SocketKind.SOCK_DGRAM);
        Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      target.bind("::1", 0);
      listener.bind("127.0.0.1", 0);
      client.bind("127.0.0.1", 0);
      client.setTimeout(LIMIT);
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  for (int i = 0; i < 100; i++) { // bounded: the test sends two
                    Datagram d = target.recvFrom(65536);
                    peerPorts.add(((InetSocketAddress) d.address()).getPort());
                    target.sendTo(new byte[65_527], d.address()); // IPv6's largest
                    target.sendTo(d.data(), d.address());
                  }
                } catch (IOException e) {
                  // closed by the test
                }
              });
      startRelay(
          Thread.ofVirtual(), listener, "udp:[::1]:" + port(target), Duration.ofSeconds(60), log);
      InetSocketAddress relayAddress = new InetSocketAddress("127.0.0.1", port(listener));
      client.sendTo("one".getBytes(US_ASCII), relayAddress);
      assertThat(new String(client.recvFrom(100).data(), US_ASCII)).isEqualTo("one");
      client.sendTo("two".getBytes(US_ASCII), relayAddress);
      assertThat(new String(client.recvFrom(100).data(), US_ASCII)).isEqualTo("two");
      assertThat(peerPorts).hasSize(2);
      assertThat(peerPorts.get(1)).as("the same session's socket").isEqualTo(peerPorts.get(0));
      assertThat(err.toString())
          .contains(" < send to 127.0.0.1:" + port(client) + ": message too long")
          .doesNotContain("session ended");
    }
  }

  @Test
  void withVeryVerboseEachDatagramIsSaidBothWays() throws Exception {
    // -vv promises a line per chunk passed on ('> 7 bytes' up, '< 7 bytes' down), as the stream
    // relay writes; the UDP relay said nothing per datagram (only -x's dump headers)
    StringWriter err = new StringWriter();
    RelayLog log = new RelayLog(new Lines(new PrintWriter(err)), 2, false);
    try (Socket target = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      target.bind("127.0.0.1", 0);
      listener.bind("127.0.0.1", 0);
      client.bind("127.0.0.1", 0);
      client.setTimeout(LIMIT);
      Thread.ofVirtual().start(() -> echo(target, new CountDownLatch(1)));
      startRelay(
          Thread.ofVirtual(),
          listener,
          "udp:127.0.0.1:" + port(target),
          Duration.ofSeconds(60),
          log);
      client.sendTo(
          "seven!!".getBytes(US_ASCII), new InetSocketAddress("127.0.0.1", port(listener)));
      assertThat(new String(client.recvFrom(100).data(), US_ASCII)).isEqualTo("seven!!");
      String name = "127.0.0.1:" + port(client);
      // each line is written after its send (the forward's may come after the reply's): waited
      // for, boundedly
      for (int i = 0;
          i < 500
              && !(err.toString().contains(name + " < 7 bytes")
                  && err.toString().contains(name + " > 7 bytes"));
          i++) {
        sleep(10);
      }
      assertThat(err.toString().lines())
          .contains(name + " session to udp:127.0.0.1:" + port(target))
          .contains(name + " > 7 bytes")
          .contains(name + " < 7 bytes");
    }
  }

  private static void echo(Socket target, CountDownLatch gotTwo) {
    try {
      for (int i = 0; i < 100; i++) { // bounded: the test sends two
        Datagram d = target.recvFrom(65536);
        if (new String(d.data(), US_ASCII).equals("two")) {
          gotTwo.countDown();
        }
        target.sendTo(d.data(), d.address());
      }
    } catch (IOException e) {
      // closed by the test
    }
  }

  private static int port(Socket socket) throws IOException {
    return ((InetSocketAddress) socket.getSockName()).getPort();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs a relay from {@code listener} to {@code target} on a new thread, until the test closes the
   * listener.
   */
  private static Thread startRelay(
      Thread.Builder thread, Socket listener, String target, Duration idle, RelayLog log)
      throws IOException {
    UdpRelay relay =
        new UdpRelay(listener, RelayEndpoint.parse(target), null, idle, 10, new AccessList(), log);
    return thread.start(
        () -> {
          try {
            relay.run();
          } catch (IOException e) {
            // the listener closed by the test
          }
        });
  }
}
