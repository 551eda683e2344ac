package io.jsock;

import java.net.SocketAddress;

/**
 * The socket was used after {@link Socket#close()} (Python's {@code OSError} with {@code EBADF}).
 */
public final class ClosedSocketException extends java.net.SocketException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#EBADF} and the address involved (which may be null). */
  public ClosedSocketException(String message, SocketAddress address) {
    this(message, Errno.EBADF, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public ClosedSocketException(String message, int errno, SocketAddress address) {
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
