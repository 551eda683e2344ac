package io.jsock;

import java.time.Duration;

/**
 * Python's {@code socket} module functions, as static methods (as {@code java.nio.file.Files} is
 * for files).
 *
 * <pre>{@code
 * Sockets.setDefaultTimeout(Duration.ofSeconds(5));   // every new socket starts in timeout mode
 * }</pre>
 */
public final class Sockets {
  /** The default timeout in nanoseconds, in {@link Socket}'s encoding (-1 for blocking). */
  private static volatile long defaultTimeoutNanos = Timeouts.BLOCKING;

  private Sockets() {}

  /**
   * The timeout new sockets start with: {@code null} for blocking (the initial value), {@link
   * Duration#ZERO} for non-blocking, or a positive duration.
   */
  public static Duration getDefaultTimeout() {
    return Timeouts.toDuration(defaultTimeoutNanos);
  }

  /**
   * Sets the timeout that sockets created from now on start with, including the sockets {@link
   * Socket#accept()} returns, as Python's {@code socket.setdefaulttimeout}.
   *
   * @param timeout {@code null} for blocking, {@link Duration#ZERO} for non-blocking, or positive
   * @throws IllegalArgumentException if the timeout is negative
   */
  public static void setDefaultTimeout(Duration timeout) {
    defaultTimeoutNanos = Timeouts.toNanos(timeout);
  }

  static long defaultTimeoutNanos() {
    return defaultTimeoutNanos;
  }
}
