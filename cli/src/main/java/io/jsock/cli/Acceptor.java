package io.jsock.cli;

import io.jsock.Accepted;
import io.jsock.Socket;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The accept loop's one call for {@code jsock relay}, {@code jsock broker} and {@code jsock
 * listen}: a failed accept (such as running out of file descriptors) is said once on stderr and
 * retried after a back-off of 10 ms doubling up to a second, instead of ending the listener or
 * spinning.
 */
final class Acceptor {
  private static final Duration FIRST = Duration.ofMillis(10);
  private static final Duration MOST = Duration.ofSeconds(1);

  private final Socket listener;
  private final Consumer<String> warn;

  /** {@code warn} takes the lines to say on stderr whatever the verbosity. */
  Acceptor(Socket listener, Consumer<String> warn) {
    this.listener = listener;
    this.warn = warn;
  }

  /** The next connection; throws only once the listener is closed. */
  Accepted accept() throws IOException {
    Duration backoff = FIRST;
    while (true) {
      try {
        Accepted accepted = listener.accept();
        if (backoff != FIRST) {
          warn.accept("accept: accepting again");
        }
        return accepted;
      } catch (IOException e) {
        if (listener.isClosed()) {
          throw e;
        }
        if (backoff == FIRST) {
          warn.accept(e.getMessage() + "; accepting again in " + Durations.format(backoff));
        }
        sleep(backoff);
        backoff = backoff.multipliedBy(2).compareTo(MOST) > 0 ? MOST : backoff.multipliedBy(2);
      }
    }
  }

  private static void sleep(Duration backoff) throws IOException {
    try {
      Thread.sleep(backoff);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("accept interrupted");
    }
  }
}
