package io.jsock;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.SECONDS;

import io.jsock.testing.Loopback;
import io.jsock.testing.Running;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * A child JVM's main, for {@link SocketTest}: run with {@code -Djsock.pollSliceMillis} long (an
 * hour), so that a platform thread waiting in {@code poll(2)} on the epoll path notices an
 * interrupt only when the interrupt wakes the {@code poll}, not at the end of a slice. Each case
 * starts a platform thread that waits in a blocking call, interrupts it once it is in {@code poll},
 * and prints what the call threw, whether the thread kept its interrupt status and the socket
 * stayed open, and what the same thread's next call on the socket, its status cleared, did; or
 * {@code still waiting} when the interrupt did not end the wait within ten seconds. The cases:
 * recv, accept, send on a full stream, connect to a listener whose accept queue is full, and a recv
 * by a thread already interrupted.
 */
public final class InterruptInPoll {
  private InterruptInPoll() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    recv(dir);
    accept(dir);
    send(dir);
    connect(dir);
    recvAlreadyInterrupted(dir);
    recvInAWakeupHandedOver(dir);
    System.exit(0); // threads still waiting would keep the JVM, or a test's close, for an hour
  }

  private static void recv(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
    Socket socket = pair.server();
    CountDownLatch ended = new CountDownLatch(1);
    Running<String> reader =
        start(
            () ->
                ended(() -> socket.recv(10), socket, ended)
                    + "; then "
                    + new String(socket.recv(100), US_ASCII));
    interruptInPoll(reader);
    if (!awaitAndWaitAgain(ended, reader)) {
      System.out.println("recv: still waiting");
      return;
    }
    pair.client().sendAll("still open".getBytes(US_ASCII));
    System.out.println("recv: " + outcome(reader));
  }

  private static void accept(Path dir) throws Exception {
    Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    listener.bind(Loopback.bindAddress(Family.AF_INET, dir));
    listener.listen();
    CountDownLatch ended = new CountDownLatch(1);
    Running<String> acceptor =
        start(
            () -> {
              String first = ended(listener::accept, listener, ended);
              try (Socket conn = listener.accept().conn()) {
                return first + "; then accepted " + new String(conn.recv(100), US_ASCII);
              }
            });
    interruptInPoll(acceptor);
    if (!awaitAndWaitAgain(ended, acceptor)) {
      System.out.println("accept: still waiting");
      return;
    }
    Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    client.connect(listener.getSockName());
    client.sendAll("a client".getBytes(US_ASCII));
    System.out.println("accept: " + outcome(acceptor));
  }

  /**
   * The sender fills the stream, is interrupted, then sends "end": the peer, reading to the end of
   * the stream, must count every byte that the sends said they took, and "end" last.
   */
  private static void send(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
    Socket socket = pair.server();
    CountDownLatch ended = new CountDownLatch(1);
    long[] sent = {0};
    Running<String> writer =
        start(
            () -> {
              String first =
                  ended(
                      () -> {
                        byte[] chunk = new byte[1 << 16];
                        for (int i = 0; i < 100_000; i++) { // until the buffers fill, then waits
                          sent[0] += socket.send(chunk);
                        }
                        return null;
                      },
                      socket,
                      ended);
              socket.sendAll("end".getBytes(US_ASCII));
              socket.close();
              return first;
            });
    interruptInPoll(writer);
    if (!awaitAndWaitAgain(ended, null)) {
      System.out.println("send: still waiting");
      return;
    }
    String peer = readToTheEnd(pair.client(), sent[0]);
    System.out.println("send: " + outcome(writer) + "; then " + peer);
  }

  private static String readToTheEnd(Socket socket, long expected) throws Exception {
    long total = 0;
    byte[] last = new byte[0];
    for (int i = 0; i < 1_000_000; i++) {
      byte[] got = socket.recv(1 << 16);
      if (got.length == 0) {
        String tail = new String(last, Math.max(0, last.length - 3), Math.min(3, last.length));
        return (total == expected + 3 ? "peer read every byte" : "peer read " + total)
            + ", ending with "
            + tail;
      }
      total += got.length;
      last = got;
    }
    return "peer never saw the end";
  }

  private static void connect(Path dir) throws Exception {
    Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    listener.bind(Loopback.bindAddress(Family.AF_INET, dir));
    listener.listen(0);
    List<Socket> queued = fillAcceptQueue(listener);
    Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    CountDownLatch ended = new CountDownLatch(1);
    Running<String> connector =
        start(
            () ->
                ended(
                    () -> {
                      client.connect(listener.getSockName());
                      return null;
                    },
                    client,
                    ended));
    interruptInPoll(connector);
    System.out.println("connect: " + outcome(connector));
    for (Socket socket : queued) {
      socket.close();
    }
  }

  /** Connects clients to {@code listener} until its accept queue is full (a connect times out). */
  private static List<Socket> fillAcceptQueue(Socket listener) throws Exception {
    List<Socket> clients = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
      client.setTimeout(Duration.ofMillis(100));
      if (client.connectEx(listener.getSockName()) != 0) {
        client.close();
        return clients;
      }
      clients.add(client);
    }
    throw new AssertionError("the accept queue never filled");
  }

  /** A thread interrupted before its recv would wait: the recv throws without waiting. */
  private static void recvAlreadyInterrupted(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
    Socket socket = pair.server();
    CountDownLatch ended = new CountDownLatch(1);
    Running<String> reader =
        start(
            () -> {
              Thread.currentThread().interrupt();
              return ended(() -> socket.recv(10), socket, ended)
                  + "; then "
                  + new String(socket.recv(100), US_ASCII);
            });
    if (!awaitAndWaitAgain(ended, reader)) {
      System.out.println("recv already interrupted: still waiting");
      return;
    }
    pair.client().sendAll("still open".getBytes(US_ASCII));
    System.out.println("recv already interrupted: " + outcome(reader));
  }

  /**
   * A thread that waited in poll (so had a wakeup) ends; the next platform thread to wait takes a
   * wakeup over rather than make an eventfd, and an interrupt still reaches that thread's poll: the
   * hook signals whichever thread has the wakeup now, not the one it was made for.
   */
  private static void recvInAWakeupHandedOver(Path dir) throws Exception {
    Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir);
    Socket socket = pair.server();
    Running<String> first = start(() -> new String(socket.recv(100), US_ASCII));
    WakeInPoll.awaitInPoll(first);
    pair.client().sendAll("first".getBytes(US_ASCII));
    String firstGot = outcome(first);
    first.thread().join(10_000);
    long eventFds = eventFds();
    CountDownLatch ended = new CountDownLatch(1);
    Running<String> next =
        start(
            () ->
                ended(() -> socket.recv(10), socket, ended)
                    + "; then "
                    + new String(socket.recv(100), US_ASCII));
    interruptInPoll(next);
    if (!awaitAndWaitAgain(ended, next)) {
      System.out.println("recv in a wakeup handed over: still waiting");
      return;
    }
    long made = eventFds() - eventFds;
    pair.client().sendAll("still open".getBytes(US_ASCII));
    System.out.println(
        "recv in a wakeup handed over: "
            + firstGot
            + "; eventfds made: "
            + made
            + "; "
            + outcome(next));
  }

  /** How many eventfds this JVM holds, as /proc/self/fd shows them. */
  private static long eventFds() throws Exception {
    try (var fds = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(InterruptInPoll::isEventFd).count();
    }
  }

  private static boolean isEventFd(Path fd) {
    try {
      return java.nio.file.Files.readSymbolicLink(fd).toString().contains("eventfd");
    } catch (java.io.IOException e) {
      return false; // the listing's own descriptor, closed since
    }
  }

  /**
   * Runs a call that an interrupt should end, and says how it ended: the exception's simple name,
   * whether the thread kept its interrupt status (which this clears) and whether the socket is
   * open; counts {@code ended} down.
   */
  private static String ended(Callable<?> call, Socket socket, CountDownLatch ended) {
    String outcome;
    try {
      call.call();
      outcome = "returned";
    } catch (Exception e) {
      outcome = e.getClass().getSimpleName();
      if (e instanceof InterruptedIOException) {
        outcome += ", " + e.getMessage().replaceAll(".*: ", "");
      }
    }
    outcome += Thread.interrupted() ? ", status kept" : ", status lost";
    outcome += socket.isClosed() ? ", socket closed" : ", socket open";
    ended.countDown();
    return outcome;
  }

  /**
   * Waits (ten seconds at most) until the interrupted call has ended and, unless {@code next} is
   * null, the thread waits in {@code poll} again in its next call; whether it did.
   */
  private static boolean awaitAndWaitAgain(CountDownLatch ended, Running<String> next)
      throws Exception {
    if (!ended.await(10, SECONDS)) {
      return false;
    }
    if (next != null) {
      WakeInPoll.awaitInPoll(next);
    }
    return true;
  }

  private static void interruptInPoll(Running<String> running) throws Exception {
    WakeInPoll.awaitInPoll(running);
    running.thread().interrupt();
  }

  private static Running<String> start(Callable<String> task) {
    return Running.inPlatformThread(task);
  }

  private static String outcome(Running<String> task) throws InterruptedException {
    try {
      return task.result().get(10, SECONDS);
    } catch (TimeoutException e) {
      return "still waiting";
    } catch (ExecutionException e) {
      return e.getCause().toString();
    }
  }
}
