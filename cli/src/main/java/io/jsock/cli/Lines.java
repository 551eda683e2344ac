package io.jsock.cli;

import java.io.PrintWriter;

/**
 * Output written a line at a time and flushed at once, so that a script or a person can wait for a
 * line (such as the server's banner) before going on. Lines from several threads never interleave.
 */
final class Lines {
  private final PrintWriter out;
  private final String prefix;

  Lines(PrintWriter out) {
    this(out, "");
  }

  private Lines(PrintWriter out, String prefix) {
    this.out = out;
    this.prefix = prefix;
  }

  /** The same output with every line prefixed, as {@code jsock demo} tells its two ends apart. */
  Lines prefixed(String prefix) {
    return new Lines(out, this.prefix + prefix);
  }

  void line(String text) {
    synchronized (out) {
      out.println(prefix + text);
      out.flush();
    }
  }
}
