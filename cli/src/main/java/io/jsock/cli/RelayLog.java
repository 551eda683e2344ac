package io.jsock.cli;

import java.nio.ByteBuffer;

/**
 * What {@code jsock relay} and {@code jsock broker} say on stderr: failures always, events with
 * {@code -v}, every chunk with {@code -vv}, and the bytes themselves with {@code -x}.
 */
final class RelayLog {
  private final Lines err;
  private final int verbosity;
  private final HexDump hex;

  RelayLog(Lines err, int verbosity, boolean hexDump) {
    this.err = err;
    this.verbosity = verbosity;
    this.hex = hexDump ? new HexDump(err) : null;
  }

  /** A failure worth seeing without {@code -v}. */
  void warn(String text) {
    err.line(text);
  }

  /** An event shown with {@code -v}: listening, connections opened and ended. */
  void verbose(String text) {
    if (verbosity >= 1) {
      err.line(text);
    }
  }

  /**
   * The listening line: shown with {@code -v}, and always when the port was 0, as {@code jsock
   * listen} does, since the port the system picked is known from it alone.
   */
  void listening(String text, boolean anyPort) {
    if (anyPort) {
      err.line(text);
    } else {
      verbose(text);
    }
  }

  /** A detail shown with {@code -vv}: each chunk passed on. */
  void debug(String text) {
    if (verbosity >= 2) {
      err.line(text);
    }
  }

  boolean isDebug() {
    return verbosity >= 2;
  }

  /** Dumps {@code data} with {@code -x}, leaving the buffer unchanged. */
  void dump(String header, ByteBuffer data) {
    if (hex != null) {
      hex.dump(header, data);
    }
  }
}
