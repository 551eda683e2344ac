package io.jsock;

import java.net.SocketAddress;

/** A non-blocking socket's operation would have had to wait (Python's {@code BlockingIOError}). */
public final class WouldBlockException extends java.net.SocketException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#EAGAIN} and the address involved (which may be null). */
  public WouldBlockException(String message, SocketAddress address) {
    this(message, Errno.EAGAIN, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public WouldBlockException(String message, int errno, SocketAddress address) {
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
