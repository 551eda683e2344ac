package io.jsock.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What the loops of jsock's own threads (the pollers, the lanes and their master, the timeout
 * timer) do with an error they did not expect, such as an exception out of waking a thread or an
 * {@link OutOfMemoryError}: report it and go on. A loop that ended instead would leave the threads
 * it serves parked for good. Each loop then wakes every thread whose wakeup the failure may have
 * lost; they retry their calls, and wait again if they still cannot proceed.
 */
final class LoopFailures {
  /**
   * How long a loop pauses after a failure before it goes on, so that one that fails at every turn
   * reports ten times a second rather than spinning.
   */
  private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private LoopFailures() {}

  /**
   * Hands {@code failure} to the current thread's uncaught-exception handler (by default, printed
   * on standard error with the thread's name), then pauses. A failure of the handler or of the
   * pause itself (no memory to print, or for a virtual thread's timer) is dropped: the loop must go
   * on all the same.
   */
  static void reportAndPause(Throwable failure) {
    Thread current = Thread.currentThread();
    try {
      current.getUncaughtExceptionHandler().uncaughtException(current, failure);
    } catch (Throwable unreported) {
      // nothing left to report it with
    }
    try {
      LockSupport.parkNanos(PAUSE_NANOS);
    } catch (Throwable unpaused) {
      // on at once
    }
  }

  /**
   * Signals {@code waiters} after a failure, so that they retry (and one about to park does not),
   * reporting a failure to wake them instead of throwing it: the loop's other waiters are signalled
   * all the same.
   */
  static void signal(Waiters waiters) {
    try {
      waiters.signal();
    } catch (Throwable e) {
      reportAndPause(e);
    }
  }
}
