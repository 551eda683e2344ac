package io.jsock.server;

import java.lang.System.Logger.Level;

/**
 * A message that may recur thousands of times a second (accept failing for want of file
 * descriptors, connections refused at the limit), logged at most once a second with a count of the
 * ones left out, so that the log itself cannot become the next thing to run out. Each line stands
 * for itself and the count it gives; the ones left out after the last line are told by {@link
 * #flush}.
 */
final class ThrottledLog {
  private static final long INTERVAL_NANOS = 1_000_000_000L;

  private final Level level;
  private long lastNanos;
  private boolean logged;
  private long skipped;
  private String lastSkipped;

  ThrottledLog(Level level) {
    this.level = level;
  }

  synchronized void log(String message) {
    long now = System.nanoTime();
    if (logged && now - lastNanos < INTERVAL_NANOS) {
      skipped++;
      lastSkipped = message;
      return;
    }
    report(message, skipped);
    logged = true;
    lastNanos = now;
  }

  /**
   * Tells the ones left out since the last line, if any, as the last of them with the count of the
   * others: without it, a burst within a second was one line saying one, however many followed.
   */
  synchronized void flush() {
    if (skipped > 0) {
      report(lastSkipped, skipped - 1);
    }
  }

  private void report(String message, long others) {
    ServerLog.log(
        level, others == 0 ? message : message + " (" + others + " more since the last report)");
    skipped = 0;
    lastSkipped = null;
  }
}
