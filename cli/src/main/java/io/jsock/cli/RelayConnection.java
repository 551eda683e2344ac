package io.jsock.cli;

import io.jsock.Family;
import io.jsock.Socket;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One relayed connection: a client and its target, the two {@link RelayPipe}s between them, and how
 * the pair ends. Each direction ends on its own (an end of stream is passed on as a half-close, so
 * the other direction may go on); the sockets close once both have ended. A failure in either
 * direction, such as a reset, resets both sides, so each peer sees what the other saw.
 */
final class RelayConnection {
  /**
   * How long a reset carried across waits, without a byte of what the relay holds for the other
   * peer going, before it throws the rest away; the idle timeout instead when one is given.
   */
  static final Duration DRAIN_PATIENCE = Duration.ofSeconds(5);

  /** How often a reset carried across looks how much it still holds for the other peer. */
  private static final long DRAIN_CHECK_MILLIS = 10;

  private final Socket client;
  private final Socket target;
  private final String name;
  private final RelayLog log;
  private final AtomicInteger openDirections = new AtomicInteger(2);
  private final AtomicBoolean ended = new AtomicBoolean();
  private final CountDownLatch endedLatch = new CountDownLatch(1);
  private final AtomicLong upBytes = new AtomicLong();
  private final AtomicLong downBytes = new AtomicLong();
  private final long startNanos = System.nanoTime();
  private final IdleClock idleClock = new IdleClock();
  private volatile Thread watchdog;
  private volatile Duration idle;

  /** The side a reset carried across waits to reset while its send queue drains, else null. */
  private volatile Socket draining;

  /** {@link #cutDrain} was called: a drain about to start does not (see {@link #draining}). */
  private volatile boolean drainCut;

  /** The relay is half-closing (or has half-closed) the client's side, the target's side. */
  private volatile boolean clientHalfClosed;

  private volatile boolean targetHalfClosed;

  RelayConnection(Socket client, Socket target, String name, RelayLog log) {
    this.client = client;
    this.target = target;
    this.name = name;
    this.log = log;
  }

  String name() {
    return name;
  }

  Socket client() {
    return client;
  }

  Socket target() {
    return target;
  }

  boolean hasEnded() {
    return ended.get();
  }

  /** Waits until the connection has ended, closed or reset. */
  void awaitEnd() throws InterruptedException {
    endedLatch.await();
  }

  /** Bytes moved: the idle timeout counts from here. */
  void touch() {
    idleClock.touch();
  }

  /** Counts {@code bytes} delivered up (client to target) or down, for the {@code -v} lines. */
  void delivered(boolean up, int bytes) {
    (up ? upBytes : downBytes).addAndGet(bytes);
  }

  private String counts() {
    return " (up " + upBytes.get() + " bytes, down " + downBytes.get() + " bytes)";
  }

  /** Notes, before its {@code shutdown(SHUT_WR)}, that the relay half-closes {@code side}. */
  void halfClosing(Socket side) {
    if (side == client) {
      clientHalfClosed = true;
    } else {
      targetHalfClosed = true;
    }
  }

  /** Whether the relay has begun to half-close {@code side} ({@link #halfClosing}). */
  boolean halfClosed(Socket side) {
    return side == client ? clientHalfClosed : targetHalfClosed;
  }

  /** One direction passed on its end of stream; the second to do so closes both sockets. */
  void directionFinished() {
    if (openDirections.decrementAndGet() == 0) {
      close("both directions ended");
    }
  }

  /** Closes both sides with a FIN (TLS: close_notify first); false if it had already ended. */
  boolean close(String why) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    log.verbose(name + " closed: " + why + counts());
    closeQuietly(client);
    closeQuietly(target);
    stopWatchdog();
    endedLatch.countDown();
    return true;
  }

  /**
   * Resets both sides: SO_LINGER 0, then close, so each peer's next read fails with a reset; while
   * a reset carried across drains, resets the side it waits on at once.
   */
  void reset(String why) {
    if (!ended.compareAndSet(false, true)) {
      cutDrain(why);
    } else {
      log.verbose(name + " reset: " + why + counts());
      resetQuietly(client);
      resetQuietly(target);
      stopWatchdog();
      endedLatch.countDown();
    }
  }

  /**
   * Carries a reset across: {@code gone} failed (its peer reset it, or a read or write on it
   * failed), so it is reset at once; the other side is reset once its peer has had the bytes the
   * relay already wrote to it, as a direct connection delivers the bytes sent before a reset (a
   * close with SO_LINGER 0 throws away what the kernel still holds). The wait goes on while those
   * bytes go, and ends when none went for the idle timeout ({@link #DRAIN_PATIENCE} without one);
   * where the kernel cannot be asked (the portable path) the reset is at once. A {@link #reset}
   * meanwhile (an interrupt, {@code --reset-after}), the relay's shutdown or {@code --timeout}
   * resets it at once ({@link #cutDrain}): the reset is what that peer has coming.
   */
  void resetFrom(Socket gone, String why) {
    if (ended.compareAndSet(false, true)) {
      log.verbose(name + " reset: " + why + counts());
      Socket other = gone == client ? target : client;
      resetQuietly(gone);
      draining = other;
      if (!drainCut) { // else cutDrain came first, and may not have seen `draining`
        drain(other);
      }
      draining = null;
      resetQuietly(other);
      stopWatchdog();
      endedLatch.countDown();
    }
  }

  /**
   * Resets at once the side a reset carried across is draining, if one is: the drain then finds it
   * closed, and ends ({@link #drain}). For an interrupt or shutdown of the relay, and the
   * watchdog's connection deadlines.
   */
  void cutDrain(String why) {
    drainCut = true;
    Socket socket = draining;
    if (socket != null) {
      log.verbose(name + " reset at once: " + why + counts());
      resetQuietly(socket);
    }
  }

  /** Waits until {@code socket}'s send queue is empty, or stands still (see {@link #resetFrom}). */
  private void drain(Socket socket) {
    if (socket.family() == Family.AF_UNIX) {
      return; // a close throws nothing away there: the peer reads what was sent
    }
    Duration given = idle;
    long patience = (given != null ? given : DRAIN_PATIENCE).toNanos();
    try {
      int left = socket.unsentBytes();
      long moved = System.nanoTime();
      while (left > 0 && System.nanoTime() - moved < patience) {
        Thread.sleep(DRAIN_CHECK_MILLIS);
        int now = socket.unsentBytes();
        if (now < left) {
          moved = System.nanoTime();
        }
        left = now;
      }
    } catch (IOException | UnsupportedOperationException e) {
      // closed meanwhile, or the portable path: reset now
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Ends the connection at the first of these, when given: {@code resetAfter} from the start (a
   * reset), {@code timeout} from the start (a close), or {@code idle} without bytes moving (a
   * close; each part of a write that goes is bytes moving, see {@link RelayPipe}). Runs on its own
   * virtual thread until the connection ends.
   */
  void watch(Duration resetAfter, Duration timeout, Duration idle) {
    this.idle = idle;
    if (resetAfter == null && timeout == null && idle == null) {
      return;
    }
    watchdog =
        Thread.ofVirtual()
            .name("relay watchdog " + name)
            .start(() -> runWatchdog(resetAfter, timeout, idle));
  }

  private void runWatchdog(Duration resetAfter, Duration timeout, Duration idle) {
    try {
      // on while a reset carried across drains: the connection's deadlines bound it too (the
      // drain has the idle timeout as its own patience)
      while (endedLatch.getCount() > 0) {
        long now = System.nanoTime();
        long wait = Long.MAX_VALUE;
        if (resetAfter != null) {
          long left = startNanos + resetAfter.toNanos() - now;
          if (left <= 0) {
            reset("--reset-after " + Durations.format(resetAfter));
            return;
          }
          wait = Math.min(wait, left);
        }
        if (timeout != null) {
          long left = startNanos + timeout.toNanos() - now;
          if (left <= 0) {
            if (!close("--timeout " + Durations.format(timeout))) {
              cutDrain("--timeout " + Durations.format(timeout)); // a reset is being carried
            }
            return;
          }
          wait = Math.min(wait, left);
        }
        if (idle != null && !ended.get()) {
          long left = idleClock.nanosLeft(idle.toNanos(), now);
          if (left <= 0) {
            close("idle for " + Durations.format(idle));
            return;
          }
          wait = Math.min(wait, left);
        }
        Thread.sleep(Duration.ofNanos(Math.max(wait, 1_000_000)));
      }
    } catch (InterruptedException e) {
      // the connection ended
    }
  }

  private void stopWatchdog() {
    Thread thread = watchdog;
    if (thread != null && thread != Thread.currentThread()) {
      thread.interrupt();
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing a socket the peer already reset: nothing is left to tell
    }
  }

  static void resetQuietly(Socket socket) {
    try {
      socket.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException | IllegalArgumentException e) {
      // AF_UNIX has no SO_LINGER (and no reset): a close is the nearest thing
    }
    closeQuietly(socket);
  }
}
