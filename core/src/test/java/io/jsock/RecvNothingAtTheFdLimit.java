package io.jsock;

import io.jsock.internal.SocketAccess;
import io.jsock.testing.FdLimit;
import io.jsock.testing.Loopback;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A child JVM's main, for {@link SocketTest}: run under {@code ulimit -n}, it connects a TCP and an
 * AF_UNIX stream pair in {@code args[0]}, takes every free descriptor, then asks a stream's {@code
 * recvFrom(0)} (data queued, nothing queued in each mode, at the end of the stream) and prints what
 * each gave, as python3's {@code recvfrom(0)}, which needs no descriptor, answers. A call still
 * waiting after {@link #BOUND} is reported as such, its socket closed to end it.
 */
public final class RecvNothingAtTheFdLimit {
  private static final long BOUND = TimeUnit.SECONDS.toNanos(10);

  /** The modes, as {@link Socket#setTimeout} takes them (Python's {@code settimeout}). */
  private static final Duration BLOCKING = null;

  private static final Duration NON_BLOCKING = Duration.ZERO;

  /** Every descriptor taken: each question takes again any that a close has freed. */
  private static final Deque<FileInputStream> HELD = new ArrayDeque<>();

  private RecvNothingAtTheFdLimit() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    warmUp(dir);
    List<Loopback.Pair> pairs = new ArrayList<>();
    for (Family family : List.of(Family.AF_INET, Family.AF_UNIX)) {
      Loopback.Pair pair = Loopback.pair(family, dir);
      pair.client().sendAll(bytes("hi")); // queued at the server's end once sent, on loopback
      pairs.add(pair);
    }
    List<String> out = new ArrayList<>();
    takeEveryFreeDescriptor();
    for (Loopback.Pair pair : pairs) {
      out.addAll(askAtTheLimit(pair.client(), pair.server()));
    }
    FdLimit.release(HELD);
    for (Loopback.Pair pair : pairs) {
      pair.close();
    }
    out.forEach(System.out::println);
  }

  /**
   * Every question, in python3's order, of {@code socket}, whose peer has sent "hi". Each sets the
   * mode it asks in, so that one that fails (the socket closed after a wait that never ended) does
   * not end the others.
   */
  private static List<String> askAtTheLimit(Socket peer, Socket socket) throws Exception {
    String family = socket.family() + " ";
    List<String> out = new ArrayList<>();
    out.add(family + "queued recvFrom(0) " + attempt(socket, () -> recvFrom0(socket, BLOCKING)));
    out.add(
        family
            + "queued non-blocking recvFrom(0) "
            + attempt(socket, () -> recvFromInto0(socket, NON_BLOCKING)));
    out.add(family + "queued hasUnreadData " + hasUnreadData(socket));
    out.add(family + "queued recv " + attempt(socket, () -> recv(socket)));
    out.add(family + "empty hasUnreadData " + hasUnreadData(socket));
    out.add(
        family
            + "empty timeout recvFrom(0) "
            + attempt(socket, () -> recvFrom0(socket, Duration.ofMillis(200))));
    out.add(
        family
            + "empty non-blocking recvFrom(0) "
            + attempt(socket, () -> recvFrom0(socket, NON_BLOCKING)));
    takeEveryFreeDescriptor();
    FutureTask<Object> waiting = new FutureTask<>(() -> recvFrom0(socket, BLOCKING));
    Thread waiter = Thread.ofVirtual().start(waiting);
    awaitParked(waiter);
    try {
      peer.sendAll(bytes("x"));
    } catch (IOException e) {
      // reset by the socket closed after a wait that never ended: the next lines show that
    }
    out.add(family + "empty blocking recvFrom(0), data later " + outcome(socket, waiting));
    out.add(family + "recv " + attempt(socket, () -> recv(socket)));
    peer.close();
    out.add(family + "eof recvFrom(0) " + attempt(socket, () -> recvFrom0(socket, BLOCKING)));
    out.add(
        family
            + "eof non-blocking recvFrom(0) "
            + attempt(socket, () -> recvFromInto0(socket, NON_BLOCKING)));
    out.add(family + "eof recv " + attempt(socket, () -> recv(socket)));
    return out;
  }

  /** The server's first-byte check: whether the peer has sent anything not yet received. */
  private static boolean hasUnreadData(Socket socket) {
    takeEveryFreeDescriptor();
    return SocketAccess.get().hasUnreadData(socket);
  }

  private static void takeEveryFreeDescriptor() {
    HELD.addAll(FdLimit.takeEveryDescriptor());
  }

  /** {@code recvFrom(0)} in the mode of {@code timeout} (as Python's {@code settimeout}). */
  private static byte[] recvFrom0(Socket socket, Duration timeout) throws Exception {
    socket.setTimeout(timeout);
    return socket.recvFrom(0).data();
  }

  /** {@code recvFromInto} of no room, as {@code recvFrom(0)}: its data, none. */
  private static byte[] recvFromInto0(Socket socket, Duration timeout) throws Exception {
    socket.setTimeout(timeout);
    socket.recvFromInto(ByteBuffer.allocate(0));
    return new byte[0];
  }

  private static byte[] recv(Socket socket) throws Exception {
    socket.setTimeout(BLOCKING);
    return socket.recv(10);
  }

  /** The call's outcome, in its own thread: see {@link #outcome}. */
  private static String attempt(Socket socket, Callable<Object> call) throws Exception {
    takeEveryFreeDescriptor();
    FutureTask<Object> task = new FutureTask<>(call);
    Thread.ofVirtual().start(task);
    return outcome(socket, task);
  }

  /**
   * What the call gave ({@code made b'…'}) or threw; "still waiting" after {@link #BOUND}, when the
   * socket is closed to end it.
   */
  private static String outcome(Socket socket, FutureTask<Object> task) throws Exception {
    try {
      byte[] data = (byte[]) task.get(BOUND, TimeUnit.NANOSECONDS);
      return "made b'" + new String(data, StandardCharsets.US_ASCII) + "'";
    } catch (TimeoutException e) {
      socket.close();
      return "still waiting";
    } catch (ExecutionException e) {
      return e.getCause().getClass().getSimpleName();
    }
  }

  /** Waits, {@link #BOUND} at most, until the thread parks (a blocking receive's wait). */
  private static void awaitParked(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND;
    while (thread.getState() != Thread.State.WAITING && System.nanoTime() - deadline < 0) {
      Thread.sleep(1);
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Loads jsock's classes and what the calls need of the JDK while descriptors are free, and starts
   * the poller (as StartsAtTheFdLimit).
   */
  private static void warmUp(Path dir) throws Exception {
    FdLimit.loadJsockClasses(RecvNothingAtTheFdLimit.class.getClassLoader());
    Selector.open().close();
    try (Loopback.Pair pair = Loopback.pair(Family.AF_UNIX, dir)) {
      pair.client().sendAll(bytes("w"));
      pair.server().recvFrom(0);
      for (Duration timeout : List.of(NON_BLOCKING, Duration.ofMillis(1))) {
        pair.server().setTimeout(timeout);
        FutureTask<Object> task = new FutureTask<>(() -> pair.server().recv(1));
        Thread.ofVirtual().start(task);
        outcome(pair.server(), task);
      }
    }
  }
}
