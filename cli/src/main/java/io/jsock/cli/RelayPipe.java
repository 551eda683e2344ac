package io.jsock.cli;

import io.jsock.ConnectionResetException;
import io.jsock.Errno;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One direction of a relayed connection: reads from one socket and writes to the other until end of
 * stream, which it passes on as a half-close ({@code shutdown(SHUT_WR)}), with the faults of {@link
 * FaultOptions} applied on the way.
 *
 * <p>Stages, in order: the data limit cuts the stream; the black hole ({@code --timeout}) drops it;
 * latency holds each chunk until its due time on a second virtual thread (due times never go
 * backwards, so order is kept, and the queue between the two is bounded so a slow writer slows the
 * reader instead of growing memory); slicing and pacing shape the writes.
 */
final class RelayPipe {
  private static final int BUFFER = 64 * 1024;
  private static final int QUEUED_CHUNKS = 64;

  /** How often a reader waiting on a full latency queue looks whether the connection has ended. */
  private static final long QUEUE_CHECK_MILLIS = 100;

  private static final byte[] END = new byte[0];
  private static final byte[] LIMIT_REACHED = new byte[0];
  private static final byte[] RESET = new byte[0];
  private static final Chunk STOP = new Chunk(new byte[0], 0);

  private final RelayConnection connection;
  private final Socket from;
  private final Socket to;
  private final String label;
  private final boolean up;
  private final RelayLog log;
  private final Jitter latency;
  private final Long bandwidth;
  private final RatePacer pacer;
  private final Jitter slice;
  private final Duration sliceDelay;
  private final Long limitData;
  private final Duration slowClose;
  private final boolean blackHole;
  private final BlockingQueue<Chunk> delayed;
  private long lastDueNanos;
  private long nextSendNanos; // when the last piece paced is due to have gone
  private long passed;
  private volatile String readFailure; // why the reader queued RESET

  private record Chunk(byte[] data, long dueNanos) {}

  RelayPipe(
      RelayConnection connection, FaultOptions.Direction way, FaultOptions faults, RelayLog log) {
    this.connection = connection;
    this.up = way == FaultOptions.Direction.up;
    this.from = up ? connection.client() : connection.target();
    this.to = up ? connection.target() : connection.client();
    this.label = connection.name() + (up ? " >" : " <");
    this.log = log;
    boolean acts = faults.actsOn(way);
    this.latency = acts ? faults.latency : null;
    this.bandwidth = acts ? faults.bandwidth : null;
    this.pacer = bandwidth == null ? null : new RatePacer(bandwidth);
    this.slice = acts ? faults.slice : null;
    this.sliceDelay = acts ? faults.sliceDelay : null;
    this.limitData = acts ? faults.limitData : null;
    this.slowClose = acts ? faults.slowClose : null;
    this.blackHole = faults.timeout != null;
    this.delayed = latency == null ? null : new ArrayBlockingQueue<>(QUEUED_CHUNKS);
  }

  /** Starts the pipe's virtual thread(s). */
  void start() {
    Thread.ofVirtual().name("relay " + label).start(this::read);
    if (delayed != null) {
      Thread.ofVirtual().name("relay delay " + label).start(this::writeDelayed);
    }
  }

  private void read() {
    byte[] buf = new byte[BUFFER];
    boolean reading = false; // whether a failure is the read's (else the write's)
    try {
      while (true) {
        reading = true;
        int n = from.recvInto(buf, 0);
        if (n == 0 && endCameWithAReset()) {
          throw new ConnectionResetException(
              "recv from " + (up ? "client" : "target") + ": connection reset by peer", null);
        }
        reading = false;
        if (n == 0) {
          if (!blackHole) { // a black hole holds the connection open until its timeout
            pass(END, 0);
          }
          return;
        }
        connection.touch();
        if (blackHole) {
          log.debug(label + " " + n + " bytes dropped (--timeout)");
          continue;
        }
        if (limitData != null) {
          n = (int) Math.min(n, limitData - passed);
        }
        passed += n;
        pass(buf, n);
        if (limitData != null && passed >= limitData) {
          if (delayed != null) {
            queue(new Chunk(LIMIT_REACHED, lastDueNanos)); // after the delayed data
          } else {
            connection.close("--limit-data " + limitData + " reached");
          }
          return;
        }
      }
    } catch (IOException e) {
      if (delayed == null || connection.hasEnded()) {
        failed(reading ? from : to, e);
      } else {
        // the reset travels behind the bytes read before it, as an end of stream does
        readFailure = e.getMessage();
        try {
          queue(new Chunk(RESET, Math.max(lastDueNanos, System.nanoTime())));
        } catch (InterruptedException interrupted) {
          connection.reset("interrupted");
        }
      }
    } catch (InterruptedException e) {
      connection.reset("interrupted");
    } finally {
      if (delayed != null) {
        delayed.offer(STOP); // wakes the delaying thread if the connection ended early
      }
    }
  }

  /**
   * Whether the end of stream just read is a reset whose error the other direction's send to the
   * same socket took: Linux reports a reset to the first call that asks, and a read after it finds
   * the end of the stream. A TCP socket its peer reset is closed ({@code TCP_CLOSE}), and {@code
   * getpeername} says {@code ENOTCONN}; one whose peer half-closed is not ({@code CLOSE_WAIT}).
   * Asked only while the relay has not half-closed that socket itself, whose FIN and the peer's
   * close it too. Where jsock asks the kernel for the peer (the epoll path); elsewhere, and over
   * AF_UNIX, an end of stream is taken for one.
   */
  private boolean endCameWithAReset() {
    if (!from.family().isInet() || connection.halfClosed(from)) {
      return false;
    }
    try {
      from.getPeerName();
      return false;
    } catch (IOException e) {
      // a half-close of the relay's since the first look may have closed the socket instead
      return e instanceof SocketError error
          && error.errno() == Errno.ENOTCONN
          && !connection.halfClosed(from);
    }
  }

  /** Passes {@code n} bytes on, now or (with latency) at their due time; {@link #END} ends. */
  private void pass(byte[] buf, int n) throws IOException, InterruptedException {
    if (delayed == null) {
      if (buf == END) {
        end();
      } else {
        write(buf, n);
      }
      return;
    }
    long now = System.nanoTime();
    long due = buf == END ? now : now + latency.draw();
    lastDueNanos = Math.max(lastDueNanos, due);
    queue(new Chunk(buf == END ? END : Arrays.copyOf(buf, n), lastDueNanos));
  }

  /**
   * Queues a chunk for the delaying thread, or drops it once the connection has ended: the delaying
   * thread may have gone by then, and a reader waiting on its full queue would wait for ever (it
   * can read what the other socket still held between the end and that socket's close).
   */
  private void queue(Chunk chunk) throws InterruptedException {
    while (!delayed.offer(chunk, QUEUE_CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
      if (connection.hasEnded()) {
        return;
      }
    }
  }

  private void writeDelayed() {
    try {
      while (!connection.hasEnded()) {
        Chunk chunk = delayed.take();
        if (chunk == STOP) {
          return;
        }
        long wait = chunk.dueNanos() - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(Duration.ofNanos(wait));
        }
        if (chunk.data() == RESET) {
          if (!connection.hasEnded()) {
            connection.resetFrom(from, readFailure);
          }
          return;
        }
        if (chunk.data() == LIMIT_REACHED) {
          connection.close("--limit-data " + limitData + " reached");
          return;
        }
        if (chunk.data() == END) {
          end();
          return;
        }
        write(chunk.data(), chunk.data().length);
      }
    } catch (IOException e) {
      failed(to, e);
    } catch (InterruptedException e) {
      connection.reset("interrupted");
    } finally {
      // No one takes from the queue any more: a reader waiting to queue into a full one would wait
      // forever, holding its chunks. Emptied, it queues once more and then finds its socket closed.
      delayed.clear();
    }
  }

  /** Writes {@code n} bytes, sliced and paced as asked. */
  private void write(byte[] data, int n) throws IOException, InterruptedException {
    log.dump(label + " " + n + " bytes", ByteBuffer.wrap(data, 0, n));
    int pos = 0;
    while (pos < n) {
      int piece = n - pos;
      if (slice != null) {
        piece = (int) Math.min(piece, slice.draw());
      }
      if (bandwidth != null) {
        piece = (int) Math.min(piece, Math.max(1, bandwidth / 20));
        pace(piece);
      }
      sendAll(ByteBuffer.wrap(data, pos, piece));
      connection.delivered(up, piece);
      log.debug(label + " " + piece + " bytes");
      pos += piece;
      if (sliceDelay != null && pos < n) {
        Thread.sleep(sliceDelay);
      }
    }
    if (sliceDelay != null && slice != null) {
      Thread.sleep(sliceDelay); // the next chunk's first piece is a piece too
    }
  }

  /**
   * Sends all of {@code piece}, the idle clock starting again as it goes: a write to a reader that
   * takes data slowly moves bytes all the while, one to a reader that has stopped taking any moves
   * none, as socat's {@code -T} counts them. A blocking send returns once all of its bytes have
   * gone (as Linux's {@code send(2)}), and the kernel lets a blocked writer on only once a good
   * part of its buffer has gone, so the rest of a chunk seldom waits again.
   */
  private void sendAll(ByteBuffer piece) throws IOException {
    while (piece.hasRemaining()) {
      to.send(piece);
      connection.touch();
    }
  }

  /** Waits until {@code piece} bytes may go at the configured rate (see {@link RatePacer}). */
  private void pace(int piece) throws InterruptedException {
    long wait = nextSendNanos - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(Duration.ofNanos(wait));
    }
    nextSendNanos = pacer.book(piece, System.nanoTime());
  }

  /** Passes the end of stream on as a half-close, after {@code --slow-close} when given. */
  private void end() throws IOException, InterruptedException {
    log.debug(label + " end of stream");
    if (slowClose != null) {
      Thread.sleep(slowClose);
    }
    if (!connection.hasEnded()) {
      connection.halfClosing(to);
      to.shutdown(Shutdown.SHUT_WR);
    }
    connection.directionFinished();
  }

  /** A read or write on {@code gone} failed: the reset is carried across (see there). */
  private void failed(Socket gone, IOException e) {
    if (!connection.hasEnded()) {
      connection.resetFrom(gone, e.getMessage());
    }
  }
}
