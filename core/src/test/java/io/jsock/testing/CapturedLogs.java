package io.jsock.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The records a {@link System.Logger} writes while a test runs, captured through {@code
 * java.util.logging} (the JDK's default backend for {@code System.Logger}), every level included;
 * meanwhile they are not printed.
 *
 * <pre>{@code
 * try (CapturedLogs logs = CapturedLogs.of("io.jsock.server")) {
 *   ...
 *   assertThat(logs.at(Level.WARNING)).hasSize(1);
 * }
 * }</pre>
 */
public final class CapturedLogs extends Handler implements AutoCloseable {
  private final Logger logger; // held: java.util.logging keeps loggers only weakly
  private final Level previous;
  private final boolean parentHandlers;
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();

  private CapturedLogs(Logger logger) {
    this.logger = logger;
    this.previous = logger.getLevel();
    this.parentHandlers = logger.getUseParentHandlers();
    setLevel(Level.ALL);
    logger.setLevel(Level.ALL);
    logger.setUseParentHandlers(false); // captured, not printed
    logger.addHandler(this);
  }

  /** Starts capturing what {@code System.getLogger(name)} logs. */
  public static CapturedLogs of(String name) {
    return new CapturedLogs(Logger.getLogger(name));
  }

  /** Every record so far. */
  public List<LogRecord> all() {
    return List.copyOf(records);
  }

  /** The records at exactly {@code level} so far ({@code WARNING}, {@code INFO}, {@code FINE}). */
  public List<LogRecord> at(Level level) {
    return records.stream().filter(r -> r.getLevel().equals(level)).toList();
  }

  @Override
  public void publish(LogRecord record) {
    records.add(record);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(previous);
    logger.setUseParentHandlers(parentHandlers);
  }
}
