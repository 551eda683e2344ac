package io.jsock;

import static java.util.concurrent.TimeUnit.SECONDS;

import io.jsock.testing.Loopback;
import io.jsock.testing.Running;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A child JVM's main, for {@link SocketTest}: run with {@code -Djsock.pollSliceMillis} long (an
 * hour), so that a platform thread waiting in {@code poll(2)} on the epoll path leaves it only when
 * something wakes it. Each case starts platform threads that wait on a socket, does what should
 * wake them, and prints what each thread met, or {@code still waiting} when nothing woke it within
 * ten seconds. The cases: a close while one thread receives and another sends on the socket; a
 * close that races the start of a receive ({@code args[1]} rounds); and {@code shutdown(SHUT_WR)}
 * while a thread sends on a full AF_UNIX stream (which never reports room to write once shut).
 */
public final class WakeInPoll {
  private WakeInPoll() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int rounds = Integer.parseInt(args[1]);
    closeWakesAReaderAndAWriter(dir);
    closeRacingTheStartOfAWait(dir, rounds);
    shutdownForWritingWakesAWriter(dir);
    System.exit(0); // threads still waiting would keep the JVM, or a test's close, for an hour
  }

  private static void closeWakesAReaderAndAWriter(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
    Socket socket = pair.server();
    Running<String> reader = start(() -> socket.recv(1));
    Running<String> writer =
        start(
            () -> {
              while (true) {
                socket.send(new byte[1 << 16]); // until the buffers fill, then it waits
              }
            });
    awaitInPoll(reader);
    awaitInPoll(writer);
    Running<String> closing =
        start(
            () -> {
              socket.close();
              return "closed";
            });
    System.out.println(
        "close: "
            + outcome(closing)
            + "; reader: "
            + outcome(reader)
            + "; writer: "
            + outcome(writer));
  }

  private static void closeRacingTheStartOfAWait(Path dir, int rounds) throws Exception {
    int woken = 0;
    String other = null;
    for (int round = 0; round < rounds; round++) {
      Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
      Socket socket = pair.server();
      Running<String> reader = start(() -> socket.recv(1));
      Running<String> closing =
          start(
              () -> {
                socket.close();
                return "closed";
              });
      String seen = "close: " + outcome(closing) + "; reader: " + outcome(reader);
      if (seen.equals("close: closed; reader: ClosedSocketException")) {
        woken++;
      } else if (other == null) {
        other = "round " + round + ": " + seen;
      }
      pair.client().close();
    }
    System.out.println("close racing a wait: ended in " + woken + " of " + rounds + " rounds");
    if (other != null) {
      System.out.println("first other: " + other);
    }
  }

  private static void shutdownForWritingWakesAWriter(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_UNIX, dir);
    Socket socket = pair.server();
    Running<String> writer =
        start(
            () -> {
              while (true) {
                socket.send(new byte[1 << 16]);
              }
            });
    awaitInPoll(writer); // the peer reads nothing
    socket.shutdown(Shutdown.SHUT_WR);
    System.out.println("shutdown(SHUT_WR): writer: " + outcome(writer));
  }

  /**
   * Waits until the thread is blocked in {@code poll} (as {@code /proc/self/task/TID/syscall}
   * shows; {@link Running#awaitBlocked()} needs Awaitility, not on this JVM's class path), ten
   * seconds at most. {@link InterruptInPoll} waits so too.
   */
  static void awaitInPoll(Running<String> running) throws Exception {
    for (int i = 0; i < 10_000; i++) {
      try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
        for (Path task : tasks.toList()) {
          try {
            if (Files.readString(task.resolve("comm")).strip().equals(running.thread().getName())
                && POLL_CALLS.contains(Files.readString(task.resolve("syscall")).split(" ")[0])) {
              return;
            }
          } catch (NoSuchFileException ended) {
            // a thread that ended while we looked
          }
        }
      }
      Thread.sleep(1);
    }
    throw new AssertionError(running.thread().getName() + " never waited in poll");
  }

  /** {@code poll} and {@code ppoll} on x86-64, {@code ppoll} on arm64. */
  private static final Set<String> POLL_CALLS =
      "aarch64".equals(System.getProperty("os.arch")) ? Set.of("73") : Set.of("7", "271");

  private static Running<String> start(Callable<?> task) {
    return Running.inPlatformThread(() -> String.valueOf(task.call()));
  }

  private static String outcome(Running<String> task) throws InterruptedException {
    try {
      return task.result().get(10, SECONDS);
    } catch (TimeoutException e) {
      return "still waiting";
    } catch (ExecutionException e) {
      return e.getCause().getClass().getSimpleName();
    }
  }
}
