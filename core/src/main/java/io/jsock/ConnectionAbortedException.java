package io.jsock;

import java.net.SocketAddress;

/** The connection was aborted on this side (Python's {@code ConnectionAbortedError}). */
public final class ConnectionAbortedException extends java.net.SocketException
    implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#ECONNABORTED} and the address involved (which may be null). */
  public ConnectionAbortedException(String message, SocketAddress address) {
    this(message, Errno.ECONNABORTED, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public ConnectionAbortedException(String message, int errno, SocketAddress address) {
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
