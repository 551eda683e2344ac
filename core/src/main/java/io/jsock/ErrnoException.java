package io.jsock;

import java.net.SocketAddress;

/**
 * Any other operating-system error on a socket (Python's plain {@code OSError}), with its {@link
 * #errno()}.
 */
public final class ErrnoException extends java.net.SocketException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#EIO} and the address involved (which may be null). */
  public ErrnoException(String message, SocketAddress address) {
    this(message, Errno.EIO, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public ErrnoException(String message, int errno, SocketAddress address) {
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
