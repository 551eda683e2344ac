package io.jsock;

import java.time.Duration;

/** Python's three timeout modes encoded in one {@code long} of nanoseconds, for the hot path. */
final class Timeouts {
  /** Blocking mode: wait as long as it takes ({@code settimeout(None)}). */
  static final long BLOCKING = -1;

  /** Non-blocking mode: never wait ({@code settimeout(0.0)}). */
  static final long NON_BLOCKING = 0;

  /**
   * A deadline not started yet: the hot paths try their operation first and start the deadline only
   * when it has to wait (or, in {@code sendAll}, once the first write leaves data behind), so a
   * call that completes at once reads no clock.
   */
  static final long NOT_STARTED = Long.MIN_VALUE;

  private Timeouts() {}

  static long toNanos(Duration timeout) {
    if (timeout == null) {
      return BLOCKING;
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    try {
      return timeout.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE; // some 292 years: as good as blocking, still a timeout
    }
  }

  static Duration toDuration(long nanos) {
    return nanos == BLOCKING ? null : Duration.ofNanos(nanos);
  }

  /**
   * The deadline of an operation starting now, as a {@link System#nanoTime()} value, or {@link
   * Long#MAX_VALUE} for none. Computed once per call, so that a call which waits several times (as
   * {@code sendAll} does) is bounded as a whole.
   */
  static long deadline(long timeoutNanos) {
    if (timeoutNanos <= 0) {
      return Long.MAX_VALUE;
    }
    // Capped so that the sum cannot wrap around: deadlines are compared by subtraction.
    long deadline = System.nanoTime() + Math.min(timeoutNanos, Long.MAX_VALUE / 4);
    if (deadline == Long.MAX_VALUE) {
      return deadline - 1;
    }
    return deadline == NOT_STARTED ? deadline + 1 : deadline;
  }

  /** Whether a deadline from {@link #deadline(long)} has passed; one not started has not. */
  static boolean hasPassed(long deadline) {
    return deadline != Long.MAX_VALUE
        && deadline != NOT_STARTED
        && System.nanoTime() - deadline >= 0;
  }
}
