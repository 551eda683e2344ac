package io.jsock;

import java.net.SocketAddress;

/**
 * The peer refused the connection (Python's {@code ConnectionRefusedError}): nothing listens at the
 * address, or a connected UDP socket got ICMP port-unreachable.
 */
public final class ConnectionRefusedException extends java.net.ConnectException
    implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#ECONNREFUSED} and the address involved (which may be null). */
  public ConnectionRefusedException(String message, SocketAddress address) {
    this(message, Errno.ECONNREFUSED, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public ConnectionRefusedException(String message, int errno, SocketAddress address) {
    super(message);
    this.errno = errno;
    this.address = address;
  }

  @Override
  public int errno() {
    return errno;
  }

  @Override
  public SocketAddress address() {
    return address;
  }
}
