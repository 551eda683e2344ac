package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * One client of {@code jsock broker}: its socket, a name ({@code user3}), and a bounded queue of
 * bytes on their way to it, drained by its own writer thread. Senders only ever queue, so a client
 * that reads slowly delays no one else; its queue is what it may cost in memory.
 */
final class BrokerClient {
  private final Socket socket;
  private final String name;
  private final SocketAddress address;
  private final long maxQueue;
  private final Duration writeTimeout;
  private final RelayLog log;
  private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
  private long queuedBytes;

  /** While a write is under way, when the socket last took bytes of it; 0 between writes. */
  private long writeStartedNanos;

  /**
   * The bytes the kernel held for the client (unsent or unacknowledged) at {@link
   * #writeStartedNanos}, once a write had to wait; -1 when not known.
   */
  private int unsentMark = -1;

  private boolean closed;
  private boolean dropping;
  private long received;
  private long sent;
  private long dropped;

  BrokerClient(
      Socket socket,
      String name,
      SocketAddress address,
      long maxQueue,
      Duration writeTimeout,
      RelayLog log) {
    this.socket = socket;
    this.name = name;
    this.address = address;
    this.maxQueue = maxQueue;
    this.writeTimeout = writeTimeout;
    this.log = log;
  }

  Socket socket() {
    return socket;
  }

  String name() {
    return name;
  }

  /** {@code <user3> (127.0.0.1:40312)}. */
  String describe() {
    return "<" + name + "> (" + Diagnostics.where(address) + ")";
  }

  /** Outcome of offering bytes to a client. */
  enum Offer {
    QUEUED,
    FULL,
    STALLED,
    CLOSED
  }

  /**
   * Queues {@code data} (never modified afterwards, so it may be shared between clients) unless the
   * queue would grow past its maximum (an empty queue takes any one message) or the client's socket
   * has taken no bytes for longer than the write timeout while the writer waits on it.
   */
  synchronized Offer offer(byte[] data) {
    if (closed) {
      return Offer.CLOSED;
    }
    if (writeStartedNanos != 0
        && System.nanoTime() - writeStartedNanos > writeTimeout.toNanos()
        && !tookBytes()) {
      return Offer.STALLED;
    }
    if (queuedBytes > 0 && queuedBytes + data.length > maxQueue) { // one message always fits
      return Offer.FULL;
    }
    queue.addLast(data);
    queuedBytes += data.length;
    if (dropping) {
      dropping = false;
      log.verbose(describe() + " reads again; dropped " + dropped + " bytes so far");
    }
    notifyAll();
    return Offer.QUEUED;
  }

  /** Counts bytes dropped for this client under {@code --slow drop}; true on the first of a run. */
  synchronized boolean drop(int bytes) {
    dropped += bytes;
    boolean first = !dropping;
    dropping = true;
    return first;
  }

  /** Sends what is queued until the client is closed; runs on the client's writer thread. */
  void writeQueued() {
    try {
      while (true) {
        byte[] next;
        synchronized (this) {
          while (queue.isEmpty() && !closed) {
            wait();
          }
          if (closed) {
            return;
          }
          next = queue.removeFirst();
          writeStartedNanos = System.nanoTime();
          unsentMark = -1;
        }
        log.dump(">" + name + " " + next.length + " bytes", ByteBuffer.wrap(next));
        int n = socket.send(next); // the usual case: the send buffer takes all of it at once
        if (n < next.length) {
          sendRest(ByteBuffer.wrap(next, n, next.length - n));
        }
        synchronized (this) {
          writeStartedNanos = 0;
          queuedBytes -= next.length;
          sent += next.length;
        }
      }
    } catch (IOException e) {
      if (!isClosed()) {
        log.verbose(describe() + " send: " + e.getMessage());
      }
      close();
    } catch (InterruptedException e) {
      close();
    }
  }

  /**
   * Sends the rest of a message the send buffer had no room for: the clock starts again, and the
   * kernel's count of what it holds for the client is noted, so that {@link #tookBytes} can tell a
   * client that reads slowly from one that reads nothing. The blocking send returns once all of the
   * rest has gone (as Linux's {@code send(2)}), and the kernel lets a blocked writer on only once a
   * good part of its buffer, megabytes over TCP, has gone, so the rest of a message (64 KiB at
   * most) seldom waits twice and the count noted once serves its whole wait. A send cut short by a
   * failure returns what went; the loop's next send reports the failure.
   */
  private void sendRest(ByteBuffer rest) throws IOException {
    while (rest.hasRemaining()) {
      int unsent = unsentBytes();
      synchronized (this) {
        writeStartedNanos = System.nanoTime();
        unsentMark = unsent;
      }
      socket.send(rest);
    }
  }

  /**
   * Whether the client has taken bytes since the clock started, the write under way having waited
   * longer than the write timeout: the kernel holds fewer bytes for it than it did then. If so, the
   * clock starts again from now. Where the count was not noted (the write waited from its first
   * byte), it is noted now, and the client is given another write timeout; where the kernel cannot
   * be asked (the portable path), the write's wait alone counts, as the socket took nothing.
   */
  private boolean tookBytes() {
    int unsent = unsentBytes();
    if (unsent < 0 || (unsentMark >= 0 && unsent >= unsentMark)) {
      return false;
    }
    writeStartedNanos = System.nanoTime();
    unsentMark = unsent;
    return true;
  }

  /** {@link Socket#unsentBytes()}, or -1 where it cannot be asked (closed, portable path). */
  private int unsentBytes() {
    try {
      return socket.unsentBytes();
    } catch (IOException | UnsupportedOperationException e) {
      return -1;
    }
  }

  /** Whether the broker has closed this client (or its writer failed). */
  synchronized boolean isClosed() {
    return closed;
  }

  /** Closes the socket (which ends its reader) and stops the writer. */
  void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      queue.clear();
      queuedBytes = 0;
      notifyAll();
    }
    try {
      socket.close();
    } catch (IOException e) {
      // already reset by the peer: nothing is left to tell
    }
  }

  /** Counts bytes this client sent to the broker. */
  synchronized void received(int bytes) {
    received += bytes;
  }

  /** {@code received 5 bytes, sent 120 bytes, dropped 0}: for the {@code -v} leave line. */
  synchronized String stats() {
    return "received " + received + " bytes, sent " + sent + " bytes, dropped " + dropped;
  }
}
