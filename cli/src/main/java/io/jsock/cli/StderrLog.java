package io.jsock.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Shows what the library logs ({@code System.Logger} {@code io.jsock…}, through the JDK's {@code
 * java.util.logging}) as one line each on stderr, in the command's own style: {@code jsock: accept
 * on 127.0.0.1:12345: too many open files; accepting again in 10 ms}.
 *
 * <p>The lines are made without dates or time zones on purpose: the JDK's default format loads the
 * time-zone database from a file, and a server short of file descriptors must still be able to say
 * so.
 */
final class StderrLog extends Handler {
  /** Held, because {@code java.util.logging} keeps loggers only weakly. */
  private static final Logger JSOCK = Logger.getLogger("io.jsock");

  private final Lines err;

  private StderrLog(Lines err) {
    this.err = err;
  }

  /** Sends INFO and above from jsock's loggers to {@code err}, and nowhere else. */
  static void install(Lines err) {
    JSOCK.setUseParentHandlers(false);
    JSOCK.setLevel(Level.INFO);
    for (Handler old : JSOCK.getHandlers()) {
      JSOCK.removeHandler(old);
    }
    JSOCK.addHandler(new StderrLog(err));
  }

  @Override
  public void publish(LogRecord record) {
    if (!isLoggable(record)) {
      return;
    }
    err.line(record.getMessage());
    if (record.getThrown() != null && record.getLevel().intValue() >= Level.WARNING.intValue()) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      trace.toString().lines().forEach(err::line);
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
