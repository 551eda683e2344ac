package io.jsock.cli;

/**
 * The pacing of {@code send --rate} and {@code relay --bandwidth}: each send is due its size's
 * worth of time at the rate after the previous one was due, or after it began if that was later.
 * Time lost while the peer took nothing is thus not made up with a burst above the rate afterwards.
 */
final class RatePacer {
  private final long rate;
  private long due;
  private boolean started;

  /** {@code rate}: bytes per second, above zero. */
  RatePacer(long rate) {
    this.rate = rate;
  }

  /**
   * Books {@code bytes} whose send began at {@code beganNanos} ({@link System#nanoTime}); returns
   * the time they are due to have gone, which the sender waits for before its next send.
   */
  long book(long bytes, long beganNanos) {
    long from = started && due - beganNanos > 0 ? due : beganNanos; // nanoTime may be negative
    started = true;
    due = from + (long) (bytes * 1e9 / rate);
    return due;
  }
}
