package io.jsock.cli;

import io.jsock.BrokenPipeException;
import io.jsock.ConnectionResetException;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.tls.Tls;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Joins stdin and stdout to one connected socket, with jsock's end-of-file policy.
 *
 * <p>Streams (TCP, AF_UNIX, TLS): stdin goes to the peer; when stdin ends the connection is
 * half-closed ({@code shutdown(SHUT_WR)}, unless {@code --no-shutdown}), so the peer reads end of
 * file and may still answer. What the peer sends goes to stdout until the peer ends its side, and
 * stdout is then closed (its reader sees the end, as ncat's), even while stdin still goes on. The
 * bridge is done when both directions are: stdin has ended and the peer has closed its side, in
 * either order (as OpenBSD {@code nc}). {@code --send-only} is done once stdin has ended; {@code
 * --recv-only} half-closes at once and is done when the peer closes. A stdout whose reader went
 * away ends the bridge quietly. In place of stdin and stdout, a program ({@code -e}) that has ended
 * its stdout and exited ends the bridge too, the peer's side open or not.
 *
 * <p>TLS 1.2 has no half-close: the peer's close_notify ends the session both ways (RFC 5246 7.2.1:
 * the other side closes too, "discarding any pending writes", and the JDK's engine closes our
 * sending side as it reads it). So that close_notify ends the bridge at once, exit 0, as ncat and
 * socat end: what stdin had not yet sent is dropped. A send that fails on such a connection (the
 * engine's sending side closed, or the peer's close and reset behind it) is judged by how the
 * receive ends: the peer's close_notify is a clean end, anything else is the receive's failure.
 *
 * <p>Datagrams (UDP): each read of stdin (at most 65,507 bytes) goes as one datagram, and each
 * datagram received goes to stdout. UDP has no end of file, so once stdin has ended the bridge
 * waits until no datagram has come for {@link #UDP_LINGER} and is then done; with {@code
 * --recv-only}, which reads no stdin, it prints datagrams until it fails or is interrupted.
 */
final class Bridge {
  /** How long a UDP bridge goes on printing replies after stdin has ended. */
  static final Duration UDP_LINGER = Duration.ofSeconds(1);

  /** The largest UDP payload over IPv4. */
  private static final int MAX_DATAGRAM = 65_507;

  private final Socket conn;
  private final StandardStreams std;
  private final Diagnostics.Traffic traffic;
  private final BridgeOptions options;
  private final boolean datagram;

  /** TLS 1.2, whose close_notify ends both directions (see the class comment). */
  private final boolean tls12;

  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final CompletableFuture<Void> inputEnd = new CompletableFuture<>();

  /** The directions still moving: the bridge is done when none is left. */
  private final AtomicInteger moving;

  /**
   * -i's clock: it stands still during a write to stdout, and starts again at each part of a write
   * to the peer that goes (see {@link IdleClock}).
   */
  private final IdleClock idleClock = new IdleClock();

  private volatile long lastReceived = System.nanoTime();
  private volatile boolean stdinEnded;

  Bridge(Socket conn, StandardStreams std, Diagnostics.Traffic traffic, BridgeOptions options) {
    this.conn = conn;
    this.std = std;
    this.traffic = traffic;
    this.options = options;
    this.datagram = conn.kind() == SocketKind.SOCK_DGRAM;
    this.tls12 = Tls.isTls(conn) && "TLSv1.2".equals(Tls.session(conn).getProtocol());
    this.moving = new AtomicInteger(options.sendOnly ? 1 : 2); // --send-only: stdin alone counts
  }

  /**
   * Moves data until the connection is done, then closes it.
   *
   * @throws SocketTimeoutException when {@code -i} passes with no data moving
   * @throws IOException when the connection fails (reset, refused, TLS truncation)
   */
  void run() throws IOException, InterruptedException {
    try {
      Thread.ofVirtual().name("jsock receive").start(this::receive);
      if (options.recvOnly) {
        if (!datagram) { // UDP: no stdin, so no end of it to start the linger (as ncat)
          endOfInput();
        }
        directionDone();
      } else {
        // A platform thread: a read of stdin cannot be interrupted and may never return, and
        // such a thread must not keep the JVM alive (daemon) or hold a virtual thread's carrier.
        Thread.ofPlatform().daemon().name("jsock stdin").start(this::sendStdin);
      }
      awaitDone();
    } catch (Throwable e) {
      traffic.failed();
      throw e;
    } finally {
      conn.close();
      traffic.closed();
    }
  }

  private void awaitDone() throws IOException, InterruptedException {
    Duration idle = options.idleTimeout;
    long idleNanos = idle == null ? Long.MAX_VALUE : idle.toNanos();
    long lingerNanos = UDP_LINGER.toNanos();
    while (true) {
      long now = System.nanoTime();
      long wait = Long.MAX_VALUE;
      if (idle != null) {
        long left = idleClock.nanosLeft(idleNanos, now);
        if (left <= 0) {
          throw new SocketTimeoutException(
              "idle timeout: no data either way for " + Durations.format(idle) + " (-i)");
        }
        wait = left;
      }
      if (datagram && stdinEnded) {
        long left = lastReceived + lingerNanos - now;
        if (left <= 0) {
          return;
        }
        wait = Math.min(wait, left);
      }
      // Until stdin ends, its end wakes the wait too: it starts UDP's linger.
      CompletableFuture<?> wake = stdinEnded ? done : CompletableFuture.anyOf(done, inputEnd);
      try {
        wake.get(Math.min(wait, TimeUnit.DAYS.toNanos(1)), TimeUnit.NANOSECONDS);
        if (done.isDone()) {
          done.get();
          return;
        }
      } catch (TimeoutException e) {
        // check the clocks again
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw new IOException(e.getCause());
      }
    }
  }

  /** Peer to stdout (or, with --send-only, nowhere) until the peer's end of file. */
  private void receive() {
    ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    try {
      while (!done.isDone()) {
        chunk.clear();
        int n = conn.recvInto(chunk);
        if (n == 0 && !datagram) {
          std.closeOut(); // stdout's reader sees the end of the data at once, as ncat's
          break; // the peer's end of file
        }
        chunk.flip();
        lastReceived = System.nanoTime();
        idleClock.touch();
        traffic.received(chunk);
        if (!options.sendOnly && !writing(() -> std.write(chunk))) {
          break; // stdout's reader has all it wanted
        }
      }
      if (std.isOutGone()) {
        done.complete(null); // nobody reads what would come: done, quietly
      } else if (tls12) {
        done.complete(null); // the peer's close_notify ended the session both ways
      } else if (!options.sendOnly) {
        directionDone();
      }
    } catch (IOException | RuntimeException e) {
      done.completeExceptionally(e); // ignored if the bridge was done already
    }
  }

  /** A write to stdout. */
  private interface Write {
    boolean run() throws IOException;
  }

  /**
   * Runs a write of a chunk to stdout, during which the idle clock does not run (as ncat's, whose
   * write to stdout blocks); it starts again when the write ends.
   */
  private boolean writing(Write write) throws IOException {
    idleClock.writeBegins();
    try {
      return write.run();
    } finally {
      idleClock.writeEnded();
    }
  }

  /**
   * Sends {@code chunk} to the peer, the idle clock starting again as it goes (see {@link
   * RelayPipe}'s {@code sendAll}; as ncat's {@code -i}, which runs while its write to the peer
   * waits): a peer slow to take data keeps the connection, one that takes none (gone, or its host
   * silent) ends it after {@code -i}.
   */
  private void sendToPeer(ByteBuffer chunk) throws IOException {
    while (chunk.hasRemaining()) {
      conn.send(chunk);
      idleClock.touch();
    }
  }

  /** Stdin to the peer, then the end-of-file policy. */
  private void sendStdin() {
    ByteBuffer chunk = ByteBuffer.allocateDirect(datagram ? MAX_DATAGRAM : StandardStreams.CHUNK);
    try {
      while (!done.isDone()) {
        chunk.clear();
        int n = std.read(chunk);
        if (n < 0) {
          break;
        }
        chunk.flip();
        idleClock.touch();
        traffic.sending(chunk);
        sendToPeer(chunk);
      }
      endOfInput();
      directionDone();
      // A program (-e/-c) whose stdout has ended and that has exited will take nothing the peer
      // still sends: the connection is done then, as ncat's at the program's end of output, even
      // if the peer goes on sending.
      std.writerExit().thenRun(() -> done.complete(null));
    } catch (BrokenPipeException | ConnectionResetException e) {
      if (!tls12) { // TLS 1.2: the receive says whether the peer ended the session cleanly
        done.completeExceptionally(e);
      }
    } catch (IOException | RuntimeException e) {
      done.completeExceptionally(e);
    }
  }

  private void directionDone() {
    if (moving.decrementAndGet() == 0) {
      done.complete(null);
    }
  }

  private void endOfInput() throws IOException {
    if (!datagram && !options.noShutdown && !done.isDone()) {
      try {
        conn.shutdown(Shutdown.SHUT_WR);
      } catch (ErrnoException e) {
        throw e.errno() == Errno.ENOTCONN && e.address() != null ? resetBeforeShutdown(e) : e;
      }
    }
    lastReceived = System.nanoTime();
    stdinEnded = true;
    inputEnd.complete(null);
  }

  /**
   * A half-close that found the connection gone (Linux and Python say ENOTCONN): the peer reset it,
   * as a peer that has closed does when more data comes (what stdin gave last), and the reset came
   * before the half-close. Said as the reset it is, on the data sent ({@code send to …: connection
   * reset by peer}, as when the reset comes a moment sooner), not as "transport endpoint is not
   * connected", which reads as a connection never made.
   */
  private static IOException resetBeforeShutdown(ErrnoException e) {
    var reset =
        new ConnectionResetException(
            "send to " + Diagnostics.where(e.address()) + ": connection reset by peer",
            e.address());
    reset.initCause(e);
    return reset;
  }
}
