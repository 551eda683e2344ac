package io.jsock;

import java.net.SocketAddress;

/**
 * The peer reset the connection (Python's {@code ConnectionResetError}): it closed with data
 * unread, or aborted.
 */
public final class ConnectionResetException extends java.net.SocketException
    implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#ECONNRESET} and the address involved (which may be null). */
  public ConnectionResetException(String message, SocketAddress address) {
    this(message, Errno.ECONNRESET, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public ConnectionResetException(String message, int errno, SocketAddress address) {
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
