package io.jsock.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Output written a line at a time and flushed at once, so that a script or a person can wait for a
 * line (such as the server's banner) before going on. Lines from several threads never interleave.
 */
final class Lines {
  private final PrintWriter out;
  private final String prefix;

  /** Whether a line that cannot be written fails (stdout), or is lost (stderr: nowhere to say). */
  private final boolean failsUnwritten;

  Lines(PrintWriter out) {
    this(out, "", false);
  }

  private Lines(PrintWriter out, String prefix, boolean failsUnwritten) {
    this.out = out;
    this.prefix = prefix;
    this.failsUnwritten = failsUnwritten;
  }

  /**
   * The command's stdout, where a line that cannot be written (a full disk, a closed stdout, a
   * reader gone) fails the command, {@link UncheckedIOException} "write to stdout failed", exit 1,
   * as Python's {@code print} does: picocli's writer would lose it, and the command exit 0.
   */
  static Lines stdout(CommandLine command) {
    return new Lines(command.getOut(), "", true);
  }

  /** The same output with every line prefixed, as {@code jsock demo} tells its two ends apart. */
  Lines prefixed(String prefix) {
    return new Lines(out, this.prefix + prefix, failsUnwritten);
  }

  void line(String text) {
    synchronized (out) {
      out.println(prefix + text);
      out.flush();
      // the JDK's writers keep no cause, only that a write failed
      if (failsUnwritten && out.checkError()) {
        throw new UncheckedIOException(new IOException("write to stdout failed"));
      }
    }
  }
}
