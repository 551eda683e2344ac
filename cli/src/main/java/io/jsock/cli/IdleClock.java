package io.jsock.cli;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The idle clock of {@code connect}/{@code listen -i} and {@code relay --idle-timeout}: it runs
 * while no byte moves. {@code -i}'s stands still during a write to stdout under way ({@link
 * #writeBegins}), starting again when the write ends, as ncat's {@code -i} counts from the end of
 * its blocking write to stdout; a write to the peer, the relay's writes too, {@link #touch touch}
 * it at each part that goes, as socat's {@code -T} counts, so that a reader that has stopped taking
 * data (or vanished) ends the connection and a slow one does not.
 */
final class IdleClock {
  private volatile long lastActivity = System.nanoTime();
  private final AtomicInteger writesUnderWay = new AtomicInteger();

  /** Bytes moved: the clock starts again from now. */
  void touch() {
    lastActivity = System.nanoTime();
  }

  /** A write begins: the clock stands still until {@link #writeEnded} (call it in a finally). */
  void writeBegins() {
    writesUnderWay.incrementAndGet();
  }

  /** A write ended (done or failed): the clock starts again from now. */
  void writeEnded() {
    lastActivity = System.nanoTime();
    writesUnderWay.decrementAndGet();
  }

  /**
   * What is left of an idle timeout of {@code idleNanos} at {@code now}: all of it while a write is
   * under way; zero or less once it has run out.
   */
  long nanosLeft(long idleNanos, long now) {
    return writesUnderWay.get() > 0 ? idleNanos : lastActivity + idleNanos - now;
  }
}
