package io.jsock.server;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * The server framework's log, {@link System.Logger} {@code "io.jsock.server"}, whose lines never
 * cost the server its work: a line that cannot be built or written (a log handler that throws, no
 * memory left to build it) is lost, where it would have ended an accept loop while the server said
 * it ran, or left a listener open after {@code start} threw.
 */
final class ServerLog {
  private static final Logger LOG = System.getLogger("io.jsock.server");

  private ServerLog() {}

  static void log(Level level, String message) {
    try {
      LOG.log(level, message);
    } catch (RuntimeException | Error lost) {
      // the line is lost; the work goes on
    }
  }

  static void log(Level level, Supplier<String> message) {
    try {
      LOG.log(level, message);
    } catch (RuntimeException | Error lost) {
      // the line is lost; the work goes on
    }
  }

  static void log(Level level, Supplier<String> message, Throwable thrown) {
    try {
      LOG.log(level, message, thrown);
    } catch (RuntimeException | Error lost) {
      // the line is lost; the work goes on
    }
  }
}
