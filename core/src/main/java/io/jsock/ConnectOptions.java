package io.jsock;

import io.jsock.internal.Addresses;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;

/**
 * How {@link Sockets#createConnection(SocketAddress, ConnectOptions)} connects: the keyword
 * arguments of Python's {@code create_connection}.
 *
 * <pre>{@code
 * ConnectOptions options = ConnectOptions.defaults()
 *     .withTimeout(Duration.ofSeconds(2))
 *     .withSourceAddress(new InetSocketAddress("127.0.0.2", 0));
 * }</pre>
 *
 * @param timeout the mode of each attempt and of the returned socket: {@code null} for blocking, or
 *     positive
 * @param sourceAddress the local address to bind before connecting, an {@link InetSocketAddress}
 *     (resolved or not), or {@code null} to let the kernel choose
 * @param allErrors when every attempt fails: {@code false} throws the last attempt's error, as
 *     Python's (the earlier ones suppressed in it), {@code true} an {@link ErrnoException} that
 *     names every attempt's error in its message (and holds them all as suppressed), as Python's
 *     {@code all_errors}, with the first attempt's errno ({@link Errno#ETIMEDOUT} if it timed out)
 */
public record ConnectOptions(Duration timeout, SocketAddress sourceAddress, boolean allErrors) {
  /** Checks the timeout and the source address. */
  public ConnectOptions {
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("timeout must be positive or null: " + timeout);
    }
    if (sourceAddress != null && !(sourceAddress instanceof InetSocketAddress)) {
      throw new IllegalArgumentException(
          "sourceAddress: an InetSocketAddress, not " + Addresses.format(sourceAddress));
    }
  }

  /**
   * The default timeout ({@link Sockets#getDefaultTimeout()}; blocking if that is non-blocking,
   * which a connect cannot wait in), no source address, the last error.
   */
  public static ConnectOptions defaults() {
    Duration timeout = Sockets.getDefaultTimeout();
    return new ConnectOptions(timeout == null || timeout.isZero() ? null : timeout, null, false);
  }

  /** These options with another timeout. */
  public ConnectOptions withTimeout(Duration timeout) {
    return new ConnectOptions(timeout, sourceAddress, allErrors);
  }

  /** These options with a source address. */
  public ConnectOptions withSourceAddress(SocketAddress sourceAddress) {
    return new ConnectOptions(timeout, sourceAddress, allErrors);
  }

  /**
   * These options with the source address {@code (host, port)}, as Python's {@code
   * source_address=(host, port)}: the host resolved when connecting, port 0 for any.
   */
  public ConnectOptions withSourceAddress(String host, int port) {
    return withSourceAddress(Addresses.unresolved(host, port));
  }

  /** These options reporting all errors, or only the last. */
  public ConnectOptions withAllErrors(boolean allErrors) {
    return new ConnectOptions(timeout, sourceAddress, allErrors);
  }
}
