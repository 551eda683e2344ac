package io.jsock;

import java.net.SocketAddress;

/** The local address is taken (Python's {@code OSError} with {@code EADDRINUSE}). */
public final class AddressInUseException extends java.net.BindException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#EADDRINUSE} and the address involved (which may be null). */
  public AddressInUseException(String message, SocketAddress address) {
    this(message, Errno.EADDRINUSE, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public AddressInUseException(String message, int errno, SocketAddress address) {
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
