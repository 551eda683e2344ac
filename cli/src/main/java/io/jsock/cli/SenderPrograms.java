package io.jsock.cli;

import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.WouldBlockException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The programs of {@code jsock listen -u -k -e PROGRAM} (or {@code -c COMMAND}): one for each UDP
 * sender, at once, as {@code ncat -u -l -k --exec} runs one. A datagram from a sender that has no
 * program starts one, and the sender gets a socket of its own: bound to the listener's address
 * ({@code SO_REUSEADDR}, on both) and connected to the sender, so that the kernel gives it that
 * sender's datagrams from then on, and the listener everybody else's (as ncat does). Each session
 * is a {@link Bridge} between that socket and the program: a datagram is one write to its stdin, a
 * read of its stdout (at most 65,507 bytes) one datagram back, {@code -i} ends a silent one. When
 * the session is done (the program has ended its stdout and exited, or -i has passed), the socket
 * is closed, and the sender's next datagram starts a new program at once, even while the old one is
 * still being ended.
 *
 * <p>The listener's thread alone starts programs, and takes what is queued on the listener before
 * it launches them (see {@link #takeQueued}), so that no datagram of a sender's waits behind its
 * program's start. A datagram of a sender whose session is open that comes to the listener all the
 * same (the sender reached a wildcard listener at another local address than the one its socket
 * answers from, which only IP_PKTINFO could choose) goes to the sender's program, in order.
 *
 * <p>At most {@code --max-clients} sessions are open at once: a datagram from a new sender beyond
 * them is dropped (said with -v), as ncat drops it.
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

  /** The launches of the programs {@link #serve} has started since it last took the queue. */
  private final List<Runnable> starting = new ArrayList<>(); // the listener's thread's alone

  /** The senders whose session is open. */
  private final Map<SocketAddress, Sender> senders = new HashMap<>(); // guarded by this

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
   * in order, before any its socket takes.
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

  private void launchStarting() {
    starting.forEach(Runnable::run);
    starting.clear();
  }

  private static ByteBuffer copy(ByteBuffer chunk) {
    return ByteBuffer.allocate(chunk.remaining()).put(chunk).flip();
  }

  /**
   * Gives datagrams that came to the listener to the sender's open session (they came before its
   * socket was connected, or missed it), else to a new one.
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
    Sender sender = new Sender(peer, datagrams);
    senders.put(from, sender);
    diagnostics.event("serving " + peer + " (a new sender)");
    starting.add( // launched once the listener's queue is taken (see takeQueued)
        () ->
            Thread.ofVirtual()
                .name("jsock sender " + peer)
                .start(() -> run(from, peer, conn, sender)));
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
   * Runs the sender's session until it is done (or fails, or -i ends it), then closes it before the
   * program's end is awaited: the sender's next datagram starts a new program at once, in a place
   * freed for it.
   */
  private void run(SocketAddress from, String peer, Socket conn, Sender sender) {
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    try {
      exec.join(
          conn,
          diagnostics,
          program -> {
            sender.started(program, traffic);
            try {
              new Bridge(conn, program, traffic, bridge).run();
            } finally {
              close(from, sender);
            }
          });
    } catch (IOException | RuntimeException e) {
      diagnostics.say(peer + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close(from, sender); // the program could not start
    }
  }

  private synchronized void close(SocketAddress from, Sender sender) {
    if (sender.close()) {
      senders.remove(from, sender);
      places.release();
    }
  }

  /**
   * One sender's open session: the datagrams the listener received for it, written to its program
   * in the order they came, by one thread at a time (the program's start, then one started for
   * those that come later), so that a program slow to read holds up no other sender.
   */
  private final class Sender {
    private final String peer;
    private final List<ByteBuffer> waiting; // guarded by this
    private StandardStreams program; // guarded by this: set once the program has started
    private Diagnostics.Traffic traffic; // guarded by this: set with program
    private boolean writing; // guarded by this: a thread is writing waiting to the program
    private boolean closed; // guarded by this

    Sender(String peer, List<ByteBuffer> first) {
      this.peer = peer;
      this.waiting = new ArrayList<>(first);
    }

    /** Gives the datagrams to the program, in order; false once the session has closed. */
    synchronized boolean offer(List<ByteBuffer> datagrams) {
      if (closed) {
        return false;
      }
      waiting.addAll(datagrams);
      if (program != null && !writing) {
        writing = true;
        Thread.ofVirtual().name("jsock sender stdin " + peer).start(this::writeWaiting);
      }
      return true;
    }

    /**
     * Writes the datagrams that came before the program started, before its bridge reads the
     * sender's socket; those that come later are written as they come.
     */
    void started(StandardStreams program, Diagnostics.Traffic traffic) {
      synchronized (this) {
        this.program = program;
        this.traffic = traffic;
        writing = true;
      }
      writeWaiting();
    }

    private void writeWaiting() {
      try {
        while (true) { // until none is waiting, or the session has closed
          ByteBuffer datagram;
          synchronized (this) {
            if (waiting.isEmpty() || closed) {
              writing = false;
              return;
            }
            datagram = waiting.removeFirst();
          }
          traffic.received(datagram);
          program.write(datagram); // a program that takes no more drops it
        }
      } catch (IOException | RuntimeException e) {
        diagnostics.say(peer + ": " + e.getMessage());
        synchronized (this) {
          writing = false;
        }
      }
    }

    /** Closes the session, dropping what still waits; true the first time. */
    synchronized boolean close() {
      if (closed) {
        return false;
      }
      closed = true;
      waiting.clear();
      return true;
    }
  }
}
