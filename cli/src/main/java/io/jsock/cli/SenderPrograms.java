package io.jsock.cli;

import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.WouldBlockException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
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
 * <p>The listener's thread alone starts programs. Between a new socket's bind and its connect,
 * Linux gives it the datagrams of every sender without a socket of its own (of unconnected sockets
 * on one address, the one bound last wins), and its connect keeps them queued, as jsock's does; so
 * the listener's thread takes what the listener holds once the socket is bound, and what the socket
 * holds once it is connected, and gives each datagram to its sender's session, in the order they
 * came (see {@link #start}), before it launches the new programs: no datagram waits behind a
 * program's start, or goes to another sender's program. A datagram of a sender whose session is
 * open that comes to the listener all the same (the sender reached a wildcard listener at another
 * local address than the one its socket answers from, which only IP_PKTINFO could choose) goes to
 * the sender's program, in order.
 *
 * <p>At most {@code --max-clients} sessions are open at once: a datagram from a new sender beyond
 * them is dropped (said with -v), as ncat drops it.
 */
final class SenderPrograms {
  /** The next datagram from a permitted sender on the listener, or on a sender's own socket. */
  interface Receiver {
    /**
     * Receives on {@code socket} into {@code chunk}, cleared first and flipped for reading; returns
     * the sender.
     */
    SocketAddress receive(Socket socket, ByteBuffer chunk) throws IOException;
  }

  /** A datagram taken from a socket, for its sender's session. */
  private record Taken(SocketAddress from, ByteBuffer datagram) {}

  /**
   * What a sender's new socket is charged for each datagram it takes once connected, besides its
   * bytes: as much as jsock's connect charges each one it keeps, so that all those kept are taken.
   */
  private static final int DATAGRAM_CHARGE = 256;

  private final Socket listener;
  private final ExecOptions exec;
  private final BridgeOptions bridge;
  private final Diagnostics diagnostics;
  private final int maxClients;
  private final Semaphore places;

  /** The datagrams taken, in the order they came, not yet given to their senders' sessions. */
  private final ArrayDeque<Taken> taken = new ArrayDeque<>(); // the listener's thread's alone

  /** The launches of the programs started since the last datagram taken was given. */
  private final List<Runnable> starting = new ArrayList<>(); // the listener's thread's alone

  private final ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
  private Receiver receiver; // the listener's thread's alone: set by serve

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
    this.receiver = receiver;
    while (true) { // until interrupted, or the listener fails
      SocketAddress from = receiver.receive(listener, chunk);
      taken.add(new Taken(from, copy(chunk)));
      while (!taken.isEmpty()) { // a new sender's start takes more (see start)
        Taken next = taken.poll();
        give(next.from(), next.datagram());
      }
      starting.forEach(Runnable::run);
      starting.clear();
    }
  }

  /**
   * Takes the datagrams queued on {@code socket}, without waiting, into {@link #taken}: at most
   * {@code room} bytes of them (each charged {@link #DATAGRAM_CHARGE} more), so that a sender that
   * floods its own socket cannot keep the listener's thread here (its program reads the rest).
   */
  private void takeQueued(Socket socket, long room) throws IOException {
    socket.setBlocking(false);
    try {
      for (long left = room; left > 0; ) {
        SocketAddress from = receiver.receive(socket, chunk);
        ByteBuffer datagram = copy(chunk);
        taken.add(new Taken(from, datagram));
        left -= datagram.remaining() + DATAGRAM_CHARGE;
      }
    } catch (WouldBlockException e) {
      // the queue is empty
    } finally {
      socket.setBlocking(true);
    }
  }

  private static ByteBuffer copy(ByteBuffer chunk) {
    return ByteBuffer.allocate(chunk.remaining()).put(chunk).flip();
  }

  /**
   * Gives a datagram taken from a socket to the sender's open session (it came before the sender's
   * socket was connected, or missed it), else to a new one.
   */
  private void give(SocketAddress from, ByteBuffer datagram) throws IOException {
    if (!offered(from, datagram)) {
      start(from, datagram);
    }
  }

  private synchronized boolean offered(SocketAddress from, ByteBuffer datagram) {
    Sender sender = senders.get(from);
    return sender != null && sender.offer(List.of(datagram));
  }

  /**
   * Starts a session for a new sender, with a socket of its own. What the listener holds once that
   * socket is bound came before anything the socket takes, and what the socket holds once connected
   * (other senders' datagrams too) before anything that comes later: both are taken, in that order,
   * behind the datagrams taken before (see {@link #serve}).
   */
  private void start(SocketAddress from, ByteBuffer first) throws IOException {
    String peer = Diagnostics.where(from);
    if (!places.tryAcquire()) {
      diagnostics.event(
          "ignored a datagram from " + peer + ": --max-clients " + maxClients + " reached");
      return;
    }
    Socket conn;
    try {
      conn = boundShared();
    } catch (IOException | RuntimeException e) {
      places.release();
      diagnostics.say(peer + ": " + e.getMessage());
      return;
    }
    try {
      takeQueued(listener, Long.MAX_VALUE); // none comes to it now: the queue only empties
    } catch (IOException | RuntimeException e) {
      conn.close(); // the listener has failed, and serve with it
      throw e;
    }
    try {
      conn.connect(from);
      takeQueued(conn, conn.getSockOpt(StandardSocketOptions.SO_RCVBUF));
    } catch (IOException | RuntimeException e) {
      conn.close();
      places.release();
      diagnostics.say(peer + ": " + e.getMessage());
      return;
    }
    Sender sender = new Sender(peer, List.of(first));
    synchronized (this) {
      senders.put(from, sender);
    }
    diagnostics.event("serving " + peer + " (a new sender)");
    starting.add( // launched once every datagram taken is given (see serve)
        () ->
            Thread.ofVirtual()
                .name("jsock sender " + peer)
                .start(() -> run(from, peer, conn, sender)));
  }

  /**
   * A socket on the listener's address, for a sender of its own: until it is connected, it takes
   * every datagram that comes to that address from a sender without a socket of its own.
   */
  private Socket boundShared() throws IOException {
    Socket conn = Socket.create(listener.family(), SocketKind.SOCK_DGRAM);
    try {
      conn.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      conn.bind(listener.getSockName());
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
