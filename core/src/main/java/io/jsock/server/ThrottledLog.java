package io.jsock.server;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A message that may recur thousands of times a second (accept failing for want of file
 * descriptors, connections refused at the limit), logged at most once a second with a count of the
 * ones left out, so that the log itself cannot become the next thing to run out.
 */
final class ThrottledLog {
  private static final long INTERVAL_NANOS = 1_000_000_000L;

  private final Logger logger;
  private final Level level;
  private long lastNanos;
  private boolean logged;
  private long skipped;

  ThrottledLog(Logger logger, Level level) {
    this.logger = logger;
    this.level = level;
  }

  synchronized void log(String message) {
    long now = System.nanoTime();
    if (logged && now - lastNanos < INTERVAL_NANOS) {
      skipped++;
      return;
    }
    logger.log(
        level, skipped == 0 ? message : message + " (" + skipped + " more since the last report)");
    logged = true;
    lastNanos = now;
    skipped = 0;
  }
}
