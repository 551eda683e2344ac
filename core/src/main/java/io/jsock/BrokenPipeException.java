package io.jsock;

import java.net.SocketAddress;

/** Writing to a connection whose peer has gone (Python's {@code BrokenPipeError}). */
public final class BrokenPipeException extends java.net.SocketException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with {@link Errno#EPIPE} and the address involved (which may be null). */
  public BrokenPipeException(String message, SocketAddress address) {
    this(message, Errno.EPIPE, address);
  }

  /** An exception with the given error number and the address involved (which may be null). */
  public BrokenPipeException(String message, int errno, SocketAddress address) {
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
