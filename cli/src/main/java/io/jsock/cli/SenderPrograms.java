package io.jsock.cli;

import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.WouldBlockException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The programs of {@code jsock listen -u -k -e PROGRAM} (or {@code -c COMMAND}): one for each UDP
 * sender, at once, as {@code ncat -u -l -k --exec} runs one. A datagram from a sender that has no
 * program starts one, and the sender gets a socket of its own: bound to the listener's address
 * ({@code SO_REUSEADDR}, on both) and connected to the sender, so that the kernel gives it that
 * sender's datagrams from then on, and the listener everybody else's (as ncat does). Each session
 * is a {@link Bridge} between that socket and the program: a datagram is one write to its stdin, a
 * read of its stdout (at most 65,507 bytes) one datagram back, {@code -i} ends a silent one. When
 * the program has ended, the socket is closed, and the sender's next datagram starts a new program.
 *
 * <p>At most {@code --max-clients} programs run at once: a datagram from a new sender beyond them
 * is dropped (said with -v), as ncat drops it.
 */
final class SenderPrograms {
  /** The listener's next datagram from a permitted sender. */
  interface Receiver {
    /** Receives into {@code chunk}, cleared first and flipped for reading; returns the sender. */
    SocketAddress receive(ByteBuffer chunk) throws IOException;
  }

  private final Socket listener;
  private final ExecOptions exec;
  private final BridgeOptions bridge;
  private final Diagnostics diagnostics;
  private final int maxClients;
  private final Semaphore places;

  /**
   * The thread of {@link #serve}, which launches the programs it starts after {@link #takeQueued}.
   */
  private volatile Thread receiving;

  /** The launches of the programs {@link #serve} has started since it last took the queue. */
  private final List<Runnable> starting = new ArrayList<>(); // guarded by this

  /** The senders with a program, replaced and removed under this object's lock. */
  private final Map<SocketAddress, Sender> senders = new ConcurrentHashMap<>();

  SenderPrograms(
      Socket listener,
      ExecOptions exec,
      BridgeOptions bridge,
      Diagnostics diagnostics,
      int maxClients) {
    this.listener = listener;
    this.exec = exec;
    this.bridge = bridge;
    this.diagnostics = diagnostics;
    this.maxClients = maxClients;
    this.places = new Semaphore(maxClients);
  }

  /** Serves the senders whose datagrams {@code receiver} gives, until interrupted. */
  void serve(Receiver receiver) throws IOException {
    receiving = Thread.currentThread();
    ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    while (true) { // until interrupted, or the listener fails
      take(receiver.receive(chunk), List.of(copy(chunk)));
      if (!starting.isEmpty()) {
        takeQueued(receiver, chunk);
        launchStarting();
      }
    }
  }

  /**
   * Takes the datagrams already queued on the listener, without waiting. A new sender's socket is
   * connected before this runs, so that its datagrams the kernel gave the listener before (a burst
   * right behind the first one) are all in that queue: taken now, they reach its program first and
   * in order, and none is left for the listener to take once the program has started (where it
   * waited for the program's end, then started another).
   */
  private void takeQueued(Receiver receiver, ByteBuffer chunk) throws IOException {
    listener.setBlocking(false);
    try {
      while (true) { // until the queue is empty: new senders in it are started too
        take(receiver.receive(chunk), List.of(copy(chunk)));
      }
    } catch (WouldBlockException e) {
      // the queue is empty
    } finally {
      listener.setBlocking(true);
    }
  }

  private synchronized void launchStarting() {
    starting.forEach(Runnable::run);
    starting.clear();
  }

  private static ByteBuffer copy(ByteBuffer chunk) {
    return ByteBuffer.allocate(chunk.remaining()).put(chunk).flip();
  }

  /**
   * Gives datagrams that came to the listener to the sender's program: one starting (they came
   * before its socket was connected) or one that has just ended (they came after its socket was
   * closed, and go to a new program), else a new one.
   */
  private synchronized void take(SocketAddress from, List<ByteBuffer> datagrams) {
    Sender sender = senders.get(from);
    if (sender == null || !sender.offer(datagrams)) {
      start(from, datagrams);
    }
  }

  private void start(SocketAddress from, List<ByteBuffer> datagrams) {
    String peer = Diagnostics.where(from);
    if (!places.tryAcquire()) {
      diagnostics.event(
          "ignored a datagram from " + peer + ": --max-clients " + maxClients + " reached");
      return;
    }
    Socket conn;
    try {
      conn = connectedTo(from);
    } catch (IOException | RuntimeException e) {
      places.release();
      diagnostics.say(peer + ": " + e.getMessage());
      return;
    }
    Sender sender = new Sender(datagrams);
    senders.put(from, sender);
    diagnostics.event("serving " + peer + " (a new sender)");
    Runnable launch =
        () ->
            Thread.ofVirtual()
                .name("jsock sender " + peer)
                .start(() -> run(from, peer, conn, sender));
    if (Thread.currentThread() == receiving) {
      starting.add(launch); // once the listener's queue is taken (see takeQueued)
    } else {
      launch.run(); // the next program of a sender whose program has just ended
    }
  }

  /** A socket of the sender's own on the listener's address, which takes its datagrams. */
  private Socket connectedTo(SocketAddress sender) throws IOException {
    Socket conn = Socket.create(listener.family(), SocketKind.SOCK_DGRAM);
    try {
      conn.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      conn.bind(listener.getSockName());
      conn.connect(sender);
      return conn;
    } catch (IOException | RuntimeException e) {
      conn.close();
      throw e;
    }
  }

  /**
   * Runs the sender's program until it ends (or fails, or -i ends it), then frees its place; the
   * datagrams the listener took for it meanwhile start the next.
   */
  private void run(SocketAddress from, String peer, Socket conn, Sender sender) {
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    try {
      exec.join(
          conn,
          diagnostics,
          program -> {
            for (ByteBuffer datagram : sender.takeWaiting()) {
              traffic.received(datagram);
              program.write(datagram);
            }
            new Bridge(conn, program, traffic, bridge).run();
          });
    } catch (IOException | RuntimeException e) {
      diagnostics.say(peer + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      List<ByteBuffer> late = sender.end();
      places.release();
      forget(from, sender);
      if (!late.isEmpty()) {
        take(from, late);
      }
    }
  }

  private synchronized void forget(SocketAddress from, Sender sender) {
    senders.remove(from, sender);
  }

  /** The datagrams the listener received for one sender's program, until the program has ended. */
  private static final class Sender {
    private final List<ByteBuffer> waiting; // guarded by this
    private boolean ended; // guarded by this

    Sender(List<ByteBuffer> first) {
      this.waiting = new ArrayList<>(first);
    }

    /** Keeps the datagrams for the program; false once it has ended. */
    synchronized boolean offer(List<ByteBuffer> datagrams) {
      if (ended) {
        return false;
      }
      waiting.addAll(datagrams);
      return true;
    }

    /** The datagrams kept so far, for the program as it starts. */
    synchronized List<ByteBuffer> takeWaiting() {
      List<ByteBuffer> taken = List.copyOf(waiting);
      waiting.clear();
      return taken;
    }

    /** Notes the program's end; returns the datagrams kept since it started, for the next one. */
    synchronized List<ByteBuffer> end() {
      ended = true;
      return takeWaiting();
    }
  }
}
