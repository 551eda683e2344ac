package io.jsock;

import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * A host or service name could not be resolved (Python's {@code socket.gaierror} and {@code
 * socket.herror}). {@link #errno()} is the {@code getaddrinfo} error code, negative as in Python
 * ({@link Errno#EAI_NONAME}, {@link Errno#EAI_ADDRFAMILY}, …); for a lookup that a system call
 * failed (glibc's {@code EAI_SYSTEM}, Python's {@code OSError}) it is that call's errno, positive
 * ({@link Errno#EMFILE} when out of descriptors), where jsock can ask libc (the epoll path), and
 * {@link Errno#EAI_SYSTEM} elsewhere.
 */
public final class AddressResolutionException extends UnknownHostException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with a {@code getaddrinfo} error code and the address being resolved. */
  public AddressResolutionException(String message, int errno, SocketAddress address) {
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
