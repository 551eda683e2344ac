package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.OptionalLong;

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
   * The client's {@link #progress} at {@link #writeStartedNanos}, once a write had to wait; empty
   * when not known.
   */
  private OptionalLong progressMark = OptionalLong.empty();

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
          progressMark = OptionalLong.empty();
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
   * Sends the rest of a message the send buffer had no room for (a blocking send takes all of it,
   * but one that failed after some bytes went returns their count): the clock starts again at each
   * part the socket takes, and the client's {@link #progress} is noted then.
   */
  private void sendRest(ByteBuffer rest) throws IOException {
    while (rest.hasRemaining()) {
      OptionalLong progress = progress();
      synchronized (this) {
        writeStartedNanos = System.nanoTime();
        progressMark = progress;
      }
      socket.send(rest);
    }
  }

  /**
   * Whether the client has taken bytes since the clock started, the write under way having waited
   * longer than the write timeout: its {@link #progress} has grown since. If so, the clock starts
   * again from now. Where the progress was not noted (the write waited from its first byte), it is
   * noted now, and the client is given another write timeout; where the kernel cannot be asked (the
   * portable path), the write's wait alone counts, as the socket took nothing.
   */
  private boolean tookBytes() {
    OptionalLong progress = progress();
    if (progress.isEmpty()
        || (progressMark.isPresent() && progress.getAsLong() <= progressMark.getAsLong())) {
      return false;
    }
    writeStartedNanos = System.nanoTime();
    progressMark = progress;
    return true;
  }

  /**
   * How far the client has read, as a count that grows when it takes bytes; empty where the kernel
   * cannot be asked (closed, portable path). Over TCP, the bytes its kernel has acknowledged
   * ({@link Socket#bytesAcknowledged()}), which only grow. What the kernel holds for it ({@link
   * Socket#unsentBytes()}) would not do there: the kernel lets a blocked writer on only once a
   * third of the send buffer has gone and the writer then refills it, so that count rises and falls
   * while the client reads all along, and may be no lower after a refill than it was a write
   * timeout before. Over AF_UNIX, which has no such count, that count negated; it falls there only
   * as the client finishes a whole message (the kernel frees a message's buffer once all of it is
   * read), so a client that reads less than a message per write timeout can still look stalled.
   */
  private OptionalLong progress() {
    try {
      return OptionalLong.of(
          socket.family().isInet() ? socket.bytesAcknowledged() : -socket.unsentBytes());
    } catch (IOException | UnsupportedOperationException e) {
      return OptionalLong.empty();
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
