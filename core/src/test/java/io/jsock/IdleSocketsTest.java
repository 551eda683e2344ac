package io.jsock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ten thousand sockets in timeout mode waiting to receive at once, each on its own virtual thread:
 * the shared poller must hold them with a handful of platform threads and no file descriptor per
 * socket beyond the socket's own (a selector per socket would add two). The other ends are held by
 * a Python process, since the open-file limit is per process.
 */
class IdleSocketsTest {
  private static final int SOCKETS = 10_000;

  @Tag("slow")
  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // 20 s alone, 52 s seen beside two busy loops
  void tenThousandSocketsWaitInTimeoutModeWithoutAThreadOrSelectorEach() throws Exception {
    List<Socket> servers = new ArrayList<>(SOCKETS);
    List<Thread> waiters = new ArrayList<>(SOCKETS);
    AtomicInteger received = new AtomicInteger();
    Process peer = null;
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      Path script = Path.of(IdleSocketsTest.class.getResource("/hold_connections.py").toURI());
      peer =
          new ProcessBuilder("python3", script.toString(), "127.0.0.1", "" + port, "" + SOCKETS)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      BufferedReader peerSays =
          new BufferedReader(new InputStreamReader(peer.getInputStream(), UTF_8));
      while (servers.size() < SOCKETS) {
        servers.add(listener.accept().conn());
      }
      assertThat(peerSays.readLine()).isEqualTo("connected");
      long fdsBefore = count("/proc/self/fd");
      List<String> threadsBefore = threadNames();

      for (Socket server : servers) {
        server.setTimeout(Duration.ofMinutes(10)); // timeout mode; longer than the test may take
        waiters.add(Thread.ofVirtual().start(() -> receiveOne(server, received)));
      }
      await()
          .atMost(Duration.ofSeconds(180))
          .until(() -> waiters.stream().allMatch(IdleSocketsTest::isParked));

      // A thread or selector per socket would add thousands of threads or 20,000 descriptors. A
      // handful of threads may start meanwhile, whatever the sockets do: the carrier pool's (one
      // per core, and more to make up for a carrier blocked in file I/O such as class loading),
      // jsock's timer, the JDK's unparker, the garbage collector's, Awaitility's poller not yet
      // ended: 5 were seen on 2 cores under load, one short of the former bound (CPUs + 4).
      List<String> threadsAdded = new ArrayList<>(threadNames());
      threadsBefore.forEach(threadsAdded::remove);
      assertThat(threadsAdded)
          .as("operating-system threads added while %d sockets wait", SOCKETS)
          .hasSizeLessThan(100);
      assertThat(count("/proc/self/fd") - fdsBefore)
          .as("file descriptors added while %d sockets wait", SOCKETS)
          .isLessThan(50);

      Writer toPeer = new OutputStreamWriter(peer.getOutputStream(), UTF_8);
      toPeer.write("send\n");
      toPeer.flush();
      for (Thread waiter : waiters) {
        waiter.join(Duration.ofSeconds(180));
      }
      assertThat(received).hasValue(SOCKETS);
      assertThat(peerSays.readLine()).isEqualTo("sent");
      toPeer.close();
      assertThat(peer.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      for (Socket socket : servers) {
        socket.close();
      }
      if (peer != null) {
        peer.destroyForcibly();
      }
    }
  }

  private static void receiveOne(Socket server, AtomicInteger received) {
    try {
      if (server.recv(1).length == 1) {
        received.incrementAndGet();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parked in a wait: timed waits park untimed, woken by jsock's one timer thread at the deadline.
   */
  private static boolean isParked(Thread thread) {
    Thread.State state = thread.getState();
    return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
  }

  /** The names of this process's operating-system threads (truncated to 15 bytes by Linux). */
  private static List<String> threadNames() throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          names.add(Files.readString(task.resolve("comm")).strip());
        } catch (IOException ended) {
          // the thread ended between the listing and the read
        }
      }
    }
    return names;
  }

  private static long count(String directory) throws IOException {
    try (Stream<Path> entries = Files.list(Path.of(directory))) {
      return entries.count();
    }
  }
}
